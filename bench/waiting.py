"""Many devices waiting: ``.venv/bin/python bench/waiting.py [--counts 1000,5000,10000] [--trials 30] [--pg]``.

``--quick`` (what ``make bench QUICK=1`` passes): 1,000 devices, 10 wake-ups, 5 s of settling; a
minute or so, for a first look (the re-polls are not yet in full swing: use the defaults for figures).

For each count N: N patients with one paired device each are seeded into a fresh database, one
real server process (``ServerProcess``) starts on it, and a load process (raw asyncio HTTP/1.1, no
httpx: it must not be the bottleneck) parks one long poll per device (``wait=30``, re-parked after
each answer). Then, with all N waiting (the server's own count, ``GET /v1/staff/status``):

- the server's resident memory before and after parking, and per waiting device;
- wake-up: a PSR's message to one random patient through the staff API -> that device's long poll
  answered with it, p50 / p95 over the trials (clock: ``time.time()`` on one machine; the staff
  request's own round trip is included). The trials start ``--settle`` seconds (35) after all are
  parked, so the devices' re-polls (each wait runs out after 22-30 s) are in full swing: N devices
  cost N / ~26 no-op pulls per second for as long as they wait.

``--pg`` does the same on PostgreSQL (a throwaway cluster from ``tests/fixtures/postgres.py``) with
TWO server processes on one database: the devices wait on the second, the PSR writes through the
first, so the wake-up crosses processes (``NOTIFY companion_changes``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import queue
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.server import _get, _raise_fd_limit, rss_mib, seed_devices  # noqa: E402
from companion.clinic.server.database import Database  # noqa: E402
from tests.support.server_harness import ServerProcess  # noqa: E402

WAIT = 30
CONNECT_AT_ONCE = 200  # below uvicorn's listen backlog


def _pollers(port: int, tokens: list[str], parked: Any, answers: Any) -> None:
    """Another process: one keep-alive connection and one long poll per token; puts ``(i, time)`` on
    ``answers`` for every answer that carried a change, and the count on ``parked`` once all asked."""
    _raise_fd_limit()

    async def one(i: int, token: str, gate: asyncio.Semaphore, asked: list[int]) -> None:
        async with gate:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            _, body = await _get(reader, writer, "/v1/sync?limit=500", token)
        cursor = json.loads(body)["cursor"]
        asked[0] += 1
        if asked[0] == len(tokens):
            parked.put(asked[0])
        while True:
            status, body = await _get(reader, writer, f"/v1/sync?cursor={cursor}&wait={WAIT}", token)
            page = json.loads(body)
            if status == 200 and page["changes"]:
                answers.put((i, time.time()))
            cursor = page.get("cursor", cursor)

    async def main() -> None:
        gate, asked = asyncio.Semaphore(CONNECT_AT_ONCE), [0]
        await asyncio.gather(*(one(i, t, gate, asked) for i, t in enumerate(tokens)))

    asyncio.run(main())


def _await_waiting(server: ServerProcess, count: int, limit: float = 300.0) -> float:
    """Seconds until ``server`` holds ``count`` waiting pulls. While thousands of first pulls queue for
    the thread pool, the status request can time out: that is asked again, within ``limit``."""
    started = time.monotonic()
    waiting = 0
    while waiting < count:
        if time.monotonic() - started > limit:
            raise RuntimeError(f"only {waiting} of {count} long polls waiting after {limit:.0f} s")
        try:
            waiting = server.waiting_pulls()
        except httpx.TimeoutException:
            continue
        if waiting < count:
            time.sleep(0.25)
    return time.monotonic() - started


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(len(ordered) * p / 100 + 0.5) - 1))]


def one_count(url: str, work: Path, count: int, trials: int, two_processes: bool,
              settle: float) -> dict[str, float]:
    db = Database(url, pool_size=2)
    db.init_schema()
    fleet = seed_devices(db, count)
    db.dispose()
    writer = ServerProcess(url, work / f"writer{count}").start()
    waiter = ServerProcess(url, work / f"waiter{count}").start() if two_processes else writer
    ctx = multiprocessing.get_context("spawn")
    parked, answers = ctx.Queue(), ctx.Queue()
    load = ctx.Process(target=_pollers, args=(waiter.port, [t for _, t in fleet], parked, answers), daemon=True)
    try:
        idle = rss_mib(waiter.pid)
        load.start()
        parked.get(timeout=600)
        took = _await_waiting(waiter, count)
        time.sleep(settle)  # past the first waits running out: the devices re-poll as they would all day
        busy = rss_mib(waiter.pid)
        lat = []
        token = writer.tokens["psr"]
        with httpx.Client(base_url=writer.base_url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as psr:
            for _ in range(trials):
                i = random.randrange(count)
                sent = time.time()
                psr.post(f"/v1/staff/patients/{fleet[i][0]}/messages", json={"body": "wake up"}).raise_for_status()
                while True:
                    try:
                        who, when = answers.get(timeout=30)
                    except queue.Empty:
                        raise RuntimeError("a woken device did not answer within 30 s") from None
                    if who == i:
                        lat.append((when - sent) * 1000)
                        break
                time.sleep(0.2)  # it parks again (the others come and go as their waits run out)
        return {"count": count, "idle_mib": idle, "busy_mib": busy, "kib_each": (busy - idle) * 1024 / count,
                "park_s": took, "p50_ms": statistics.median(lat), "p95_ms": _pct(lat, 95), "max_ms": max(lat)}
    finally:
        load.kill()
        load.join(10)
        writer.stop()
        if waiter is not writer:
            waiter.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default=None, help="waiting devices per run (default 1000,5000,10000)")
    parser.add_argument("--trials", type=int, default=None, help="wake-ups per count (default 30)")
    parser.add_argument("--pg", action="store_true", help="PostgreSQL, two server processes")
    parser.add_argument("--settle", type=float, default=None,
                        help="seconds between all parked and the first wake-up (default 35: past the first re-polls)")
    parser.add_argument("--quick", action="store_true", help="1,000 devices, 10 wake-ups, 5 s settle (a first look)")
    args = parser.parse_args()
    quick = {"counts": "1000", "trials": 10, "settle": 5.0}
    full = {"counts": "1000,5000,10000", "trials": 30, "settle": 35.0}
    for name, value in (quick if args.quick else full).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    _raise_fd_limit()
    counts = [int(c) for c in args.counts.split(",")]
    rows = []
    pg = None
    if args.pg:
        from tests.fixtures.postgres import PostgresServer, _bin_dir

        bin_dir = _bin_dir()
        if bin_dir is None:
            print("postgres binaries missing", file=sys.stderr)
            return 1
        pg = PostgresServer(bin_dir)
        pg.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-waiting-") as tmp:
            for count in counts:
                url = pg.new_database() if pg is not None else f"sqlite:///{Path(tmp) / f'clinic{count}.db'}"
                rows.append(one_count(url, Path(tmp), count, args.trials, two_processes=pg is not None,
                                     settle=args.settle))
                print(f"{count:,} waiting: {json.dumps(rows[-1])}", file=sys.stderr)  # kept if a later count fails
    finally:
        if pg is not None:
            pg.stop()
    where = "PostgreSQL, devices on one server process and the PSR on another" if pg else "SQLite, one server process"
    print(f"\nDevices long-polling at once ({where}; {args.trials} wake-ups each; shared 2-core machine)\n")
    print("| waiting devices | server RSS idle -> all waiting | per device | wake-up p50 / p95 / max | registered in |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['count']:,.0f} | {r['idle_mib']:.0f} -> {r['busy_mib']:.0f} MiB | {r['kib_each']:.1f} KiB | "
              f"{r['p50_ms']:.1f} / {r['p95_ms']:.1f} / {r['max_ms']:.1f} ms | {r['park_s']:.1f} s |")
    print("\n```json\n" + json.dumps(rows) + "\n```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
