"""The reminder loop the app drives: one :meth:`ReminderLoop.tick` per wake-up.

Thread- or asyncio-agnostic: :meth:`~ReminderLoop.tick` does one delivery
step and says when the next reminder is due; :meth:`~ReminderLoop.run` is the
threading helper (``threading.Event`` as the stop signal). From asyncio::

    loop = ReminderLoop(vault, choose_notifier(profile), profile)
    while True:
        report = await asyncio.to_thread(loop.tick)
        await asyncio.sleep(loop.sleep_for(report))

The first tick after the app starts fires what was missed while it was closed
(once, if still useful). In :meth:`~ReminderLoop.run` a failing tick (vault
closed, damaged settings, a UI banner listener that raised) is kept in
:attr:`~ReminderLoop.last_error` and the loop carries on; :meth:`tick` itself
raises, so callers driving it by hand see the error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Protocol

from ..config import ClinicProfile
from .delivery import DeliveryReport, deliver_due
from .notifier import InAppNotifier, Notifier

if TYPE_CHECKING:
    from ..vault import Vault

__all__ = ["ReminderLoop", "StopSignal"]


class StopSignal(Protocol):
    """What :meth:`ReminderLoop.run` waits on; ``threading.Event`` is one."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ReminderLoop:
    """Delivers due reminders from ``vault`` through ``notifier`` (falling back to in-app banners).

    ``fallback`` defaults to an :class:`InAppNotifier` (``notifier`` itself when
    it is one), so a failing system notifier never makes a reminder silent.
    """

    def __init__(
        self,
        vault: Vault,
        notifier: Notifier,
        profile: ClinicProfile,
        *,
        tz: tzinfo | None = None,
        fallback: Notifier | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.vault = vault
        self.notifier = notifier
        self.profile = profile
        self.tz = tz
        if fallback is None:
            fallback = notifier if isinstance(notifier, InAppNotifier) else InAppNotifier(
                "the system notification failed"
            )
        self.fallback = fallback
        self.clock = clock
        self.last_error: Exception | None = None
        self._lock = threading.Lock()

    def tick(self, now: datetime | None = None) -> DeliveryReport:
        """One delivery step at ``now`` (default: the clock); never runs twice at once."""
        with self._lock:
            report = deliver_due(self.vault, self.notifier, now or self.clock(), self.profile, tz=self.tz,
                                 fallback=self.fallback)
            self.last_error = None
            return report

    def sleep_for(self, report: DeliveryReport | None, interval: float = 30.0, now: datetime | None = None) -> float:
        """Seconds until the next tick: ``interval`` at most, sooner when a reminder is due before then."""
        if report is None or report.next_fire_at is None:
            return interval
        wait = (report.next_fire_at - (now or self.clock())).total_seconds()
        return max(0.5, min(interval, wait))

    def run(self, stop: StopSignal, interval: float = 30.0) -> None:
        """Tick until ``stop`` is set; run it in a background thread (``threading.Thread(target=...)``)."""
        while not stop.is_set():
            report: DeliveryReport | None = None
            try:
                report = self.tick()
            except Exception as exc:  # a background loop must outlive one bad tick; the UI shows last_error
                self.last_error = exc
            stop.wait(self.sleep_for(report, interval))
