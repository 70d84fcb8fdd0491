"""Vault benchmark: the encrypted vault side by side with SQLCipher 4, plus compaction, unlock and kill -9 figures.

Run: ``.venv/bin/python bench/vault.py [--quick] [--sizes 1000,10000,100000]``; prints Markdown.

The peer is SQLCipher 4 (``sqlcipher3-binary``, in the dev extra), the encrypted
store Signal and most mobile health apps use, set up the way a durable app uses
it: WAL, ``synchronous=FULL``, one transaction per write, one table per record
kind with ``(id TEXT PRIMARY KEY, doc TEXT)`` holding each record's JSON. Both
sides get the same typed records (a realistic mix of Messages and
Appointments) and pay for turning them into stored form and back: SQLCipher
``json.dumps(record.to_dict())`` / ``from_dict(json.loads(doc))``; the vault its
repos (which also validate every record). Timings are medians of alternating
calls, so both sides see the same machine load.

Rows: a single durable upsert; a 500-record batch (+ a sync cursor) in one
transaction / one ``Vault.batch``; bytes on disk after compaction (SQLCipher:
after a WAL checkpoint; the vault: base + journal, and with the previous
generation it keeps for recovery); open + read everything with the KDF
excluded (SQLCipher: a raw key; the vault: a KeyProvider returning a
precomputed KEK) and with each side's default KDF; peak RSS of a fresh process
that opens and reads everything; what a compaction costs.

Targets (issue 13): single upsert <= 1.5x SQLCipher at every size and flat
(100k / 1k <= 1.5); 500-record batch <= SQLCipher; bytes after compaction <=
1.2x; open + read all at 100k, KDF excluded, <= SQLCipher; kill -9 over >= 1,000
trials: 0 unreadable, 0 committed writes lost.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for tests.support.crash_writer (the shared kill -9 harness)

import sqlcipher3  # noqa: E402

from companion.core.models import Appointment, Message  # noqa: E402
from companion.vault import PasscodeKeyProvider, ScryptParams, Vault  # noqa: E402
from tests.support.crash_writer import run_stock_trials, run_trials  # noqa: E402

PASSCODE = "benchmark passcode 1"
RAW_KEY = "x'" + "2d" * 32 + "'"  # SQLCipher raw key: no KDF
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def random_text(rng: random.Random) -> str:
    """A message body of random words (10-40 of 2-9 letters): it compresses worse than real text (1.5x), so the
    bytes-on-disk row is no better than what a patient's vault would show."""
    words = ("".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9))) for _ in range(rng.randint(10, 40)))
    return " ".join(words).capitalize() + "."


