"""Typed records of the patient's clinic data (stdlib only).

Every record is a frozen dataclass with ``from_dict`` (validates, names the bad
field through :class:`~companion.core.errors.RecordError`) and ``to_dict`` (the JSON
shape stored in the vault and sent on the wire). Times are aware datetimes in
UTC; views convert to the local zone for display. Money is integer cents.

``RECORD_TYPES`` maps the wire/vault kind name to its class. The records of care (visits, prep
steps, results) and the :class:`Record` base live in :mod:`.care_records`; this module is the one
place to import any record from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, ClassVar

from .care_records import APPOINTMENT_STATUSES, INTERPRETATIONS, MAX_BODY, Appointment, PrepStep, Record, Result
from .errors import RecordError
from .fields import (
    get_choice,
    get_date,
    get_datetime,
    get_int,
    get_str,
    get_str_list,
    iso,
    opt_date,
    opt_datetime,
    opt_str,
    parse_language,
    require_mapping,
)
from .open_times import OpenTimes, PrepItem

__all__ = [
    "Insurance",
    "Profile",
    "Appointment",
    "PrepStep",
    "BillLine",
    "PaymentPlan",
    "Bill",
    "Result",
    "Message",
    "Article",
    "OpenTimes",
    "PrepItem",
    "OutboxEntry",
    "Record",
    "RECORD_TYPES",
    "APPOINTMENT_STATUSES",
    "INTERPRETATIONS",
    "MAX_BODY",
    "parse_record",
    "replace",
]

INSURANCE_STATUSES = ("none", "submitted", "verified", "rejected")
BILL_STATUSES = ("open", "paid", "plan", "void")
PLAN_STATUSES = ("requested", "active", "declined")
MAX_INSTALLMENTS = 36  # a payment plan's instalments: 1..36 as the clinic records it
MIN_REQUESTED_INSTALLMENTS = 2  # what a patient may ask for (one instalment is no plan)
AUTHORS = ("patient", "clinic")
OUTBOX_STATES = ("pending", "rejected")


@dataclass(frozen=True, slots=True)
class Insurance:
    payer: str | None = None
    member_id: str | None = None
    group: str | None = None
    status: str = "none"  # none | submitted | verified | rejected
    note: str | None = None

    @classmethod
    def from_dict(cls, data: Any, path: str = "insurance") -> Insurance:
        d = require_mapping(data, path)
        return cls(
            payer=opt_str(d, "payer", path, max_len=200),
            member_id=opt_str(d, "member_id", path, max_len=100),
            group=opt_str(d, "group", path, max_len=100),
            status=get_choice(d, "status", INSURANCE_STATUSES, path, default="none"),
            note=opt_str(d, "note", path, max_len=1000),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"payer": self.payer, "member_id": self.member_id, "group": self.group,
                "status": self.status, "note": self.note}


@dataclass(frozen=True, slots=True)
class Profile(Record):
    record_kind: ClassVar[str] = "profile"
    id: str
    name: str
    dob: date | None = None
    phone: str | None = None
    email: str | None = None
    insurance: Insurance = field(default_factory=Insurance)
    prep_test_due: date | None = None  # the clinic's next PrEP test date (the app reminds the patient)

    @classmethod
    def from_dict(cls, data: Any, path: str = "profile") -> Profile:
        d = require_mapping(data, path)
        ins = d.get("insurance")
        return cls(
            id=get_str(d, "id", path, max_len=100),
            name=get_str(d, "name", path, max_len=200),
            dob=opt_date(d, "dob", path),
            phone=opt_str(d, "phone", path, max_len=40),
            email=opt_str(d, "email", path, max_len=200),
            insurance=Insurance() if ins is None else Insurance.from_dict(ins, f"{path}.insurance"),
            prep_test_due=opt_date(d, "prep_test_due", path),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "dob": self.dob.isoformat() if self.dob else None,
                "phone": self.phone, "email": self.email, "insurance": self.insurance.to_dict(),
                "prep_test_due": self.prep_test_due.isoformat() if self.prep_test_due else None}


@dataclass(frozen=True, slots=True)
class BillLine:
    description: str
    cents: int

    @classmethod
    def from_dict(cls, data: Any, path: str) -> BillLine:
        d = require_mapping(data, path)
        return cls(description=get_str(d, "description", path, max_len=300),
                   cents=get_int(d, "cents", path, minimum=0, maximum=10**9))

    def to_dict(self) -> dict[str, Any]:
        return {"description": self.description, "cents": self.cents}


@dataclass(frozen=True, slots=True)
class PaymentPlan:
    status: str  # requested | active | declined
    installments: int
    note: str | None = None

    @classmethod
    def from_dict(cls, data: Any, path: str = "payment_plan") -> PaymentPlan:
        d = require_mapping(data, path)
        return cls(status=get_choice(d, "status", PLAN_STATUSES, path),
                   installments=get_int(d, "installments", path, minimum=1, maximum=MAX_INSTALLMENTS),
                   note=opt_str(d, "note", path, max_len=1000))

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "installments": self.installments, "note": self.note}


@dataclass(frozen=True, slots=True)
class Bill(Record):
    record_kind: ClassVar[str] = "bill"
    id: str
    description: str
    total_cents: int  # charges before insurance
    insurance_paid_cents: int
    patient_cents: int  # the patient's responsibility
    due: date
    status: str = "open"
    lines: tuple[BillLine, ...] = ()
    payment_plan: PaymentPlan | None = None

    @classmethod
    def from_dict(cls, data: Any, path: str = "bill") -> Bill:
        d = require_mapping(data, path)
        raw_lines = d.get("lines") or []
        if not isinstance(raw_lines, list):
            raise RecordError(f"{path}.lines", "expected a list")
        plan = d.get("payment_plan")
        return cls(
            id=get_str(d, "id", path, max_len=100),
            description=get_str(d, "description", path, max_len=500),
            total_cents=get_int(d, "total_cents", path, minimum=0, maximum=10**9),
            insurance_paid_cents=get_int(d, "insurance_paid_cents", path, minimum=0, maximum=10**9, default=0),
            patient_cents=get_int(d, "patient_cents", path, minimum=0, maximum=10**9),
            due=get_date(d, "due", path),
            status=get_choice(d, "status", BILL_STATUSES, path, default="open"),
            lines=tuple(BillLine.from_dict(x, f"{path}.lines[{i}]") for i, x in enumerate(raw_lines)),
            payment_plan=None if plan is None else PaymentPlan.from_dict(plan, f"{path}.payment_plan"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "description": self.description, "total_cents": self.total_cents,
                "insurance_paid_cents": self.insurance_paid_cents, "patient_cents": self.patient_cents,
                "due": self.due.isoformat(), "status": self.status, "lines": [x.to_dict() for x in self.lines],
                "payment_plan": self.payment_plan.to_dict() if self.payment_plan else None}


@dataclass(frozen=True, slots=True)
class Message(Record):
    record_kind: ClassVar[str] = "message"
    id: str
    thread: str  # e.g. "general", "billing", "results", "counselling"
    author: str  # patient | clinic
    body: str
    sent_at: datetime
    author_name: str | None = None  # staff display name, never the patient's
    read_at: datetime | None = None
    client_id: str | None = None  # the outbox id of a patient's message, echoed by the server

    @classmethod
    def from_dict(cls, data: Any, path: str = "message") -> Message:
        d = require_mapping(data, path)
        return cls(
            id=get_str(d, "id", path, max_len=100),
            thread=get_str(d, "thread", path, max_len=50),
            author=get_choice(d, "author", AUTHORS, path),
            body=get_str(d, "body", path, max_len=MAX_BODY),
            sent_at=get_datetime(d, "sent_at", path),
            author_name=opt_str(d, "author_name", path, max_len=200),
            read_at=opt_datetime(d, "read_at", path),
            client_id=opt_str(d, "client_id", path, max_len=100),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "thread": self.thread, "author": self.author, "body": self.body,
                "sent_at": iso(self.sent_at), "author_name": self.author_name, "read_at": iso(self.read_at),
                "client_id": self.client_id}


MAX_TRANSLATIONS = 5  # other languages one article may carry


@dataclass(frozen=True, slots=True)
class Article(Record):
    record_kind: ClassVar[str] = "article"
    id: str
    title: str
    body: str  # Markdown
    published_at: datetime
    tags: tuple[str, ...] = ()
    appointment_kind: str | None = None  # ties "what to expect" to a visit kind
    # The same article in other languages: (language code, title, body), e.g. ("es", "Qué esperar", "…").
    translations: tuple[tuple[str, str, str], ...] = ()

    def in_language(self, language: str) -> tuple[str, str]:
        """``(title, body)`` in ``language`` when the clinic wrote that version, else as written."""
        return next(((t, b) for code, t, b in self.translations if code == language), (self.title, self.body))

    @classmethod
    def from_dict(cls, data: Any, path: str = "article") -> Article:
        d = require_mapping(data, path)
        raw = d.get("translations") or {}
        versions = require_mapping(raw, f"{path}.translations")
        if len(versions) > MAX_TRANSLATIONS:
            raise RecordError(f"{path}.translations", f"at most {MAX_TRANSLATIONS} languages")
        translations = []
        for code, version in sorted(versions.items()):
            where = f"{path}.translations.{str(code)[:10]}"
            if parse_language(code) is None:
                raise RecordError(where, "not a language code like es")
            text = require_mapping(version, where)
            translations.append((code, get_str(text, "title", where, max_len=200),
                                 get_str(text, "body", where, max_len=100_000)))
        return cls(
            id=get_str(d, "id", path, max_len=100),
            title=get_str(d, "title", path, max_len=200),
            body=get_str(d, "body", path, max_len=100_000),
            published_at=get_datetime(d, "published_at", path),
            tags=get_str_list(d, "tags", path),
            appointment_kind=opt_str(d, "appointment_kind", path, max_len=200),
            translations=tuple(translations),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "title": self.title, "body": self.body,
                               "published_at": iso(self.published_at), "tags": list(self.tags),
                               "appointment_kind": self.appointment_kind}
        if self.translations:  # absent when there are none: what older apps read stays as it was
            out["translations"] = {code: {"title": t, "body": b} for code, t, b in self.translations}
        return out


@dataclass(frozen=True, slots=True)
class OutboxEntry(Record):
    """A command queued on the device until the server acknowledges it (``id`` is the client UUID)."""

    record_kind: ClassVar[str] = "outbox"
    id: str
    type: str
    payload: Mapping[str, Any]
    created_at: datetime
    state: str = "pending"  # pending | rejected (kept to show the user why)
    attempts: int = 0
    last_error: str | None = None

    @classmethod
    def from_dict(cls, data: Any, path: str = "outbox") -> OutboxEntry:
        d = require_mapping(data, path)
        payload = require_mapping(d.get("payload", {}), f"{path}.payload")
        return cls(
            id=get_str(d, "id", path, max_len=100),
            type=get_str(d, "type", path, max_len=50),
            payload=dict(payload),
            created_at=get_datetime(d, "created_at", path),
            state=get_choice(d, "state", OUTBOX_STATES, path, default="pending"),
            attempts=get_int(d, "attempts", path, minimum=0, default=0),
            last_error=opt_str(d, "last_error", path, max_len=1000),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "payload": dict(self.payload), "created_at": iso(self.created_at),
                "state": self.state, "attempts": self.attempts, "last_error": self.last_error}


RECORD_TYPES: dict[str, type[Record]] = {
    cls.record_kind: cls for cls in (Profile, Appointment, PrepStep, Bill, Result, Message, Article, OpenTimes)
}


def parse_record(kind: str, data: Any, path: str = "") -> Record:
    """Parse ``data`` as a record of wire kind ``kind`` (``appointment``, ``prep``, …)."""
    cls = RECORD_TYPES.get(kind)
    if cls is None:
        raise RecordError(path or "kind", f"unknown record kind {kind[:40]!r}")
    return cls.from_dict(data, path or kind)
