"""Sync benchmark: our engine against the PouchDB replication peer, same machine, same run.

    .venv/bin/python bench/sync.py            # 3 runs each, medians; ~3 minutes on 2 cores
    .venv/bin/python bench/sync.py --quick    # 1 run each, 20 live trials; ~1 minute
    .venv/bin/python bench/sync.py --no-peer  # ours only

Ours: the real clinic server (``companion.clinic.server``, SQLite, a subprocess on
127.0.0.1) and the real client (``synchronize`` / ``LiveSync`` over an encrypted
vault with the DEFAULT KDF; unlocking it is done before the clock starts, so it
is excluded from every timing). Records are ~500-byte appointments, bills,
results and messages seeded straight into the clinic database (not timed), like
the peer's documents. Wire bytes are counted on the client: status line,
headers and body as received, before decoding (both servers gzip large answers).

Peer: ``../shared/peers/pouchdb`` copied to a temp folder (``npm ci`` once,
cached there), ``node bench.js --json-only --runs 1`` with the same sizes and
trials after each of our runs: the two take turns, so a pair of runs sees the
machine at the same minutes (its speed drifts; the peer's live p50 went from
7.7 to 18.2 ms in one afternoon), and the table shows each pair's ratio too.
Its live latency is a server-side ``db.put`` to the change in the client's
local db; ours is a PSR's message through the staff API to the record
in the watching client's vault (one HTTP request more on our side), sent from a
process of its own as from the desk's computer. Both stamp the arrival itself
(ours: the live loop's ``applied``, as its vault write returns), not when the
writer's own call returns; our PSR's answer is timed beside.

Ratio = ours / peer (below 1 is better for us, on every row).

Where a live change's time goes is the second table (medians of the trials, milliseconds; see
:mod:`bench.live`).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.live import ASIDE, PARTS, live_latency  # noqa: E402
from companion.sync.client import build_client, pair, queue_mutation, synchronize  # noqa: E402
from companion.sync.push import push_outbox  # noqa: E402
from companion.sync.retry import RetryPolicy  # noqa: E402
from companion.vault import Vault  # noqa: E402
from tests.support.clinic_seed import seed_records  # noqa: E402
from tests.support.server_harness import ServerProcess  # noqa: E402

PASSCODE = "bench passcode 2026"
PEER = REPO.parent / "shared" / "peers" / "pouchdb"  # ../shared beside the checkout
PEER_CACHE = Path(tempfile.gettempdir()) / "companion-bench-pouchdb"


class CountingStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, counter: CountingTransport, started: float) -> None:
        self.inner = inner
        self.counter = counter
        self.started = started

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.inner:
            self.counter.down += len(chunk)
            yield chunk

    def close(self) -> None:
        self.inner.close()
        self.counter.http_ms += (time.perf_counter() - self.started) * 1000


class CountingTransport(httpx.BaseTransport):
    """Counts requests, the bytes of each request and answer as they cross the wire (before decoding),
    and the time spent waiting for and reading answers (``http_ms``: the server's and the network's share)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.requests = self.up = self.down = 0
        self.http_ms = 0.0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        self.requests += 1
        head = sum(len(k) + len(v) + 4 for k, v in request.headers.raw)
        self.up += len(request.method) + len(request.url.raw_path) + 13 + head + len(request.read())
        response = self.inner.handle_request(request)
        self.down += 17 + sum(len(k) + len(v) + 4 for k, v in response.headers.raw) + 2
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = CountingStream(response.stream, self, started)
        return response

    def close(self) -> None:
        self.inner.close()

    def snapshot(self) -> tuple[int, int, int, float]:
        return self.requests, self.up, self.down, self.http_ms


def _measure(counter: CountingTransport, fn: Any) -> dict[str, float]:
    r0, u0, d0, h0 = counter.snapshot()
    t0 = time.perf_counter()
    fn()
    ms = (time.perf_counter() - t0) * 1000
    r1, u1, d1, h1 = counter.snapshot()
    return {"ms": ms, "requests": r1 - r0, "bytes_up": u1 - u0, "bytes_down": d1 - d0, "http_ms": h1 - h0}


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = math.ceil(len(ordered) * p / 100) - 1  # nearest rank, like the peer's pct()
    return ordered[min(len(ordered) - 1, max(0, rank))]


