"""Waiting for a condition that another thread or process makes true (a poll, never a fixed sleep)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["wait_until"]


def wait_until(cond: Callable[[], Any], timeout: float, step: float = 0.05) -> bool:
    """Whether ``cond()`` became true within ``timeout`` s (checked every ``step`` s, and once more at the end)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return bool(cond())
