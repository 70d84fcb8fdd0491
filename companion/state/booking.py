"""Booking a visit from the clinic's open times (UI-free): pick a service, a day, a time; book.

    state.booking.services()                       # the bookable services on this device (OpenTimes)
    state.booking.days("svc_1")                    # [(date, [start, …]), …] in the patient's time zone
    state.booking.book("svc_1", start)             # queued offline; the visit shows as "Booking…"
    state.booking.taken()                          # bookings the clinic refused because the time went
    state.booking.offers(entry)                    # the nearest three open times to offer instead
    state.booking.rebook(entry.id, start)          # take one of them (the refusal is dismissed)

The open times come with the clinic-wide records at every sync. A booking is an
``appointment.book`` command in the outbox: offline it waits as "Booking…"; at the next sync the
clinic either confirms it (the visit, with its prep checklist, replaces "Booking…") or refuses it
because someone else took the time — then the refusal names the nearest open times
(:func:`companion.core.open_times.offered_times`) and this device offers those still open.
Asking the desk for a visit (:meth:`.care.Visits.request`) stays for anything not bookable.
"""

from __future__ import annotations

from datetime import date, datetime

from ..core.errors import NotAllowed
from ..core.fields import iso
from ..core.models import OpenTimes, OutboxEntry
from ..core.open_times import booking_appointment_id, nearest, offered_times
from ..i18n import N_, _
from ..sync.outbox import discard_rejected
from .context import IntentContext
from .notices import intent

__all__ = ["Booking"]

BOOKED = N_("Booking… It is confirmed at the next sync.")
GONE = N_("That time is no longer open: please choose another.")


class Booking:
    """Open times and booking them (see the module docstring). Holds no state of its own."""

    def __init__(self, ctx: IntentContext) -> None:
        self.ctx = ctx

    def services(self) -> tuple[OpenTimes, ...]:
        return self.ctx.records.snapshot.open_times

    def service(self, service_id: str) -> OpenTimes | None:
        return next((s for s in self.services() if s.id == service_id), None)

    def days(self, service_id: str) -> list[tuple[date, list[datetime]]]:
        """The service's open times still ahead, by day in the patient's time zone."""
        service = self.service(service_id)
        return service.by_day(self.ctx.services.tz, self.ctx.now()) if service else []

    def taken(self) -> list[OutboxEntry]:
        """Bookings refused because the time was just taken, newest first."""
        entries = self.ctx.records.snapshot.outbox.values()
        return sorted((e for e in entries if e.type == "appointment.book" and e.state == "rejected"
                       and offered_times(e.last_error) is not None), key=lambda e: e.created_at, reverse=True)

    def offers(self, entry: OutboxEntry) -> list[datetime]:
        """Up to three open times to offer instead: the clinic's nearest that this device still sees
        open, topped up from the open times as now synced."""
        service = self.service(str(entry.payload.get("service_id")))
        if service is None:
            return []
        still = service.open_after(self.ctx.now())
        offered = [t for t in offered_times(entry.last_error) or () if t in still]
        wanted = datetime.fromisoformat(str(entry.payload["start"]).replace("Z", "+00:00"))
        return sorted(offered + [t for t in nearest(still, wanted, 3 + len(offered)) if t not in offered][
                      :max(0, 3 - len(offered))])

    @intent
    def book(self, service_id: str, start: datetime) -> str | None:
        """Book ``start`` of the service (offline too); returns the visit's id ("Booking…" until synced)."""
        service = self.service(service_id)
        if service is None or start not in service.open_after(self.ctx.now()):
            raise NotAllowed(_(GONE))
        entry_id = self.ctx.queue("appointment.book", {"service_id": service_id, "start": iso(start)}, _(BOOKED))
        return booking_appointment_id(entry_id)

    @intent
    def rebook(self, entry_id: str, start: datetime) -> str | None:
        """Take one of the offered times instead of a refused booking (which is dismissed)."""
        entry = self.ctx.records.snapshot.outbox.get(entry_id)
        if entry is None:
            raise NotAllowed(_(GONE))
        service_id = str(entry.payload["service_id"])
        appointment_id = self.book(service_id, start)
        if appointment_id is not None:
            self.dismiss(entry_id)
        return appointment_id

    @intent
    def dismiss(self, entry_id: str) -> None:
        discard_rejected(self.ctx.records.require_vault(), entry_id)
        self.ctx.records.refresh()