def make_records(n: int) -> tuple[list[Message], list[Appointment]]:
    rng = random.Random(n)
    messages = [Message(id=f"msg_{i:06d}", thread=rng.choice(("general", "billing", "results")),
                        author=rng.choice(("clinic", "patient")),
                        body=random_text(rng),
                        sent_at=T0 + timedelta(minutes=i), author_name="Nurse Jo", read_at=None)
                for i in range(n - n // 2)]
    appointments = [Appointment(id=f"apt_{i:06d}", start=T0 + timedelta(days=i % 300, hours=i % 9), minutes=30,
                                visit_kind="Sexual health check-up", status="scheduled", location="Clinic room 4",
                                provider="Dr. A. Lee", what_to_bring="Photo ID and insurance card",
                                sensitive=bool(i % 2), note=None)
                    for i in range(n // 2)]
    return messages, appointments


def paired_medians(peer: Callable[[], object], ours: Callable[[], object], reps: int) -> tuple[float, float]:
    """Medians of alternating calls, so both sides see the same machine load (fsync times vary a lot)."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(reps):
        for side, fn in enumerate((peer, ours)):
            started = time.perf_counter()
            fn()
            times[side].append(time.perf_counter() - started)
    return statistics.median(times[0]), statistics.median(times[1])


class PrecomputedKek(PasscodeKeyProvider):
    """Derives once per (passcode, salt, params), so timed opens measure everything but the KDF."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, bytes, ScryptParams], bytes] = {}

    def derive_kek(self, passcode: str, salt: bytes, params: ScryptParams) -> bytes:
        key = (passcode, salt, params)
        if key not in self._cache:
            self._cache[key] = super().derive_kek(passcode, salt, params)
        return self._cache[key]


# --- the SQLCipher side ------------------------------------------------------------------


def sqlcipher_open(path: Path, key: str) -> Any:
    """``key``: a raw key literal (``x'…'``, no KDF) or a passphrase (SQLCipher's default KDF)."""
    db = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False)
    db.execute(f'PRAGMA key = "{key}"' if key.startswith("x'") else f"PRAGMA key = '{key}'")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    return db


def sqlcipher_create(path: Path, messages: list[Message], appointments: list[Appointment]) -> Any:
    db = sqlcipher_open(path, RAW_KEY)
    for table in ("message", "appointment", "meta"):
        db.execute(f"CREATE TABLE {table} (id TEXT PRIMARY KEY, doc TEXT NOT NULL)")
    db.execute("BEGIN")
    db.executemany("INSERT INTO message VALUES (?, ?)", ((m.id, json.dumps(m.to_dict())) for m in messages))
    db.executemany("INSERT INTO appointment VALUES (?, ?)", ((a.id, json.dumps(a.to_dict())) for a in appointments))
    db.execute("COMMIT")
    return db


_UPSERT = "INSERT INTO {} (id, doc) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc"


def sqlcipher_upsert(db: Any, message: Message) -> None:
    db.execute("BEGIN")
    db.execute(_UPSERT.format("message"), (message.id, json.dumps(message.to_dict())))
    db.execute("COMMIT")


def sqlcipher_read_all(db: Any) -> tuple[list[Message], list[Appointment]]:
    messages = [Message.from_dict(json.loads(doc)) for (doc,) in db.execute("SELECT doc FROM message")]
    appointments = [Appointment.from_dict(json.loads(doc)) for (doc,) in db.execute("SELECT doc FROM appointment")]
    return messages, appointments


def sqlcipher_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.iterdir() if p.name.startswith(path.name))


# --- one size -------------------------------------------------------------------------


def bench_size(n: int, root: Path, reps: int) -> dict[str, tuple[float, float]]:
    messages, appointments = make_records(n)
    rng = random.Random(7)
    peer_path = root / f"sqlcipher-{n}" / "store.db"
    peer_path.parent.mkdir()
    peer = sqlcipher_create(peer_path, messages, appointments)
    folder = root / f"vault-{n}"
    vault = Vault.create(folder, PASSCODE, kdf=ScryptParams.fast())
    with vault.batch():
        vault.messages.upsert_many(messages)
        vault.appointments.upsert_many(appointments)
    vault.compact()
    rows: dict[str, tuple[float, float]] = {}

    def edited() -> Message:
        return replace(rng.choice(messages), body=f"edited {rng.random()}")

    rows["single durable upsert"] = paired_medians(lambda: sqlcipher_upsert(peer, edited()),
                                                   lambda: vault.messages.upsert(edited()), reps)

    def peer_batch() -> None:
        peer.execute("BEGIN")
        peer.executemany(_UPSERT.format("message"),
                         ((m.id, json.dumps(m.to_dict())) for m in (edited() for _ in range(500))))
        peer.execute(_UPSERT.format("meta"), ("sync.cursor", json.dumps({"value": f"c{rng.random()}"})))
        peer.execute("COMMIT")

    def ours_batch() -> None:
        with vault.batch():
            vault.messages.upsert_many(edited() for _ in range(500))
            vault.meta.set("sync.cursor", f"c{rng.random()}")

    rows["500-record batch + cursor"] = paired_medians(peer_batch, ours_batch, max(5, reps // 3))
    time.sleep(0.2)
    started = time.perf_counter()
    report = vault.compact()
    rows["compaction (whole vault, synchronous)"] = (float("nan"), time.perf_counter() - started)
    peer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    live = (folder / "vault.pcv").stat().st_size + (folder / "vault.pcj").stat().st_size
    kept = sum(p.stat().st_size for p in folder.iterdir() if p.name.startswith("vault.pc"))
    rows["bytes on disk after compaction: base + journal"] = (sqlcipher_bytes(peer_path), live)
    rows["bytes on disk: with the previous generation kept"] = (sqlcipher_bytes(peer_path), kept)
    del report
    peer.close()
    vault.close()
    warm = PrecomputedKek()

    def ours_open_read(provider: PasscodeKeyProvider) -> None:
        with Vault.open(folder, PASSCODE, key_provider=provider) as reopened:
            reopened.messages.all()
            reopened.appointments.all()

    def peer_open_read(key: str) -> None:
        db = sqlcipher_open(peer_path, key)
        sqlcipher_read_all(db)
        db.close()

    ours_open_read(warm)
    rows["open + read all, KDF excluded"] = paired_medians(lambda: peer_open_read(RAW_KEY),
                                                           lambda: ours_open_read(warm), max(3, reps // 4))
    return rows


def rss_of(side: str, n: int) -> float:
    """RSS (MiB) of a fresh process that built the store at ``n`` records, then opened it and holds all it read."""
    out = subprocess.run([sys.executable, __file__, "--rss-child", side, str(n)], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    return float(out.stdout.split()[-1])


def rss_child(side: str, n: int) -> None:
    with tempfile.TemporaryDirectory(prefix="vault-rss-") as tmp:
        messages, appointments = make_records(n)
        if side == "sqlcipher":
            path = Path(tmp) / "store.db"
            sqlcipher_create(path, messages, appointments).close()
            del messages, appointments
            db = sqlcipher_open(path, RAW_KEY)
            records: object = sqlcipher_read_all(db)  # held, as the vault holds what it read
        else:
            with Vault.create(Path(tmp) / "v", PASSCODE, kdf=ScryptParams.fast()) as vault, vault.batch():
                vault.messages.upsert_many(messages)
                vault.appointments.upsert_many(appointments)
            del messages, appointments
            vault = Vault.open(Path(tmp) / "v", PASSCODE)
            records = (vault.messages.all(), vault.appointments.all())
        # The resident size now, with the store open and everything read held in memory
        # (ru_maxrss would be the peak of the whole process, building the store included).
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        (db if side == "sqlcipher" else vault).close()
        del records
        print(pages * os.sysconf("SC_PAGE_SIZE") / 2**20)


def bench_unlock(root: Path, reps: int) -> tuple[float, float]:
    """Median default-KDF unlock of an empty vault, and an empty SQLCipher with its default KDF (PBKDF2 256k)."""
    Vault.create(root / "unlock", PASSCODE, kdf=ScryptParams.default()).close()
    path = root / "unlock-peer.db"
    peer = sqlcipher_open(path, PASSCODE)
    peer.execute("CREATE TABLE t (x)")
    peer.close()

    def peer_unlock() -> None:
        db = sqlcipher_open(path, PASSCODE)
        db.execute("SELECT count(*) FROM t").fetchall()
        db.close()

    peer_time, ours = paired_medians(peer_unlock, lambda: Vault.open(root / "unlock", PASSCODE).close(), reps)
    return peer_time, ours


def fmt(value: float, unit: str) -> str:
    if unit == "bytes":
        return f"{value / 2**20:.2f} MiB" if value >= 2**20 else f"{value / 1024:.0f} KiB"
    return f"{value * 1e3:.2f} ms" if value < 1 else f"{value:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repetitions and crash trials")
    parser.add_argument("--sizes", help="comma-separated record counts (default 1000,10000,100000)")
    parser.add_argument("--rss-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("COMPANION_KDF_LOG2N", "14")
    if args.rss_child:
        rss_child(args.rss_child[0], int(args.rss_child[1]))
        return
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([1000, 10_000] if args.quick
                                                                          else [1000, 10_000, 100_000])
    crash_trials, passcode_trials, stock_trials = (100, 20, 50) if args.quick else (1000, 100, 200)

    with tempfile.TemporaryDirectory(prefix="vault-bench-") as tmp:
        root = Path(tmp)
        version = sqlcipher3.connect(":memory:").execute("PRAGMA cipher_version").fetchone()[0]
        print(f"## Vault vs SQLCipher ({'quick' if args.quick else 'full'}; Python {sys.version.split()[0]}, "
              f"{os.cpu_count()} CPUs, SQLCipher {version}; load average {os.getloadavg()[0]:.1f})\n")
        print("| records | measure | SQLCipher | vault | vault/SQLCipher |")
        print("|---:|---|---:|---:|---:|")
        upserts: dict[int, float] = {}
        for n in sizes:
            reps = 15 if n >= 100_000 else (21 if args.quick else 41)
            for name, (peer, ours) in bench_size(n, root, reps).items():
                unit = "bytes" if name.startswith("bytes") else "s"
                if name == "single durable upsert":
                    upserts[n] = ours
                peer_text = "—" if peer != peer else fmt(peer, unit)
                ratio = "" if peer != peer else f"{ours / peer:.2f}×"
                print(f"| {n:,} | {name} | {peer_text} | {fmt(ours, unit)} | {ratio} |")
                sys.stdout.flush()
        if len(upserts) > 1:
            low, high = min(upserts), max(upserts)
            print(f"\nSingle upsert, {high:,} vs {low:,} records: {upserts[high] / upserts[low]:.2f}× (flat <= 1.5).")
        rss_n = max(sizes)
        print(f"\nRSS of a fresh process with {rss_n:,} records open and read: SQLCipher "
              f"{rss_of('sqlcipher', rss_n):.0f} MiB, vault {rss_of('vault', rss_n):.0f} MiB.")
        peer_unlock, unlock = bench_unlock(root, 3 if args.quick else 5)
        print(f"\nUnlock with each side's default KDF: SQLCipher (PBKDF2-SHA512 256k) {peer_unlock:.3f} s, vault "
              f"(scrypt 2^17, r=8) {unlock:.3f} s.\n")
        print("| kill -9 check | result | target |")
        print("|---|---:|---|")
        sys.stdout.flush()
        for mode, trials in (("writes", crash_trials), ("passcode", passcode_trials)):
            report = run_trials(root / f"crash-{mode}", mode, trials, seed=99)
            what = "during appends and compactions" if mode == "writes" else "during change_passcode"
            print(f"| {what}: unreadable / trials; committed writes lost | {report.unreadable} / {report.trials}; "
                  f"{len(report.problems)} problems ({report.writes_seen} committed writes checked, "
                  f"{report.compactions} compactions, {report.killed_mid_compaction} kills mid-compaction, "
                  f"{report.torn_frames} torn frames dropped; {report.seconds:.0f} s) | 0 |")
            for problem in report.problems[:5]:
                print(f"|   {problem} | | |")
            sys.stdout.flush()
        stock = run_stock_trials(root / "crash-stock", stock_trials, seed=99)
        print(f"| for comparison, stock TinyDB JSONStorage under the same kill -9 run: unparseable / trials | "
              f"{stock.unreadable} / {stock.trials} | (not ours) |")


if __name__ == "__main__":
    main()
