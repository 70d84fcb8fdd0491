"""The records of care (stdlib only): visits, their preparation steps, lab results — and
:class:`Record`, the base every record kind shares.

Split from :mod:`companion.core.models`, which re-exports everything here: import records from
``companion.core.models``. The conventions are that module's (``from_dict`` validates and names
the bad field, ``to_dict`` is the vault's and the wire's JSON shape, times are aware UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, TypeVar

from .fields import (
    get_bool,
    get_choice,
    get_datetime,
    get_int,
    get_str,
    iso,
    opt_date,
    opt_datetime,
    opt_str,
    require_mapping,
)

__all__ = ["APPOINTMENT_STATUSES", "INTERPRETATIONS", "MAX_BODY", "Appointment", "PrepStep", "Record", "Result"]

APPOINTMENT_STATUSES = ("requested", "scheduled", "confirmed", "checked_in", "completed", "cancelled", "no_show")
INTERPRETATIONS = ("negative", "positive", "indeterminate")
MAX_BODY = 5_000

R = TypeVar("R", bound="Record")


class Record:
    """Base of records with an ``id``; ``record_kind`` is the name used on the wire and in the vault."""

    record_kind: ClassVar[str] = ""
    id: str

    @classmethod
    def from_dict(cls: type[R], data: Any, path: str = "") -> R:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Appointment(Record):
    record_kind: ClassVar[str] = "appointment"
    id: str
    start: datetime
    minutes: int
    visit_kind: str
    status: str = "scheduled"
    location: str | None = None
    provider: str | None = None
    what_to_bring: str | None = None
    sensitive: bool = False
    sequence: int = 0  # bumped by the server on every reschedule (iCalendar SEQUENCE)
    checked_in_at: datetime | None = None
    note: str | None = None

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)

    @classmethod
    def from_dict(cls, data: Any, path: str = "appointment") -> Appointment:
        d = require_mapping(data, path)
        return cls(
            id=get_str(d, "id", path, max_len=100),
            start=get_datetime(d, "start", path),
            minutes=get_int(d, "minutes", path, minimum=1, maximum=24 * 60),
            visit_kind=get_str(d, "kind", path, max_len=200),
            status=get_choice(d, "status", APPOINTMENT_STATUSES, path, default="scheduled"),
            location=opt_str(d, "location", path, max_len=500),
            provider=opt_str(d, "provider", path, max_len=200),
            what_to_bring=opt_str(d, "what_to_bring", path, max_len=2000),
            sensitive=get_bool(d, "sensitive", path, default=False),
            sequence=get_int(d, "sequence", path, minimum=0, default=0),
            checked_in_at=opt_datetime(d, "checked_in_at", path),
            note=opt_str(d, "note", path, max_len=2000),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "start": iso(self.start), "minutes": self.minutes, "kind": self.visit_kind,
                "status": self.status, "location": self.location, "provider": self.provider,
                "what_to_bring": self.what_to_bring, "sensitive": self.sensitive, "sequence": self.sequence,
                "checked_in_at": iso(self.checked_in_at), "note": self.note}


@dataclass(frozen=True, slots=True)
class PrepStep(Record):
    record_kind: ClassVar[str] = "prep"
    id: str
    appointment_id: str
    title: str
    body: str
    before_minutes: int  # the step starts this long before the appointment
    done_at: datetime | None = None

    @classmethod
    def from_dict(cls, data: Any, path: str = "prep") -> PrepStep:
        d = require_mapping(data, path)
        return cls(
            id=get_str(d, "id", path, max_len=100),
            appointment_id=get_str(d, "appointment_id", path, max_len=100),
            title=get_str(d, "title", path, max_len=200),
            body=get_str(d, "body", path, max_len=MAX_BODY, allow_empty=True),
            before_minutes=get_int(d, "before_minutes", path, minimum=0, maximum=60 * 24 * 60),
            done_at=opt_datetime(d, "done_at", path),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "appointment_id": self.appointment_id, "title": self.title, "body": self.body,
                "before_minutes": self.before_minutes, "done_at": iso(self.done_at)}


@dataclass(frozen=True, slots=True)
class Result(Record):
    record_kind: ClassVar[str] = "result"
    id: str
    test: str
    interpretation: str  # negative | positive | indeterminate
    released_at: datetime
    loinc: str | None = None
    value: str | None = None
    reference_range: str | None = None
    note: str | None = None
    sensitive: bool = False
    appointment_id: str | None = None
    acknowledged_at: datetime | None = None
    sample_taken: date | None = None  # the day the sample was taken (window periods count from it); older feeds lack it

    @classmethod
    def from_dict(cls, data: Any, path: str = "result") -> Result:
        d = require_mapping(data, path)
        return cls(
            id=get_str(d, "id", path, max_len=100),
            test=get_str(d, "test", path, max_len=200),
            interpretation=get_choice(d, "interpretation", INTERPRETATIONS, path),
            released_at=get_datetime(d, "released_at", path),
            loinc=opt_str(d, "loinc", path, max_len=20),
            value=opt_str(d, "value", path, max_len=200),
            reference_range=opt_str(d, "reference_range", path, max_len=200),
            note=opt_str(d, "note", path, max_len=MAX_BODY),
            sensitive=get_bool(d, "sensitive", path, default=False),
            appointment_id=opt_str(d, "appointment_id", path, max_len=100),
            acknowledged_at=opt_datetime(d, "acknowledged_at", path),
            sample_taken=opt_date(d, "sample_taken", path),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "test": self.test, "interpretation": self.interpretation,
                "released_at": iso(self.released_at), "loinc": self.loinc, "value": self.value,
                "reference_range": self.reference_range, "note": self.note, "sensitive": self.sensitive,
                "appointment_id": self.appointment_id, "acknowledged_at": iso(self.acknowledged_at),
                "sample_taken": self.sample_taken.isoformat() if self.sample_taken else None}


