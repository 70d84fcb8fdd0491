"""Appointments and their prep steps.

Every appointment change goes through :func:`_save_appointment`, which publishes the record and
bumps ``sequence`` when the time moves (a reschedule: calendars use it as iCalendar SEQUENCE to
replace the old event instead of adding a second one). Every change of status — a staff edit,
a staff cancellation, a device's confirm, cancel or check-in — is decided by the one visit state
machine, :func:`companion.core.care_rules.visit_after` (a refusal raises
:class:`~companion.core.errors.NotAllowed`). Prep steps are published by :func:`_save_prep`; deleting
one leaves a tombstone so devices drop it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...core.care_rules import Actor, action_for_status, visit_after
from .changes import retract, save_and_publish
from .database import Tx
from .pagination import Order, PageRequest, paginate
from .records import Row, appointment_of, prep_of, row_by_id
from .schema import appointments, prep_steps
from .tokens import new_id

_EDITABLE = ("start", "minutes", "kind", "location", "provider", "what_to_bring", "sensitive", "note", "status",
             "checked_in_at")


def get_appointment(conn: Connection | Tx, appointment_id: str) -> Row | None:
    return row_by_id(conn, appointments, appointment_id)


APPOINTMENT_ORDER = Order.of("appointments", appointments.c.start, appointments.c.id)
PREP_ORDER = Order.of("prep", (prep_steps.c.before_minutes, True), prep_steps.c.id)


def list_appointments(conn: Connection, patient_id: str, page: PageRequest) -> tuple[list[Row], str | None]:
    """One page of the patient's appointments, earliest start first."""
    return paginate(conn, sa.select(appointments).where(appointments.c.patient_id == patient_id),
                    APPOINTMENT_ORDER, page)


def create_appointment(tx: Tx, patient_id: str, fields: Mapping[str, Any], now: datetime, *,
                       appointment_id: str | None = None) -> Row:
    """A new appointment; ``appointment_id`` only for a device's request (see core.requests)."""
    appointment_id = appointment_id or new_id("apt")
    values: dict[str, Any] = {key: fields.get(key) for key in _EDITABLE}
    values.update(id=appointment_id, patient_id=patient_id, sequence=0, created_at=now, updated_at=now,
                  status=fields.get("status") or "scheduled", sensitive=bool(fields.get("sensitive")))
    tx.execute(sa.insert(appointments).values(values))
    return _save_appointment(tx, appointment_id, {}, now)


def update_appointment(tx: Tx, appointment_id: str, fields: Mapping[str, Any], now: datetime) -> Row:
    """A staff edit, PATCH semantics; a new ``start`` or ``minutes`` is a reschedule, a new
    ``status`` is the staff action that sets it (NotAllowed when the visit's state forbids it)."""
    values = {key: fields[key] for key in _EDITABLE if key in fields}
    for required in ("start", "minutes", "kind", "status", "sensitive"):
        if required in values and values[required] is None:
            values.pop(required)
    current = get_appointment(tx, appointment_id)
    if current is not None and "status" in values:
        values["status"] = _decide(current, action_for_status(values["status"]), "staff", now)
    return _save_appointment(tx, appointment_id, values, now)


def act_on_appointment(tx: Tx, appointment: Row, action: str, actor: Actor, now: datetime,
                       note: str | None = None) -> Row:
    """``actor`` confirms, cancels, checks in to… ``appointment`` (see :mod:`companion.core.care_rules`).

    Raises NotAllowed when the visit's state or time forbids it; returns the row unchanged when
    the action was already done (a second confirm), so callers compare statuses to see a change.
    """
    values: dict[str, Any] = {}
    status = _decide(appointment, action, actor, now)
    if status != appointment["status"]:
        values["status"] = status
    if note:
        values["note"] = note
    return _save_appointment(tx, appointment["id"], values, now) if values else appointment


def _decide(appointment: Row, action: str, actor: Actor, now: datetime) -> str:
    return visit_after(appointment["status"], action, actor, start=appointment["start"],
                       minutes=appointment["minutes"], now=now)


def _save_appointment(tx: Tx, appointment_id: str, values: Mapping[str, Any], now: datetime) -> Row:
    """The one write path for appointments: applies, bumps ``sequence`` on reschedule, stamps
    ``checked_in_at`` on the first check-in (device or desk), publishes."""
    current = get_appointment(tx, appointment_id)
    if current is None:
        raise LookupError(appointment_id)
    update = dict(values)
    moved = any(key in values and values[key] != current[key] for key in ("start", "minutes"))
    if moved:
        update["sequence"] = current["sequence"] + 1
    if update.get("status") == "checked_in" and current["checked_in_at"] is None and not update.get("checked_in_at"):
        update["checked_in_at"] = now  # a desk check-in (status only) is a check-in too: stamp when
    if update:
        update["updated_at"] = now
    return save_and_publish(tx, appointments, appointment_id, update, appointment_of)


# -- prep steps ----------------------------------------------------------------------------------
def get_prep(conn: Connection | Tx, prep_id: str) -> Row | None:
    return row_by_id(conn, prep_steps, prep_id)


def list_prep(conn: Connection, page: PageRequest, *, patient_id: str | None = None,
              appointment_id: str | None = None) -> tuple[list[Row], str | None]:
    """One page of prep steps, the earliest step (most minutes before) first."""
    query = sa.select(prep_steps)
    if patient_id is not None:
        query = query.where(prep_steps.c.patient_id == patient_id)
    if appointment_id is not None:
        query = query.where(prep_steps.c.appointment_id == appointment_id)
    return paginate(conn, query, PREP_ORDER, page)


def create_prep(tx: Tx, appointment: Row, fields: Mapping[str, Any], now: datetime) -> Row:
    values = {"id": new_id("prp"), "patient_id": appointment["patient_id"], "appointment_id": appointment["id"],
              "title": fields["title"], "body": fields.get("body") or "", "before_minutes": fields["before_minutes"],
              "done_at": None, "created_at": now}
    tx.execute(sa.insert(prep_steps).values(values))
    return _save_prep(tx, values["id"], {})


def set_prep_done(tx: Tx, prep_id: str, done: bool, now: datetime) -> Row:
    return _save_prep(tx, prep_id, {"done_at": now if done else None})


def delete_prep(tx: Tx, prep: Row) -> None:
    tx.execute(sa.delete(prep_steps).where(prep_steps.c.id == prep["id"]))
    retract(tx, prep["patient_id"], "prep", prep["id"])


def _save_prep(tx: Tx, prep_id: str, values: Mapping[str, Any]) -> Row:
    return save_and_publish(tx, prep_steps, prep_id, values, prep_of)
