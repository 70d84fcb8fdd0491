"""What a pause between requests costs on this machine: the same staff message, back to back and paced.

``bench/sync.py`` (and the PouchDB peer) pause 50 ms between live trials, as a PSR types between
messages. After a pause the same code runs on an idle machine: every process and thread it crosses
must be woken, and its caches are cold. This script measures that penalty, so a live figure can be
read against what the code costs when it runs warm:

- a staff message (``StaffClient.send_message`` to a real server on 127.0.0.1, SQLite
  ``synchronous=FULL``, no device waiting), p50 with 0, 2, 20 and 50 ms between sends;
- one thread waking another (``threading.Event``), with the same pauses: the hop alone.

    PYTHONPATH=$PWD .venv/bin/python bench/pacing.py [--sends 200 | --quick]

No peer: both sides of ``bench/sync.py`` pay the same pause; this is the floor under both.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from companion.clinic.staff_api.client import StaffClient  # noqa: E402
from tests.support.server_harness import ServerProcess  # noqa: E402

PAUSES = (0.0, 0.002, 0.02, 0.05)


def _p50(run: Callable[[], object], pause: float, sends: int) -> float:
    """Median milliseconds of ``run`` with ``pause`` seconds before each call (a few warm-up calls first)."""
    for _ in range(5):
        run()
    took = []
    for _ in range(sends):
        time.sleep(pause)
        started = time.perf_counter()
        run()
        took.append((time.perf_counter() - started) * 1000)
    return statistics.median(took)


def _thread_hop(pause: float, sends: int) -> float:
    """Median microseconds from one thread setting an event to another thread running."""
    ready, back = threading.Event(), threading.Event()
    stamp: list[float] = [0.0]
    woke: list[float] = []
    stop = False

    def other() -> None:
        while True:
            ready.wait()
            ready.clear()
            if stop:
                return
            woke.append((time.perf_counter() - stamp[0]) * 1e6)
            back.set()

    thread = threading.Thread(target=other)
    thread.start()
    for _ in range(sends):
        time.sleep(pause)
        stamp[0] = time.perf_counter()
        ready.set()
        back.wait()
        back.clear()
    stop = True
    ready.set()
    thread.join()
    return statistics.median(woke)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sends", type=int, default=200, help="calls per pause (default 200)")
    parser.add_argument("--quick", action="store_true", help="60 calls per pause")
    args = parser.parse_args(argv)
    if args.quick:
        args.sends = 60
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server = ServerProcess(f"sqlite:///{work / 'clinic.db'}", work / "srv").start()
        try:
            patient_id = server.staff.add_patient(name="Bench Patient")["id"]
            with StaffClient(server.base_url, server.tokens["psr"], user_agent="bench-pacing") as psr:
                rows = []
                for pause in PAUSES:
                    message = _p50(lambda: psr.send_message(patient_id, "Your appointment is confirmed."),
                                   pause, args.sends)
                    rows.append((pause, message, _thread_hop(pause, args.sends)))
        finally:
            server.close()
    warm = rows[0][1]
    print(f"Pacing: medians of {args.sends} calls per pause; SQLite synchronous=FULL; 127.0.0.1.\n")
    print("| pause before each call | staff message | vs back to back | one thread waking another |")
    print("| ---: | ---: | ---: | ---: |")
    for pause, message, hop in rows:
        print(f"| {pause * 1000:.0f} ms | {message:.2f} ms | {message / warm:.2f}× | {hop:.0f} µs |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
