"""Vault benchmark: stock TinyDB ``JSONStorage`` vs the encrypted vault, plus batch, unlock and kill -9 figures.

Run: ``.venv/bin/python bench/vault.py [--quick]``; prints Markdown.

Both sides work with typed records, as the app does: stock upserts
``record.to_dict()`` by query on ``id`` and reads back through ``from_dict``;
the vault does the same behind its repos. Records are a realistic mix of
Messages and Appointments. Timings are medians. Stock writes in place (one
fsync); the vault seals the whole document with AES-256-GCM and installs a new
generation (temp file fsync, hard link to .bak, rename, folder fsync).

"open + read all" is shown with the KDF excluded (a KeyProvider that returns a
precomputed KEK, so the row measures file read, decrypt, parse and record
building) and including the cheapest KDF (2^14) used by tests; the unlock row
shows the default KDF (2^17) on its own.

Targets: ours/stock <= 1.5 at 1,000 records; a 500-record batch = 1 file write;
default unlock <= 0.6 s; 0 unreadable vaults after 1,000 kill -9 trials.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for tests.support.crash_writer (the shared kill -9 harness)

from tinydb import Query, TinyDB  # noqa: E402

from companion.core.models import Appointment, Message  # noqa: E402
from companion.vault import PasscodeKeyProvider, ScryptParams, Vault  # noqa: E402
from tests.support.crash_writer import run_stock_trials, run_trials  # noqa: E402

PASSCODE = "benchmark passcode 1"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def make_records(n: int) -> tuple[list[Message], list[Appointment]]:
    rng = random.Random(n)
    messages = [Message(id=f"msg_{i:06d}", thread=rng.choice(("general", "billing", "results")),
                        author=rng.choice(("clinic", "patient")),
                        body="Hello, this is a reminder that your results are ready. " * rng.randint(1, 4),
                        sent_at=T0 + timedelta(minutes=i), author_name="Nurse Jo", read_at=None)
                for i in range(n - n // 2)]
    appointments = [Appointment(id=f"apt_{i:06d}", start=T0 + timedelta(days=i % 300, hours=i % 9), minutes=30,
                                visit_kind="Sexual health check-up", status="scheduled", location="Clinic room 4",
                                provider="Dr. A. Lee", what_to_bring="Photo ID and insurance card",
                                sensitive=bool(i % 2), note=None)
                    for i in range(n // 2)]
    return messages, appointments


def median_time(fn: Callable[[], object], reps: int) -> float:
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def paired_medians(stock: Callable[[], object], ours: Callable[[], object], reps: int) -> tuple[float, float]:
    """Medians of alternating calls, so both sides see the same machine load (fsync times vary a lot)."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(reps):
        for side, fn in enumerate((stock, ours)):
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


