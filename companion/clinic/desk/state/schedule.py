"""The Schedule screen's state: what patients can book in the app, when, where, and when not.

- services with their weekly hours (one span a day per room or provider) — add one, edit one
  (name, length, days and hours, room or provider, fast track: the form is filled with it and
  saving replaces it), pause or resume one (a paused service is no longer bookable; its visits stay);
- blocks: a holiday for the whole clinic, or a room or provider away, from one day to another;
- the partner notices' counts (made, opened, booked, reported) — totals, never who told whom.

Each change goes to the server, which republishes the open times every patient's app gets. The
form's drafts are ``service.name``, ``service.minutes``, ``service.days`` (comma list of weekdays),
``service.opens``, ``service.closes``, ``service.resource``, ``service.fast_track`` (``yes``/``no``)
and ``block.resource``, ``block.reason``; the block's days come from the date pickers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from ....core.clinic_profile import WEEKDAYS
from ....core.observable import Observable
from .feedback import Drafts
from .session import Session
from .timefmt import DeskClock

__all__ = ["ScheduleBoard"]

_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class ScheduleBoard(Observable):
    def __init__(self, session: Session, drafts: Drafts, clock: DeskClock) -> None:
        super().__init__()
        self.session, self.drafts, self.clock = session, drafts, clock
        self.services: list[dict[str, Any]] = []
        self.blocks: list[dict[str, Any]] = []
        self.counts: dict[str, Any] = {}
        self.block_from: date | None = None
        self.block_to: date | None = None
        self.open_times: dict[str, list[datetime]] = {}  # service id -> its open starts, as last loaded
        self.editing: str | None = None  # the service the form is editing (None: a new one)

    def forget(self) -> None:
        self.services, self.blocks, self.counts, self.open_times = [], [], {}, {}
        self.block_from = self.block_to = None
        self.editing = None

    def refresh(self) -> None:
        api = self.session.api
        services = self.session.attempt(api.services)
        blocks = self.session.attempt(api.blocks)
        counts = self.session.attempt(api.notice_counts)
        if services is not None and blocks is not None:
            self.services, self.blocks, self.counts = services, blocks, counts or {}
            self.notify()

    def load_services_quietly(self) -> None:
        """The services, for a patient's page: no spinner, and the page's own news stays shown."""
        services = self.session.quietly(self.session.api.services)
        if services is not None and services != self.services:
            self.services = services
            self.notify()

    def load_open_times(self, service_id: str) -> None:
        """The service's open starts, for booking one for a patient at the desk."""
        if not self.services:
            self.refresh()
        answer = self.session.attempt(lambda: self.session.api.call(
            "GET", f"/v1/staff/services/{service_id}/open-times"))
        if answer is not None:
            self.open_times[service_id] = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in answer["open"]]
            self.notify()

    def book_for(self, patient_id: str, service_id: str, start: datetime, then: Callable[[], None]) -> None:
        """Book an open time for the patient (the same rule as the app's self-booking: a taken time is
        refused with the nearest open ones); ``then`` reloads the patient's page."""
        done = "Booked. The patient's app gets it at the next sync."
        booked = self.session.attempt(lambda: self.session.api.book_open_time(patient_id, service_id, start))
        error = self.session.feedback.error or ""
        self.load_open_times(service_id)  # either way the times have changed
        if booked is not None:
            then()
            self.session.feedback.say(toast=done)
        elif error.lower().startswith("slot_taken"):  # the server's words for it (core.open_times)
            self.session.feedback.say(error="That time was just taken. Pick another of the open times.")
        else:
            self.session.feedback.say(error=error or None)

    def edit_service(self, service_id: str) -> None:
        """Fill the form with the service (its first span of hours when they differ by day)."""
        service = next((s for s in self.services if s["id"] == service_id), None)
        if service is None:
            return
        hours = service["hours"]
        first = hours[0] if hours else {"opens": "09:00", "closes": "17:00", "resource": ""}
        days = [h["day"] for h in hours if (h["opens"], h["closes"], h["resource"]) ==
                (first["opens"], first["closes"], first["resource"])]
        d = self.drafts
        for key, value in (("service.name", service["name"]), ("service.minutes", str(service["minutes"])),
                           ("service.days", ",".join(d for d in WEEKDAYS if d in days)),
                           ("service.opens", first["opens"]), ("service.closes", first["closes"]),
                           ("service.resource", first["resource"]),
                           ("service.fast_track", "yes" if service.get("fast_track") else "no")):
            d.set_draft(key, value)
        self.editing = service_id
        self.notify()

    def stop_editing(self) -> None:
        self.editing = None
        self.drafts.pop("service.name", "service.resource", "service.opens", "service.closes", "service.days",
                        "service.minutes", "service.fast_track")
        self.notify()

    @property
    def edited(self) -> dict[str, Any] | None:
        return next((s for s in self.services if s["id"] == self.editing), None)

    def add_service(self) -> None:
        """Add the form's service, or save it over the one being edited (PUT: the rest is kept)."""
        d = self.drafts
        name, resource = d.text("service.name"), d.text("service.resource")
        opens, closes = d.text("service.opens") or "09:00", d.text("service.closes") or "17:00"
        days = [x for x in d.draft("service.days", "mon,tue,wed,thu,fri").split(",") if x in WEEKDAYS]
        minutes = int(d.draft("service.minutes", "15") or 15)
        if not name or not resource:
            self.session.feedback.say(error="Give the service a name and the room or provider that sees it.")
            return
        if not (_CLOCK.match(opens) and _CLOCK.match(closes)) or closes <= opens:
            self.session.feedback.say(error='Write the hours as "09:00" and "17:00", closing after opening.')
            return
        if not days:
            self.session.feedback.say(error="Choose at least one day.")
            return
        fields: dict[str, Any] = {
            "name": name, "minutes": minutes, "fast_track": d.draft("service.fast_track", "no") == "yes",
            "hours": [{"day": day, "opens": opens, "closes": closes, "resource": resource} for day in days]}
        editing = self.edited
        if editing is not None:
            fields = {**{k: editing[k] for k in ("prep", "sensitive", "active")}, **fields}
        done = f"{name} saved: patients' apps get the new times at the next sync." if editing is not None \
            else f"{name} can be booked in the app."
        service_id = editing["id"] if editing is not None else None
        if self.session.attempt(lambda: self.session.api.save_service(fields, service_id), done=done):
            self.drafts.pop("service.name", "service.resource", "service.opens", "service.closes")
            if editing is not None:
                self.drafts.pop("service.days", "service.minutes", "service.fast_track")
            self.editing = None
            self.refresh()
            self.session.feedback.say(toast=done)

    def set_active(self, service_id: str, active: bool) -> None:
        service = next((s for s in self.services if s["id"] == service_id), None)
        if service is None:
            return
        fields = {k: service[k] for k in ("name", "minutes", "prep", "hours", "sensitive", "fast_track")}
        fields["active"] = active
        done = f"{service['name']} {'can be booked again' if active else 'is paused: no new bookings'}."
        if self.session.attempt(lambda: self.session.api.save_service(fields, service_id), done=done):
            self.refresh()
            self.session.feedback.say(toast=done)

    def pick_block_day(self, which: str, day: date) -> None:
        if which == "from":
            self.block_from = day
            if self.block_to is None or self.block_to < day:
                self.block_to = day
        else:
            self.block_to = day
        self.notify()

    def add_block(self) -> None:
        first, last = self.block_from, self.block_to
        if first is None or last is None or last < first:
            self.session.feedback.say(error="Pick the first and the last day of the block.")
            return
        tz = self.clock.tz
        starts = datetime.combine(first, time(), tz)
        ends = datetime.combine(last + timedelta(days=1), time(), tz)
        resource = self.drafts.text("block.resource") or None
        reason = self.drafts.text("block.reason") or None
        done = "Blocked: those times are no longer bookable."
        if self.session.attempt(lambda: self.session.api.add_block(starts, ends, resource, reason), done=done):
            self.drafts.pop("block.resource", "block.reason")
            self.block_from = self.block_to = None
            self.refresh()
            self.session.feedback.say(toast=done)

    def remove_block(self, block_id: str) -> None:
        done = "Block removed: those times are bookable again."
        if self.session.attempt(lambda: self.session.api.remove_block(block_id), done=done):
            self.refresh()
            self.session.feedback.say(toast=done)
