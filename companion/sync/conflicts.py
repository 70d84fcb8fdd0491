"""Optimistic effects of queued mutations and the conflict rule (pure functions, no I/O).

The app never edits clinic records on the server's behalf; it queues commands
(see :mod:`companion.sync.outbox`). So that the patient sees an action at once,
each command has a local *optimistic effect* on the record it targets
(``prep.done`` sets ``done_at``, ``appointment.cancel`` sets the status, …),
and ``message.send`` adds a local message ``local-<mutation id>``. A visit's
status and a bill's plan change only as the server's rules would change them
(:mod:`companion.core.care_rules`, asked as the device at the command's time): a
command the clinic will refuse shows no effect.

The conflict rule, as WatermelonDB's ``resolveConflict``: a record pulled from
the server never overwrites a locally pending change. The server's version is
the new base, and the optimistic effects of the still-pending commands that
target the record are replayed on top of it (:func:`resolve_conflict`). Each
effect sets fields to values derived from the command alone (times come from
the command's ``created_at``), so replaying is idempotent and deterministic.
Once the server acknowledges a command its effect arrives in the server's own
version of the record with the next pull.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from ..core.care_rules import bill_after_plan, visit_after
from ..core.errors import NotAllowed
from ..core.fields import parse_datetime
from ..core.models import (
    Appointment,
    Bill,
    Message,
    OutboxEntry,
    PaymentPlan,
    PrepStep,
    Profile,
    Record,
    Result,
)
from ..core.open_times import OpenTimes, booking_appointment_id
from ..core.requests import request_appointment_id

__all__ = [
    "PROFILE_ID",
    "RecordKey",
    "apply_effect",
    "check_device_rules",
    "is_local_id",
    "local_message",
    "local_message_id",
    "pending_index",
    "resolve_conflict",
    "targets",
]

RecordKey = tuple[str, str]  # (kind, id)
PROFILE_ID = ""  # the profile is a singleton: its key ignores the patient id
LOCAL_PREFIX = "local-"

# mutation type -> (record kind, payload key holding the target id)
# device mutation -> the visit action it asks for (decided by companion.core.care_rules, as on the server)
_VISIT_ACTIONS = {"appointment.confirm": "confirm", "appointment.cancel": "cancel", "checkin.submit": "check_in"}
_TARGET: dict[str, tuple[str, str]] = {
    "message.read": ("message", "message_id"),
    "appointment.confirm": ("appointment", "appointment_id"),
    "appointment.cancel": ("appointment", "appointment_id"),
    "checkin.submit": ("appointment", "appointment_id"),
    "prep.done": ("prep", "prep_id"),
    "result.ack": ("result", "result_id"),
    "bill.plan_request": ("bill", "bill_id"),
}


def local_message_id(mutation_id: str) -> str:
    """Id of the local copy of a queued ``message.send`` (replaced by the server's echo)."""
    return f"{LOCAL_PREFIX}{mutation_id}"


def is_local_id(record_id: str) -> bool:
    return record_id.startswith(LOCAL_PREFIX)


def targets(entry: OutboxEntry) -> tuple[RecordKey, ...]:
    """The existing records whose fields ``entry`` changes optimistically (none for requests and sends)."""
    spec = _TARGET.get(entry.type)
    if spec is None:
        return ()
    kind, key = spec
    target_id = entry.payload.get(key)
    if not isinstance(target_id, str):
        return ()
    keys: list[RecordKey] = [(kind, target_id)]
    if entry.type == "checkin.submit" and _profile_fields(entry.payload):
        keys.append(("profile", PROFILE_ID))
    return tuple(keys)


def _profile_fields(payload: Any) -> dict[str, Any]:
    return {k: payload[k] for k in ("phone", "email", "insurance") if payload.get(k) is not None}


def local_message(entry: OutboxEntry) -> Message:
    """The patient's own message as shown while queued (``client_id`` lets the echo replace it)."""
    return Message(
        id=local_message_id(entry.id),
        thread=str(entry.payload.get("thread") or "general"),
        author="patient",
        body=str(entry.payload["body"]),
        sent_at=entry.created_at,
        client_id=entry.id,
    )


def local_booking(entry: OutboxEntry, service: OpenTimes | None) -> Appointment:
    """A queued ``appointment.book`` as the patient sees it until the clinic answers: ``requested``
    at the chosen time, under the id the server will use (the app shows it as "Booking…")."""
    return Appointment(id=booking_appointment_id(entry.id), start=parse_datetime(str(entry.payload["start"]), "start"),
                       minutes=service.minutes if service else 30,
                       visit_kind=service.name if service else "Visit", status="requested",
                       sensitive=service.sensitive if service else False)


def local_request(entry: OutboxEntry) -> Appointment:
    """A queued ``appointment.request`` as the patient sees it: ``requested``, under the id the server will use."""
    return Appointment(id=request_appointment_id(entry.id), start=entry.created_at, minutes=30,
                       visit_kind=str(entry.payload["kind"]), status="requested")


def apply_effect(record: Record, entry: OutboxEntry) -> Record:
    """``record`` with ``entry``'s optimistic effect; unchanged when the entry does not target it."""
    when = entry.created_at
    p = entry.payload
    t = entry.type
    if isinstance(record, Message) and t == "message.read":
        return record if record.read_at is not None else replace(record, read_at=when)
    if isinstance(record, Appointment) and t in _VISIT_ACTIONS:
        try:
            status = _visit_after(record, t, when)
        except NotAllowed:
            return record  # the clinic refuses it too: nothing to show until its answer arrives
        if t == "checkin.submit":
            return replace(record, status=status, checked_in_at=record.checked_in_at or when)
        return replace(record, status=status)
    if isinstance(record, PrepStep) and t == "prep.done":
        return replace(record, done_at=when if p.get("done", True) else None)
    if isinstance(record, Result) and t == "result.ack":
        return record if record.acknowledged_at is not None else replace(record, acknowledged_at=when)
    if isinstance(record, Bill) and t == "bill.plan_request":
        try:
            after = _bill_after_request(record)
        except NotAllowed:
            return record
        plan = PaymentPlan(status="requested", installments=int(p["installments"]), note=p.get("note"))
        return replace(record, status=after, payment_plan=plan)
    if isinstance(record, Profile) and t == "checkin.submit":
        fields = _profile_fields(p)
        ins = fields.pop("insurance", None)
        if ins is not None:
            fields["insurance"] = replace(
                record.insurance,
                payer=ins.get("payer"),
                member_id=ins.get("member_id"),
                group=ins.get("group"),
                status="submitted",
            )
        return replace(record, **fields)
    return record


def check_device_rules(record: Record, mutation_type: str, now: datetime) -> None:
    """Raise :class:`NotAllowed` (the rule's own words) when the clinic would refuse ``mutation_type``
    on ``record`` as this device sees it at ``now``; other commands pass (the server checks them)."""
    if isinstance(record, Appointment) and mutation_type in _VISIT_ACTIONS:
        _visit_after(record, mutation_type, now)
    elif isinstance(record, Bill) and mutation_type == "bill.plan_request":
        _bill_after_request(record)


def _visit_after(appointment: Appointment, mutation_type: str, now: datetime) -> str:
    return visit_after(appointment.status, _VISIT_ACTIONS[mutation_type], "device", start=appointment.start,
                       minutes=appointment.minutes, now=now)


def _bill_after_request(bill: Bill) -> str:
    return bill_after_plan(bill.status, bill.payment_plan.status if bill.payment_plan else None, "requested",
                           "device", owed_cents=bill.patient_cents)


def resolve_conflict(server: Record, pending: Sequence[OutboxEntry]) -> Record:
    """The conflict rule: the server's record with the pending commands' effects replayed in order."""
    record = server
    for entry in pending:
        record = apply_effect(record, entry)
    return record


def pending_index(entries: Iterable[OutboxEntry]) -> dict[RecordKey, list[OutboxEntry]]:
    """Pending (not rejected) entries grouped by the record they target, in queue order."""
    index: dict[RecordKey, list[OutboxEntry]] = {}
    for entry in entries:
        if entry.state != "pending":
            continue
        for key in targets(entry):
            index.setdefault(key, []).append(entry)
    return index

