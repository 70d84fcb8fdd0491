"""Today: the day's appointments by local time with check-in state, and what waits from the inbox.

``Today.appointments`` is the schedule from local midnight to the next (DST days included);
:meth:`Today.refresh` also polls the inbox (in the foreground), because the Today screen shows
who checked in from their phone and the requests still waiting (new appointment, cancellation,
payment plan). The screen subscribes to both: a poll that brings a request redraws Today too.
"""

from __future__ import annotations

from typing import Any

from ....core.observable import Observable
from .inbox import Inbox
from .session import Session
from .timefmt import DeskClock, day_bounds

__all__ = ["Today"]


class Today(Observable):
    def __init__(self, session: Session, clock: DeskClock, inbox: Inbox, names: dict[str, str]) -> None:
        super().__init__()
        self.session, self.clock, self.inbox, self.names = session, clock, inbox, names
        self.appointments: list[dict[str, Any]] = []

    def forget(self) -> None:
        self.appointments = []

    def refresh(self) -> None:
        start, end = day_bounds(self.clock.today(), self.clock.tz)
        rows = self.session.attempt(lambda: self.session.api.schedule(start, end))
        if rows is None:
            return
        self.appointments = rows
        for row in rows:
            self.names[row["patient_id"]] = row["patient_name"]
        self.notify()
        if self.session.can("inbox"):
            self.inbox.poll(background=False)

    def remote_checkins(self) -> list[dict[str, Any]]:
        """Today's appointments the patient checked in to from the app (not yet seen by the desk)."""
        ids = self.inbox.checked_in_ids()
        return [a for a in self.appointments if a["id"] in ids]