def bench_size(n: int, root: Path, reps: int) -> list[tuple[str, float, float]]:
    messages, appointments = make_records(n)
    rng = random.Random(7)

    stock_path = root / f"stock-{n}.json"
    db = TinyDB(stock_path)
    db.table("message").insert_multiple(m.to_dict() for m in messages)
    db.table("appointment").insert_multiple(a.to_dict() for a in appointments)
    query = Query()

    def stock_upsert() -> None:
        record = replace(rng.choice(messages), body=f"edited {rng.random()}")
        db.table("message").upsert(record.to_dict(), query.id == record.id)

    def stock_all(database: TinyDB) -> int:
        return (len([Message.from_dict(d) for d in database.table("message").all()])
                + len([Appointment.from_dict(d) for d in database.table("appointment").all()]))

    def stock_open_read() -> None:
        database = TinyDB(stock_path)
        stock_all(database)
        database.close()

    folder = root / f"vault-{n}"
    vault = Vault.create(folder, PASSCODE, kdf=ScryptParams.fast())
    with vault.batch():
        vault.messages.upsert_many(messages)
        vault.appointments.upsert_many(appointments)

    def ours_upsert() -> None:
        vault.messages.upsert(replace(rng.choice(messages), body=f"edited {rng.random()}"))

    def ours_all() -> int:
        return len(vault.messages.all()) + len(vault.appointments.all())

    rows = [
        ("single-record upsert", *paired_medians(stock_upsert, ours_upsert, reps)),
        ("repeated all() (both kinds)", *paired_medians(lambda: stock_all(db), ours_all, reps)),
    ]
    db.close()
    vault.close()
    warm = PrecomputedKek()

    def ours_open_read(provider: PasscodeKeyProvider) -> None:
        with Vault.open(folder, PASSCODE, key_provider=provider) as reopened:
            reopened.messages.all()
            reopened.appointments.all()

    ours_open_read(warm)
    rows.append(("open + read all, KDF excluded", *paired_medians(stock_open_read, lambda: ours_open_read(warm), reps)))
    rows.append(("open + read all, incl. 2^14 KDF",
                 *paired_medians(stock_open_read, lambda: ours_open_read(PasscodeKeyProvider()), max(3, reps // 3))))
    return rows


def bench_batch(root: Path) -> tuple[int, float]:
    messages, _ = make_records(1000)
    with Vault.create(root / "batch", PASSCODE, kdf=ScryptParams.fast()) as vault:
        vault.messages.upsert_many(messages[:500])
        before = vault.file_writes
        started = time.perf_counter()
        with vault.batch():
            for message in messages[:500]:  # one by one on purpose: the batch must still write once
                vault.messages.upsert(replace(message, body="updated in a batch"))
            vault.meta.set("sync.cursor", "page-2")
        return vault.file_writes - before, time.perf_counter() - started


def bench_unlock(root: Path, reps: int) -> tuple[float, float]:
    """Median default-KDF unlock, and scrypt alone with the same parameters (the rest is the vault's)."""
    Vault.create(root / "unlock", PASSCODE, kdf=ScryptParams.default()).close()
    kdf, unlock = paired_medians(
        lambda: PasscodeKeyProvider().derive_kek(PASSCODE, b"s" * 16, ScryptParams.default()),
        lambda: Vault.open(root / "unlock", PASSCODE).close(), reps)
    return unlock, kdf


def fsync_latency(root: Path, reps: int = 21) -> float:
    """Median write + fsync of a 4 KiB file: how busy the disk is right now (stock does 1 per write, ours 2)."""
    path = root / "fsync-probe"

    def probe() -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"x" * 4096)
            os.fsync(fd)
        finally:
            os.close(fd)

    return median_time(probe, reps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repetitions and crash trials")
    args = parser.parse_args()
    sizes = (100, 1000) if args.quick else (100, 1000, 10_000)
    crash_trials, passcode_trials, stock_trials = (100, 20, 50) if args.quick else (1000, 100, 200)
    os.environ.setdefault("COMPANION_KDF_LOG2N", "14")

    with tempfile.TemporaryDirectory(prefix="vault-bench-") as tmp:
        root = Path(tmp)
        print(f"## Vault benchmark ({'quick' if args.quick else 'full'}; Python {sys.version.split()[0]}, "
              f"{os.cpu_count()} CPUs)\n")
        print(f"fsync latency at start: {fsync_latency(root) * 1e3:.2f} ms; load average "
              f"{os.getloadavg()[0]:.1f}. Stock writes in place with 1 fsync (not crash-safe); ours fsyncs the "
              "new generation and the folder (2). Stock and ours run alternately, medians shown.\n")
        print("| records | operation | stock TinyDB JSONStorage | ours (encrypted vault) | ours/stock |")
        print("|---:|---|---:|---:|---:|")
        for n in sizes:
            reps = 9 if n >= 10_000 else (15 if args.quick else 31)
            for name, stock, ours in bench_size(n, root, reps):
                print(f"| {n:,} | {name} | {stock * 1e3:.2f} ms | {ours * 1e3:.2f} ms | {ours / stock:.2f}x |")
            sys.stdout.flush()

        print(f"\nfsync latency after the table: {fsync_latency(root) * 1e3:.2f} ms; load average "
              f"{os.getloadavg()[0]:.1f}.")
        writes, seconds = bench_batch(root)
        unlock, kdf = bench_unlock(root, 3 if args.quick else 5)
        print("\n| check | result | target |")
        print("|---|---:|---|")
        print(f"| 500 upserts + cursor in one batch: file writes | {writes} ({seconds * 1e3:.0f} ms) | 1 |")
        print(f"| unlock with the default KDF (scrypt 2^17, r=8, p=1) | {unlock:.3f} s (scrypt alone {kdf:.3f} s) "
              "| <= 0.6 s |")
        sys.stdout.flush()
        for mode, trials in (("writes", crash_trials), ("passcode", passcode_trials)):
            report = run_trials(root / f"crash-{mode}", mode, trials, seed=99)
            what = "kill -9 during writes" if mode == "writes" else "kill -9 during change_passcode"
            print(f"| {what}: unreadable vaults / trials | {report.unreadable} / {report.trials} "
                  f"({len(report.problems)} other problems; {report.writes_seen} committed writes, "
                  f"{report.killed_mid_write} kills left a temp file, {report.split_key_slots} between the two "
                  f"renames; {report.seconds:.0f} s) | 0 |")
            for problem in report.problems[:5]:
                print(f"|   {problem} | | |")
            sys.stdout.flush()
        stock_report = run_stock_trials(root / "crash-stock", stock_trials, seed=99)
        print(f"| for comparison, stock TinyDB JSONStorage under the same kill -9 run: unparseable / trials | "
              f"{stock_report.unreadable} / {stock_report.trials} ({stock_report.writes_seen} committed writes) "
              "| (not ours) |")


if __name__ == "__main__":
    main()
