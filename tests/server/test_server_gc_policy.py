"""The server process's full garbage collections run on a timer (``gc_policy``), not by count."""

from __future__ import annotations

import gc
import weakref

from companion.clinic.server import gc_policy
from tests.support.waiting import wait_until


class Node:
    """A cycle: only the garbage collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_full_collections_run_on_the_timer_and_still_free_old_cycles() -> None:
    before = gc.get_threshold()
    stop = gc_policy.start(every=0.05)
    try:
        assert gc.get_threshold() == (before[0], before[1], gc_policy.NEVER)  # never by count
        node = Node()
        freed = weakref.finalize(node, lambda: None)
        gc.collect(1)  # the cycle survives into the oldest generation, where young collections never look
        del node
        assert freed.alive
        assert wait_until(lambda: not freed.alive, 10.0)  # the timer's full collection frees it
    finally:
        stop()
    assert gc.get_threshold() == before
