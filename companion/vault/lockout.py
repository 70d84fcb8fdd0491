"""Failed-unlock backoff: 5 free failures, then 30 s, 1 min, 5 min, 15 min, and 1 h from then on.

The counter lives in ``unlock-failures.json`` inside the vault folder and is
written crash-safely *before* a wrong passcode is reported, so quitting or
killing the app cannot reset it; a successful unlock resets it. While a wait is
running, :meth:`UnlockThrottle.check` refuses the attempt before the KDF runs.

The counter cannot be reset by deleting its file: a successful unlock writes a
zero count instead of removing it, so a format-2 vault (``vault.pcj`` present,
or a format-2 base) always has one, and a missing counter there is treated like
the longest wait, starting now. A vault in the format before the journal had
no counter file until its first failure, so there a missing file means zero.

What this protects against: guessing through the app (a lost phone, a curious
partner). An attacker who copies the vault files is slowed by the KDF cost
alone; the counter file is not secret (it holds a count and a time).

Clock handling: times come from an injected ``clock`` (tests use a fake one).
If the clock moves backwards past the last failure, the wait restarts from the
new "now" instead of growing by the size of the jump.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from ..core.errors import LockedOut
from .files import LOCKOUT, VaultFolder

__all__ = ["DELAYS", "FREE_FAILURES", "UnlockThrottle", "delay_after"]

FREE_FAILURES = 5
DELAYS = (30.0, 60.0, 300.0, 900.0, 3600.0)  # the last one repeats


def delay_after(failures: int) -> float:
    """Seconds to wait after ``failures`` consecutive failures before the next attempt."""
    if failures < FREE_FAILURES:
        return 0.0
    return DELAYS[min(failures - FREE_FAILURES, len(DELAYS) - 1)]


@dataclass(frozen=True, slots=True)
class _State:
    failures: int = 0
    last_failure: float = 0.0


class UnlockThrottle:
    """Reads and updates the failed-unlock counter of one vault folder (writer lock held by the caller)."""

    def __init__(self, folder: VaultFolder, clock: Callable[[], float]) -> None:
        self._folder = folder
        self._clock = clock
        self._required = folder.is_journaled()  # decided once, before anything is written

    def check(self) -> None:
        """Raise :class:`LockedOut` if an attempt now is too early; otherwise return."""
        state = self._load()
        wait = delay_after(state.failures)
        if not wait:
            return
        now = self._clock()
        if now < state.last_failure:  # the clock went back: restart the wait from now
            self._save(_State(state.failures, now))
            raise LockedOut(wait)
        remaining = state.last_failure + wait - now
        if remaining > 0:
            raise LockedOut(remaining)

    def record_failure(self) -> int:
        """Count one failed attempt (durably) and return the number of consecutive failures."""
        state = self._load()
        failures = state.failures + 1
        self._save(_State(failures, self._clock()))
        return failures

    def reset(self) -> None:
        """Forget past failures after a successful unlock (no write when the count is already zero)."""
        if self._folder.read(LOCKOUT) != _ZERO:
            self._folder.write_small(LOCKOUT, _ZERO)

    @staticmethod
    def describe_failure(failures: int) -> str:
        """The message of a wrong passcode, saying what the next failures cost."""
        left = FREE_FAILURES - failures
        if left > 0:
            return f"wrong passcode ({left} more {'try' if left == 1 else 'tries'} before a wait)"
        return f"wrong passcode; try again in {int(delay_after(failures))} s"

    def _load(self) -> _State:
        raw = self._folder.read(LOCKOUT)
        if raw is None:
            if not self._required:
                return _State()
            state = _State(FREE_FAILURES + len(DELAYS) - 1, self._clock())  # deleted: the longest wait, from now
            self._save(state)
            return state
        try:
            data = json.loads(raw)
            failures, last = data["failures"], data["last_failure"]
            if isinstance(failures, bool) or not isinstance(failures, int) or failures < 0:
                raise ValueError("failures")
            if isinstance(last, bool) or not isinstance(last, int | float):
                raise ValueError("last_failure")
            return _State(failures, float(last))
        except (ValueError, KeyError, TypeError):
            # Writes are atomic, so this is tampering: don't let it buy free attempts,
            # but don't brick the app either (the next failure waits).
            return _State(FREE_FAILURES, 0.0)

    def _save(self, state: _State) -> None:
        self._folder.write_small(LOCKOUT, _encode(state))


def _encode(state: _State) -> bytes:
    return json.dumps({"failures": state.failures, "last_failure": state.last_failure}).encode("ascii")


_ZERO = _encode(_State())