def one_run(sizes: list[int], trials: int, work: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n in sizes:
        server = ServerProcess(f"sqlite:///{work / f'clinic{n}.db'}", work / f"srv{n}").start()
        try:
            patient_id = server.staff.add_patient(name="Bench Patient")["id"]
            seed_records(server.db_url, patient_id, n)
            vault = Vault.create(work / f"vault{n}", PASSCODE)  # default KDF; not timed
            pair(vault, server.base_url, server.staff.pairing_code(patient_id)["code"], device_name="bench")
            counter = CountingTransport()
            with build_client(server.base_url, transport=counter) as client:
                out[f"pull_{n}"] = _measure(counter, lambda c=client, v=vault: synchronize(v, c))
                assert vault.appointments.count() + vault.bills.count() + vault.results.count() + \
                    vault.messages.count() == n
                noops = [_measure(counter, lambda c=client, v=vault: synchronize(v, c)) for _ in range(21)]
                out[f"noop_{n}"] = {k: statistics.median(x[k] for x in noops) for k in noops[0]}
                lat, parts = live_latency(server, patient_id, vault, trials)
                out[f"live_{n}"] = {"median_ms": statistics.median(lat), "p95_ms": _pct(lat, 95), "max_ms": max(lat)}
                if parts:
                    out[f"live_parts_{n}"] = {k: statistics.median(p[k] for p in parts) for k, _ in PARTS + ASIDE}
                if n == sizes[-1]:
                    out["live"] = out[f"live_{n}"]
                    synchronize(vault, client)
                    for i in range(100):  # queued offline (not timed), like the peer's local docs
                        queue_mutation(vault, "message.send", {"body": f"bench message {i} " + "x" * 300})
                    token = vault.meta.get("sync.token")
                    out["push_100"] = _measure(counter, lambda c=client, v=vault, t=token: push_outbox(
                        v, c, t, policy=RetryPolicy()))
                    out["sync_after_push"] = _measure(counter, lambda c=client, v=vault: synchronize(v, c))
            vault.close()
        finally:
            server.close()
    return out


def run_peer(runs: int, sizes: list[int], trials: int) -> dict[str, Any] | None:
    """The peer's medians of ``runs`` runs (``None``: node or the peer is missing)."""
    if shutil.which("node") is None or not PEER.exists():
        print("peer: node or ../shared/peers/pouchdb missing; skipped", file=sys.stderr)
        return None
    if not (PEER_CACHE / "node_modules").exists():
        shutil.rmtree(PEER_CACHE, ignore_errors=True)
        shutil.copytree(PEER, PEER_CACHE, ignore=shutil.ignore_patterns("node_modules"))
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PEER_CACHE, check=True, capture_output=True,
                       timeout=600)
    shutil.copy2(PEER / "bench.js", PEER_CACHE / "bench.js")
    done = subprocess.run(["node", "bench.js", "--json-only", "--runs", str(runs), "--sizes",
                           ",".join(map(str, sizes)), "--trials", str(trials)], cwd=PEER_CACHE, capture_output=True,
                          text=True, timeout=1200, check=True)
    summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[0])
    return summary["median"]  # type: ignore[no-any-return]


def _median_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {key: {f: statistics.median(r[key][f] for r in runs) for f in runs[0][key]
                  if isinstance(runs[0][key][f], int | float)}
            for key in runs[0] if all(key in r for r in runs)}


def _paired(ours_runs: list[dict[str, Any]], peer_runs: list[dict[str, Any]], key: str, field: str,
            peer_key: str | None = None) -> list[float]:
    """Ours / peer of each pair of runs made one after the other (the machine's speed drifts over minutes:
    a ratio of runs made side by side says more than a ratio of medians made ten minutes apart)."""
    pairs = []
    for mine, theirs in zip(ours_runs, peer_runs, strict=False):
        a, b = mine.get(key, {}).get(field), theirs.get(peer_key or key, {}).get(field)
        if a is not None and b:
            pairs.append(a / b)
    return pairs


def _fmt_ms(ms: float) -> str:
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.1f} ms"


def _count(n: float) -> str:
    return f"{n:.0f}"


def _kb(b: float) -> str:
    return f"{b / 1024:.1f} KB" if b >= 1024 else f"{int(b)} B"


