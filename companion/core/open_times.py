"""Bookable services and their open times, as both sides read them (stdlib only).

The clinic publishes one :class:`OpenTimes` record per bookable service in the clinic-wide feed
(like articles): the service's name and length, its prep checklist, and the starts still open in
the next weeks. The starts travel as whole minutes after ``base`` (a UTC midnight), so three weeks
of 15-minute slots cost a couple of kilobytes, not a list of ISO strings::

    OpenTimes(id="svc_…", name="STI screening", minutes=15, base=…, starts=(540, 555, …))
    record.times()                       # -> [datetime, …] (UTC, soonest first)
    record.by_day(tz, now)               # -> [(date, [datetime, …]), …] the open times still ahead
    nearest(record.times(), wanted, 3)   # -> the three open starts closest to a wanted one

A booking (mutation ``appointment.book``: ``service_id`` and ``start``) becomes an appointment
under :func:`booking_appointment_id` of the mutation's UUID, so the device can show "Booking…"
for it at once. When the time was just taken, the server rejects the mutation with
:func:`slot_taken_reason` of the nearest open times; :func:`offered_times` reads them back.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, ClassVar

from .care_records import Record
from .errors import RecordError
from .fields import get_bool, get_datetime, get_int, get_str, iso, parse_datetime, require_mapping

__all__ = ["BOOKING_PREFIX", "MAX_STARTS", "SLOT_TAKEN", "OpenTimes", "PrepItem", "booking_appointment_id",
           "is_booking", "nearest", "offered_times", "slot_taken_reason"]

BOOKING_PREFIX = "apt_b"
SLOT_TAKEN = "slot_taken"
MAX_STARTS = 5000  # 5 weeks of 5-minute slots: far more than any clinic publishes
MAX_PREP_ITEMS = 20
_BOOKING_ID = re.compile(f"{BOOKING_PREFIX}[0-9a-f]{{32}}")


def booking_appointment_id(mutation_id: str) -> str:
    """The appointment a booking becomes (``apt_b`` + the UUID's 32 hex digits)."""
    return f"{BOOKING_PREFIX}{uuid.UUID(mutation_id).hex}"


def is_booking(appointment_id: str) -> bool:
    """Whether the visit was booked from an open time. By the id's whole shape: a desk-made id
    (``apt_`` + 14 random symbols) starts ``apt_b`` once in 32."""
    return _BOOKING_ID.fullmatch(appointment_id) is not None


def slot_taken_reason(offered: Sequence[datetime]) -> str:
    """The rejection of a booking whose time was taken: ``slot_taken`` and the nearest open starts."""
    return " ".join([SLOT_TAKEN, *(iso(t) or "" for t in offered[:3])])


def offered_times(reason: str | None) -> tuple[datetime, ...] | None:
    """The starts a ``slot_taken`` rejection offers (maybe none); ``None`` for any other reason."""
    if not reason or reason.split(" ", 1)[0] != SLOT_TAKEN:
        return None
    found = []
    for word in reason.split()[1:4]:
        try:
            found.append(parse_datetime(word, "reason"))
        except RecordError:
            continue
    return tuple(found)


def nearest(times: Iterable[datetime], wanted: datetime, count: int = 3) -> list[datetime]:
    """The ``count`` starts closest to ``wanted`` (later ones first on a tie), in time order."""
    ranked = sorted(times, key=lambda t: (abs((t - wanted).total_seconds()), t < wanted))
    return sorted(ranked[:count])


@dataclass(frozen=True, slots=True)
class PrepItem:
    """One step of a service's prep checklist (copied onto every visit booked for it)."""

    title: str
    body: str = ""
    before_minutes: int = 0

    @classmethod
    def from_dict(cls, data: Any, path: str) -> PrepItem:
        d = require_mapping(data, path)
        return cls(title=get_str(d, "title", path, max_len=200),
                   body=str(d.get("body") or "")[:2000],
                   before_minutes=get_int(d, "before_minutes", path, minimum=0, maximum=14 * 24 * 60, default=0))

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "body": self.body, "before_minutes": self.before_minutes}


@dataclass(frozen=True, slots=True)
class OpenTimes(Record):
    record_kind: ClassVar[str] = "open_times"
    id: str  # the service's id
    name: str
    minutes: int
    base: datetime  # UTC midnight the starts count from
    starts: tuple[int, ...] = ()  # minutes after base, ascending
    prep: tuple[PrepItem, ...] = ()
    sensitive: bool = False

    def times(self) -> list[datetime]:
        return [self.base + timedelta(minutes=m) for m in self.starts]

    def open_after(self, now: datetime) -> list[datetime]:
        return [t for t in self.times() if t > now]

    def by_day(self, tz: tzinfo, now: datetime) -> list[tuple[date, list[datetime]]]:
        days: dict[date, list[datetime]] = {}
        for t in self.open_after(now):
            days.setdefault(t.astimezone(tz).date(), []).append(t)
        return list(days.items())

    def is_open(self, start: datetime) -> bool:
        minutes = (start - self.base).total_seconds() / 60
        return minutes.is_integer() and int(minutes) in set(self.starts)

    @classmethod
    def from_dict(cls, data: Any, path: str = "open_times") -> OpenTimes:
        d = require_mapping(data, path)
        raw = d.get("starts") or []
        if not isinstance(raw, list) or len(raw) > MAX_STARTS:
            raise RecordError(f"{path}.starts", f"expected a list of at most {MAX_STARTS} minute offsets")
        if not all(isinstance(m, int) and not isinstance(m, bool) and 0 <= m < 10**7 for m in raw):
            raise RecordError(f"{path}.starts", "expected whole minutes after base")
        prep = d.get("prep") or []
        if not isinstance(prep, list) or len(prep) > MAX_PREP_ITEMS:
            raise RecordError(f"{path}.prep", f"expected a list of at most {MAX_PREP_ITEMS} steps")
        return cls(id=get_str(d, "id", path, max_len=100), name=get_str(d, "name", path, max_len=200),
                   minutes=get_int(d, "minutes", path, minimum=5, maximum=480),
                   base=get_datetime(d, "base", path), starts=tuple(sorted(set(raw))),
                   prep=tuple(PrepItem.from_dict(p, f"{path}.prep[{i}]") for i, p in enumerate(prep)),
                   sensitive=get_bool(d, "sensitive", path, default=False))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "minutes": self.minutes, "base": iso(self.base),
                "starts": list(self.starts), "prep": [p.to_dict() for p in self.prep], "sensitive": self.sensitive}
