"""Bounded retries with exponential backoff and jitter for transient sync failures.

Only failures that may heal by themselves are retried: the network
(:class:`ServerUnreachable`), the server (:class:`ServerFailed`, a 5xx) and
rate limiting (:class:`RateLimited`, after its ``Retry-After`` if that fits in
the budget). Everything else — a 4xx business rejection, a revoked device, a
malformed answer, a certificate failure — is raised at once: retrying cannot
change the answer.

Every retry loop is bounded by a *deadline* over all attempts, so ``companion
sync`` with the server down fails within ~10 s (the outbox is untouched: it
only shrinks when the server acknowledges). The call receives the time left so
it can bound its own request timeout by it::

    page = with_retries(lambda budget: fetch(client, timeout=budget), RetryPolicy())

Delays are "equal jitter": half the exponential step is fixed, half random, so
many devices coming back online after a server restart do not retry in step.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ..core.errors import Interrupted, RateLimited, ServerFailed, ServerUnreachable, SyncError

__all__ = ["RetryPolicy", "TRANSIENT", "backoff_delay", "with_retries", "Interrupted"]

T = TypeVar("T")
TRANSIENT: tuple[type[SyncError], ...] = (ServerUnreachable, ServerFailed, RateLimited)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to keep trying. ``deadline`` bounds all attempts and waits together (seconds)."""

    attempts: int = 8
    base: float = 0.2
    factor: float = 2.0
    cap: float = 3.0
    deadline: float = 8.0
    min_budget: float = 0.5  # below this, another attempt cannot succeed: give up

    @classmethod
    def once(cls) -> RetryPolicy:
        """No retries (the live loop does its own, longer, backoff)."""
        return cls(attempts=1)


def backoff_delay(attempt: int, *, base: float, factor: float, cap: float, rng: Callable[[], float]) -> float:
    """Delay before retry number ``attempt`` (0-based): equal jitter over a capped exponential."""
    step = min(cap, base * factor**attempt)
    return step / 2 + rng() * step / 2


def with_retries(
    call: Callable[[float], T],
    policy: RetryPolicy,
    *,
    stop: threading.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] | None = None,
    rng: Callable[[], float] = random.random,
    on_retry: Callable[[SyncError], None] | None = None,
) -> T:
    """Run ``call(budget_seconds)`` until it succeeds, fails for good, or the deadline passes.

    Raises the last transient error when out of attempts or time, any other
    error at once, :class:`Interrupted` when ``stop`` is set while waiting.
    """
    start = clock()
    attempt = 0
    while True:
        budget = policy.deadline - (clock() - start)
        try:
            return call(max(budget, policy.min_budget))
        except TRANSIENT as exc:
            attempt += 1
            delay = backoff_delay(attempt - 1, base=policy.base, factor=policy.factor, cap=policy.cap, rng=rng)
            if isinstance(exc, RateLimited):
                delay = max(delay, exc.retry_after)
            left = policy.deadline - (clock() - start)
            if attempt >= policy.attempts or left - delay < policy.min_budget:
                raise
            if on_retry is not None:
                on_retry(exc)
            if stop is not None:
                if stop.wait(delay):
                    raise Interrupted("stopped") from None
            elif sleep is not None:
                sleep(delay)
            else:
                time.sleep(delay)
