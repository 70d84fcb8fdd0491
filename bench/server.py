"""Clinic server benchmark: ``.venv/bin/python bench/server.py [--quick] [--db URL]``.

Starts the real server (``python -m companion.clinic.server.cli serve``, through the tests'
:class:`~tests.support.server_harness.ServerProcess`) on 127.0.0.1 and prints a Markdown table of:

- no-op pull latency (a device already caught up asks for news), p50 / p95, one client;
- pulls per second with a load generator in another process (raw asyncio HTTP/1.1 keep-alive
  connections, 1, 8 and 64 in flight);
- resident memory of the one server process with 1,000 devices long-polling at once, and how
  fast one of them is woken by a staff message;
- pull latency with 1,000 vs 100,000 records in the database (the feed's cost should follow the
  changes since the cursor, not the table size: a ratio near 1);
- desk sign-in with a wrong password for a known and an unknown name (the same argon2 work, so
  timing does not tell which names have accounts; measured here, never asserted in a test).

Records for the size test are bulk-inserted straight into the tables (messages spread over 1,000
other patients, each with its feed row), which is what the server's write path would leave.
``--quick`` runs fewer iterations and compares 1,000 with 20,000 records.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from companion.clinic.server.accounts import create_staff  # noqa: E402
from companion.clinic.server.audit import AuditLog  # noqa: E402
from companion.clinic.server.database import Database  # noqa: E402
from companion.clinic.server.passwords import set_password  # noqa: E402
from companion.clinic.server.principals import SystemPrincipal  # noqa: E402
from companion.clinic.server.schema import changes, devices, messages, patients  # noqa: E402
from companion.clinic.server.tokens import DEVICE_TOKEN_PREFIX, hash_secret, new_id, new_token  # noqa: E402
from companion.core.fields import utcnow  # noqa: E402
from tests.support.server_harness import ServerProcess  # noqa: E402


def _raise_fd_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    kib = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    return kib / 1024


def seed_devices(db: Database, count: int, messages_each: int = 0) -> list[tuple[str, str]]:
    """``count`` patients with one device each (and a few messages): ``[(patient_id, token)]``."""
    now = utcnow()
    out, patient_rows, device_rows, message_rows, change_rows = [], [], [], [], []
    for i in range(count):
        pid, token = new_id("pat"), new_token(DEVICE_TOKEN_PREFIX)
        out.append((pid, token))
        patient_rows.append({"id": pid, "name": f"Bench {i}", "search_text": f"bench {i}", "created_at": now,
                             "updated_at": now, "ins_status": "none"})
        device_rows.append({"id": new_id("dev"), "patient_id": pid, "name": "bench", "token_hash": hash_secret(token),
                            "created_at": now, "last_seen_at": now})
        for n in range(messages_each):
            mid = new_id("msg")
            message_rows.append(_message_row(mid, pid, n, now))
            change_rows.append(_change_row(mid, pid, n, now))
    with db.write() as tx:
        tx.execute(sa.insert(patients), patient_rows)
        tx.execute(sa.insert(devices), device_rows)
        if message_rows:
            tx.execute(sa.insert(messages), message_rows)
            tx.execute(sa.insert(changes), change_rows)
    return out


def _message_row(mid: str, pid: str, n: int, now: datetime) -> dict[str, Any]:
    return {"id": mid, "patient_id": pid, "thread": "general", "author": "clinic", "body": f"Message {n}",
            "sent_at": now, "author_name": "Bench"}


def _change_row(mid: str, pid: str, n: int, now: datetime) -> dict[str, Any]:
    data = {"id": mid, "thread": "general", "author": "clinic", "body": f"Message {n}",
            "sent_at": now.astimezone(UTC).isoformat().replace("+00:00", "Z"), "author_name": "Bench",
            "read_at": None, "client_id": None}
    return {"scope": pid, "kind": "message", "record_id": mid, "op": "upsert", "data": json.dumps(data)}


def grow_records(db: Database, owners: list[str], total: int) -> None:
    """Add messages (and their feed rows) spread over ``owners`` until the clinic holds ``total``."""
    with db.read() as conn:
        have = conn.execute(sa.select(sa.func.count()).select_from(changes)).scalar_one()
    now = utcnow()
    batch_m: list[dict[str, Any]] = []
    batch_c: list[dict[str, Any]] = []
    for n in range(int(have), total):
        pid = owners[n % len(owners)]
        mid = new_id("msg")
        batch_m.append(_message_row(mid, pid, n, now))
        batch_c.append(_change_row(mid, pid, n, now))
        if len(batch_m) == 10_000 or n == total - 1:
            with db.write() as tx:
                tx.execute(sa.insert(messages), batch_m)
                tx.execute(sa.insert(changes), batch_c)
            batch_m, batch_c = [], []


# -- measurements ----------------------------------------------------------------------------------
def pull_latencies(url: str, token: str, n: int, *, from_start: bool = False) -> list[float]:
    headers = {"Authorization": f"Bearer {token}", "Companion-Protocol": "1"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        cursor = http.get("/v1/sync", params={"limit": 500}).json()["cursor"]
        params = {} if from_start else {"cursor": cursor}
        for _ in range(20):  # warm-up
            http.get("/v1/sync", params=params)
        out = []
        for _ in range(n):
            started = time.perf_counter()
            response = http.get("/v1/sync", params=params)
            out.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    return out


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, token: str) -> tuple[int, bytes]:
    """One keep-alive HTTP/1.1 GET on a raw connection: a load generator far lighter than httpx, so
    the figures measure the server (httpcore's pool also scans every pending request per event)."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                 f"Companion-Protocol: 1\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    length = re.search(rb"content-length: *(\d+)", head, re.IGNORECASE)
    body = await reader.readexactly(int(length.group(1))) if length else b""
    return int(head[9:12]), body


def _load(port: int, tokens: list[str], seconds: float, in_flight: int) -> dict[str, float]:
    """Runs in another process: ``in_flight`` connections doing no-op pulls for ``seconds``."""

    async def worker(token: str, stop: float, counts: list[int]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        _, body = await _get(reader, writer, "/v1/sync", token)
        path = f"/v1/sync?cursor={json.loads(body)['cursor']}"
        while time.perf_counter() < stop:
            status, _ = await _get(reader, writer, path, token)
            counts[0 if status == 200 else 1] += 1
        writer.close()

    async def main() -> dict[str, float]:
        counts = [0, 0]
        started = time.perf_counter()
        await asyncio.gather(*(worker(t, started + seconds, counts) for t in tokens[:in_flight]))
        return {"pulls_per_s": counts[0] / (time.perf_counter() - started), "errors": counts[1]}

    return asyncio.run(main())


def _long_pollers(port: int, tokens: list[str], hold: float, ready: Any, out: Any) -> None:
    """Runs in another process: every token parks in a long-poll; reports when the first is answered."""
    _raise_fd_limit()

    async def one(token: str, parked: asyncio.Event, answers: list[float]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        _, body = await _get(reader, writer, "/v1/sync", token)
        path = f"/v1/sync?cursor={json.loads(body)['cursor']}&wait={hold}"
        task = asyncio.ensure_future(_get(reader, writer, path, token))
        parked.set()
        status, _ = await task
        answers.append(time.time())
        assert status == 200
        writer.close()

    async def main() -> None:
        answers: list[float] = []
        events = [asyncio.Event() for _ in tokens]
        tasks = [asyncio.ensure_future(one(t, e, answers)) for t, e in zip(tokens, events, strict=True)]
        for e in events:
            await e.wait()
        await asyncio.sleep(1.0)  # the last requests reach the server and park
        ready.put(time.time())
        await asyncio.gather(*tasks)
        out.put({"answered": len(answers), "first": min(answers), "last": max(answers)})

    asyncio.run(main())


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) >= 2 else values[0]


def run(quick: bool, db_url: str | None) -> list[tuple[str, str]]:
    _raise_fd_limit()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        work = Path(tmp)
        url = db_url or f"sqlite:///{work / 'clinic.db'}"
        db = Database(url, pool_size=2)
        db.init_schema()
        fleet = seed_devices(db, 1000, messages_each=1)  # 1,000 records
        _, me_token = seed_devices(db, 1, messages_each=20)[0]
        tokens = [t for _, t in fleet]
        # the sign-in row guesses wrong on purpose: no backoff for it
        server = ServerProcess(url, work / "server", env={"COMPANION_SIGNIN_FREE": "1000"}).start()
        try:
            n = 300 if quick else 2000
            noop = pull_latencies(server.base_url, me_token, n)
            rows.append(("No-op pull latency, p50 / p95 (1 client, keep-alive)",
                         f"{pct(noop, 50):.2f} / {pct(noop, 95):.2f} ms"))
            first_small = pull_latencies(server.base_url, me_token, n // 2, from_start=True)

            with ProcessPoolExecutor(1) as pool:
                for in_flight in (1, 8, 64):
                    load = pool.submit(_load, server.port, tokens, 3.0 if quick else 8.0, in_flight).result()
                    rows.append((f"No-op pulls per second, {in_flight} in flight (load from another process)",
                                 f"{load['pulls_per_s']:,.0f}/s ({load['errors']:.0f} errors)"))

            big_total = 20_000 if quick else 100_000
            grow_records(db, [p for p, _ in fleet], big_total)
            large = pull_latencies(server.base_url, me_token, n)
            first_large = pull_latencies(server.base_url, me_token, n // 2, from_start=True)
            ratio = pct(large, 50) / pct(noop, 50)
            rows.append((f"No-op pull p50 with 1,000 vs {big_total:,} records",
                         f"{pct(noop, 50):.2f} vs {pct(large, 50):.2f} ms (ratio {ratio:.2f})"))
            rows.append((f"21-record first sync p50 with 1,000 vs {big_total:,} records",
                         f"{pct(first_small, 50):.2f} vs {pct(first_large, 50):.2f} ms "
                         f"(ratio {pct(first_large, 50) / pct(first_small, 50):.2f})"))

            idle_rss = rss_mib(server.pid)
            ctx = multiprocessing.get_context("spawn")
            ready, out = ctx.Queue(), ctx.Queue()
            pollers = ctx.Process(target=_long_pollers, args=(server.port, tokens, 25.0, ready, out))
            pollers.start()
            ready.get(timeout=120)
            _until_idle(server.base_url, me_token)  # the server has worked through opening the 1,000 waits
            busy_rss = rss_mib(server.pid)
            token = server.tokens["psr"]
            with httpx.Client(base_url=server.base_url, timeout=10) as psr:
                sent = time.time()
                psr.post(f"/v1/staff/patients/{fleet[0][0]}/messages", json={"body": "wake up"},
                         headers={"Authorization": f"Bearer {token}"}).raise_for_status()
            outcome = out.get(timeout=120)
            pollers.join(timeout=30)
            each = (busy_rss - idle_rss) * 1024 / 1000
            rows.append(("Server RSS: idle → 1,000 concurrent long-polls",
                         f"{idle_rss:.0f} MiB → {busy_rss:.0f} MiB (+{each:.0f} KiB each)"))
            rows.append(("Staff message sent → that device's long-poll answered (1,000 waiting)",
                         f"{(outcome['first'] - sent) * 1000:.1f} ms (the write's own round trip included); "
                         f"all {outcome['answered']:.0f} answered"))
            known, unknown = signin_medians(server.base_url, db, 5 if quick else 20)
            rows.append(("Desk sign-in with a wrong password, median: known vs unknown name (same argon2 work)",
                         f"{known:.0f} vs {unknown:.0f} ms (ratio {max(known, unknown) / min(known, unknown):.2f})"))
        finally:
            server.stop()
            db.dispose()
        rows.append(("Database", "PostgreSQL" if url.startswith("postgres") else "SQLite (WAL, synchronous=FULL)"))
        rows.append(("Machine", f"{os.cpu_count()} cores (shared), Python {sys.version.split()[0]}"))
    return rows


def _until_idle(url: str, token: str, limit: float = 30.0) -> None:
    """Wait until three no-op pulls in a row answer in under 20 ms (no backlog left)."""
    headers = {"Authorization": f"Bearer {token}"}
    deadline, fast = time.monotonic() + limit, 0
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        cursor = http.get("/v1/sync", params={"limit": 500}).json()["cursor"]
        while fast < 3 and time.monotonic() < deadline:
            started = time.perf_counter()
            http.get("/v1/sync", params={"cursor": cursor})
            fast = fast + 1 if time.perf_counter() - started < 0.020 else 0
            time.sleep(0.2)


def signin_medians(url: str, db: Database, n: int) -> tuple[float, float]:
    """Median ms of a wrong password for a known desk name and for an unknown one.

    Printed, never asserted: the test suite checks the promise by counting the argon2
    verifications instead (tests/server/test_server_signin.py)."""
    audit = AuditLog(db, utcnow)
    create_staff(db, audit, SystemPrincipal(), "Bench Desk", "psr")
    set_password(db, audit, SystemPrincipal(), "Bench Desk", "bench desk password 1")

    def median(name: str) -> float:
        spent = []
        with httpx.Client(base_url=url, timeout=30) as http:
            for _ in range(n):
                began = time.perf_counter()
                answer = http.post("/v1/staff/sessions", json={"name": name, "password": "not the password at all"})
                spent.append(time.perf_counter() - began)
                assert answer.status_code == 401, answer.text
        return statistics.median(spent) * 1000

    median("Warm Up")
    return median("Bench Desk"), median("Nobody Called So")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations; 20,000 records instead of 100,000")
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    rows = run(args.quick, args.db)
    print("| Measure | Result |")
    print("| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