def table(ours_runs: list[dict[str, Any]], peer_runs: list[dict[str, Any]], sizes: list[int], trials: int) -> str:
    """Medians of the runs, their ratio, and (timed rows, more than one run) the ratio of each pair of runs."""
    ours, peer = _median_runs(ours_runs), _median_runs(peer_runs) if peer_runs else None
    rows = [("metric", "ours", "PouchDB", "ratio (ours/peer)", "ratio of each run pair"),
            ("---", "---:", "---:", "---:", "---:")]

    def row(label: str, key: str, field: str, kind: str = "ms", peer_key: str | None = None) -> None:
        mine = ours.get(key, {}).get(field)
        theirs = (peer or {}).get(peer_key or key, {}).get(field)
        show: Callable[[float], str] = {"ms": _fmt_ms, "bytes": _kb, "n": _count}[kind]
        ratio = f"{mine / theirs:.2f}" if mine is not None and theirs else "–"
        pairs = _paired(ours_runs, peer_runs, key, field, peer_key) if kind == "ms" and len(ours_runs) > 1 else []
        rows.append((label, show(mine) if mine is not None else "–", show(theirs) if theirs is not None else "–",
                     ratio, " / ".join(f"{r:.2f}" for r in pairs) or "–"))

    for n in sizes:
        row(f"initial pull, {n:,} records: wall", f"pull_{n}", "ms")
        row(f"initial pull, {n:,} records: HTTP requests", f"pull_{n}", "requests", "n")
        row(f"initial pull, {n:,} records: bytes down", f"pull_{n}", "bytes_down", "bytes")
    for n in sizes:
        row(f"no-op sync, {n:,} in sync: wall", f"noop_{n}", "ms")
        row(f"no-op sync, {n:,} in sync: HTTP requests", f"noop_{n}", "requests", "n")
        row(f"no-op sync, {n:,} in sync: bytes down+up", f"noop_{n}", "bytes_total", "bytes")
    for n in sizes:
        note = "" if n == sizes[-1] else f" (peer: its {sizes[-1]:,} client)"
        for field, what in (("median_ms", "p50"), ("p95_ms", "p95")):
            row(f"live: PSR message -> watching client's vault of {n:,} records, {what} of {trials}{note}",
                f"live_{n}", field, peer_key="live")
    row("push 100 queued mutations (answers settled durably): wall", "push_100", "ms")
    row("… of which waiting for the server's answer", "push_100", "http_ms")
    row("push 100 queued mutations: HTTP requests", "push_100", "requests", "n")
    row("(ours only) the next sync: pull the 100 echoes", "sync_after_push", "ms")
    return "\n".join("| " + " | ".join(r) + " |" for r in rows)


def breakdown(ours: dict[str, Any], sizes: list[int]) -> str:
    """Where a live change's time goes: the median of each part over the trials, per vault size."""
    have = [n for n in sizes if f"live_parts_{n}" in ours]
    if not have:
        return ""
    rows = [("live change, median ms by part", *(f"{n:,} records" for n in have)), ("---", *("---:" for _ in have))]
    for key, label in PARTS:
        rows.append((label, *(f"{ours[f'live_parts_{n}'][key]:.2f}" for n in have)))
    rows.append(("sum of the parts' medians", *(f"{sum(ours[f'live_parts_{n}'][k] for k, _ in PARTS):.2f}"
                                                for n in have)))
    for key, label in ASIDE:
        rows.append((label, *(f"{ours[f'live_parts_{n}'][key]:.2f}" for n in have)))
    return "\n".join("| " + " | ".join(r) + " |" for r in rows)


def _add_totals(d: dict[str, Any]) -> None:
    for key, value in d.items():
        if key.startswith("noop_") and "bytes_down" in value:
            value["bytes_total"] = value["bytes_down"] + value.get("bytes_up", 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 run each and 20 live trials")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--trials", type=int, default=None)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--no-peer", action="store_true")
    args = parser.parse_args(argv)
    runs = args.runs or (1 if args.quick else 3)
    trials = args.trials or (20 if args.quick else 50)
    sizes = [int(s) for s in args.sizes.split(",")]
    per_run: list[dict[str, Any]] = []
    peer_per_run: list[dict[str, Any]] = []
    for r in range(runs):  # ours then the peer, run by run: both see the machine as it is in those minutes
        with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
            per_run.append(one_run(sizes, trials, Path(tmp)))
        print(f"ours: run {r + 1}/{runs} done", file=sys.stderr)
        theirs = None if args.no_peer else run_peer(1, sizes, trials)
        if theirs is not None:
            peer_per_run.append(theirs)
            print(f"peer: run {r + 1}/{runs} done", file=sys.stderr)
    for d in (*per_run, *peer_per_run):
        _add_totals(d)
    ours = _median_runs(per_run)
    peer = _median_runs(peer_per_run) if peer_per_run else None
    print(f"\nSync benchmark: medians of {runs} run(s), ours and the peer's taken in turn; {trials} live trials; "
          "vault unlock (scrypt default) excluded from every timing; ours over plain HTTP/1.1 keep-alive on "
          "127.0.0.1, gzip over 4 KB.\n")
    print(table(per_run, peer_per_run, sizes, trials))
    print("\n" + breakdown(ours, sizes))
    raw = {"ours": ours, "ours_per_run": per_run, "peer": peer, "peer_per_run": peer_per_run}
    print("\n```json\n" + json.dumps(raw, default=float) + "\n```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
