"""When the server process runs Python's full (oldest-generation) garbage collection: on a timer.

A process holding 10,000 waiting long polls tracks ~1.8 million objects (connections, requests,
events, timers). CPython runs a full collection whenever the objects promoted to the oldest
generation since the last one exceed a quarter of it, and every waiting poll's objects get there
(it lives 22-30 s): measured at 10,000 waiting, a full collection every ~8 s, each 0.7-2.3 s with
the event loop stopped (it found nothing to free), so a woken pull in that window answered seconds
late, on SQLite as on PostgreSQL. The young generations still collect as before (their cost is
bounded by their thresholds); the full collection now runs every :data:`FULL_EVERY` seconds from a
thread of its own, so at most one such pause in that time, and cyclic garbage that reached the
oldest generation is still freed.

Only ``companion-server serve`` does this (:func:`start`): it is process-wide, so tests that build
the app in their own process keep Python's defaults.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable

FULL_EVERY = 300.0  # seconds between full collections
NEVER = 1 << 30  # a third threshold no count of young collections reaches


def start(every: float = FULL_EVERY) -> Callable[[], None]:
    """Stop automatic full collections and run one every ``every`` seconds; returns what undoes it
    (stops the thread, puts Python's thresholds back and unfreezes)."""
    thresholds = gc.get_threshold()
    gc.freeze()  # what start-up built (modules, the app) lives as long as the process: never scan it
    gc.set_threshold(thresholds[0], thresholds[1], NEVER)
    stopping = threading.Event()

    def run() -> None:
        while not stopping.wait(every):
            gc.collect()

    thread = threading.Thread(target=run, name="full-gc", daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join()
        gc.set_threshold(*thresholds)
        gc.unfreeze()

    return stop
