"""Self-booking: the desk's bookable services, their weekly hours and blocks, and booking an open time.

:func:`book_open_time` is the one way a visit is booked from an open time — by a patient's device
(mutation ``appointment.book``), by the desk for a patient, or from a partner notice's fast track.
It runs inside a :meth:`Database.write` transaction; writers are serialised, so checking the start
is still open and taking it is atomic: of two devices racing for one start exactly one gets it,
the other's answer is :func:`~companion.core.open_times.slot_taken_reason` with the nearest three
open starts (:class:`~companion.core.errors.NotAllowed`, a business rejection).

The visit it creates is ``confirmed`` (the patient chose the time), of the service's name and
length, on the free resource (as its ``provider``), with the service's prep checklist as prep
steps. A cancelled visit frees its time: open times ignore bookings of cancelled visits, and
:func:`release_booking` republishes them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...core.clinic_profile import ClinicSite
from ...core.errors import NotAllowed
from ...core.open_times import nearest, slot_taken_reason
from . import visits
from .database import Tx
from .open_times import open_slots, publish_for_resources, publish_open_times, resources_named_by
from .records import Row, row_by_id
from .schema import bookings, schedule_blocks, service_hours, services
from .tokens import new_id

__all__ = ["add_block", "book_open_time", "get_service", "list_blocks", "list_services", "release_booking",
           "remove_block", "save_service", "service_view"]

SOURCES = ("patient", "desk", "notice")


def get_service(conn: Connection | Tx, service_id: str) -> Row | None:
    return row_by_id(conn, services, service_id)


def _hours(conn: Connection | Tx, service_id: str) -> list[Row]:
    query = sa.select(service_hours).where(service_hours.c.service_id == service_id)
    return list(conn.execute(query.order_by(service_hours.c.id)).mappings())


def service_view(conn: Connection | Tx, row: Row) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "minutes": row["minutes"], "prep": json.loads(row["prep"] or "[]"),
            "sensitive": bool(row["sensitive"]), "active": bool(row["active"]), "fast_track": bool(row["fast_track"]),
            "hours": [{"day": h["weekday"], "opens": h["opens"], "closes": h["closes"], "resource": h["resource"]}
                      for h in _hours(conn, row["id"])]}


def list_services(conn: Connection | Tx, *, include_inactive: bool = True) -> list[Row]:
    query = sa.select(services).order_by(services.c.name, services.c.id)
    if not include_inactive:
        query = query.where(services.c.active.is_(True))
    return list(conn.execute(query).mappings())


def save_service(tx: Tx, site: ClinicSite, fields: Mapping[str, Any], now: datetime,
                 service_id: str | None = None) -> Row:
    """Create (no ``service_id``) or replace a service with its weekly hours; republishes its open times
    and those of every service sharing a resource it used or uses."""
    before = {h["resource"] for h in _hours(tx, service_id)} if service_id else set()
    values = {"name": fields["name"], "minutes": fields["minutes"], "prep": json.dumps(list(fields.get("prep") or [])),
              "sensitive": bool(fields.get("sensitive")), "active": bool(fields.get("active", True)),
              "fast_track": bool(fields.get("fast_track")), "updated_at": now}
    if service_id is None:
        service_id = new_id("svc")
        tx.execute(sa.insert(services).values(id=service_id, created_at=now, **values))
    else:
        tx.execute(sa.update(services).where(services.c.id == service_id).values(**values))
        tx.execute(sa.delete(service_hours).where(service_hours.c.service_id == service_id))
    hours = [{"id": new_id("hrs"), "service_id": service_id, "weekday": h["day"], "opens": h["opens"],
              "closes": h["closes"], "resource": h["resource"]} for h in fields.get("hours") or []]
    if hours:
        tx.execute(sa.insert(service_hours), hours)
    publish_open_times(tx, site, service_id, now)
    publish_for_resources(tx, site, before | {h["resource"] for h in hours}, now)
    row = get_service(tx, service_id)
    assert row is not None
    return row


def list_blocks(conn: Connection | Tx, now: datetime) -> list[Row]:
    """Blocks that have not ended yet, soonest first."""
    query = sa.select(schedule_blocks).where(schedule_blocks.c.ends_at > now)
    return list(conn.execute(query.order_by(schedule_blocks.c.starts_at, schedule_blocks.c.id)).mappings())


def add_block(tx: Tx, site: ClinicSite, fields: Mapping[str, Any], staff_id: str, now: datetime) -> Row:
    if fields["ends_at"] <= fields["starts_at"]:
        raise NotAllowed("a block must end after it starts")
    block_id = new_id("blk")
    tx.execute(sa.insert(schedule_blocks).values(
        id=block_id, resource=fields.get("resource") or None, starts_at=fields["starts_at"], ends_at=fields["ends_at"],
        reason=fields.get("reason"), created_by=staff_id, created_at=now))
    publish_for_resources(tx, site, [fields.get("resource") or None], now)
    row = row_by_id(tx, schedule_blocks, block_id)
    assert row is not None
    return row


def remove_block(tx: Tx, site: ClinicSite, block: Row, now: datetime) -> None:
    tx.execute(sa.delete(schedule_blocks).where(schedule_blocks.c.id == block["id"]))
    publish_for_resources(tx, site, [block["resource"]], now)


def book_open_time(tx: Tx, site: ClinicSite, *, service_id: str, start: datetime, patient_id: str, source: str,
                   now: datetime, appointment_id: str | None = None) -> Row:
    """Book ``start`` of the service for the patient (see the module docstring); the new visit's row."""
    assert source in SOURCES
    service = get_service(tx, service_id)
    if service is None or not service["active"]:
        raise NotAllowed("unknown service")
    slots = open_slots(tx, site, service, now)
    free = slots.get(start)
    if not free:
        raise NotAllowed(slot_taken_reason(nearest(slots, start)))
    resource = free[0]
    appt = visits.create_appointment(tx, patient_id, {
        "start": start, "minutes": service["minutes"], "kind": service["name"], "status": "confirmed",
        "provider": resource, "location": site.schedule.place, "sensitive": bool(service["sensitive"])},
        now, appointment_id=appointment_id)
    tx.execute(sa.insert(bookings).values(
        id=new_id("bkg"), appointment_id=appt["id"], service_id=service_id, resource=resource, start=start,
        end=start + timedelta(minutes=service["minutes"]), source=source, created_at=now))
    for step in json.loads(service["prep"] or "[]"):
        visits.create_prep(tx, appt, {"title": step["title"], "body": step.get("body") or "",
                                      "before_minutes": int(step.get("before_minutes") or 0)}, now)
    publish_for_resources(tx, site, [resource], now)
    return appt


def booking_of(conn: Connection | Tx, appointment_id: str) -> Row | None:
    query = sa.select(bookings).where(bookings.c.appointment_id == appointment_id)
    row: Row | None = conn.execute(query).mappings().first()
    return row


def release_booking(tx: Tx, site: ClinicSite, appointment_ids: Sequence[str], now: datetime,
                    before: Sequence[Row] = ()) -> None:
    """After visits were made, cancelled or moved: the booking follows its visit's time, and the
    open times of its resource, and of the resources the visits (and ``before``, what they were)
    name as provider or location, are republished."""
    resources: set[str] = set()
    rows = list(before)
    for appointment_id in appointment_ids:
        held, appt = booking_of(tx, appointment_id), visits.get_appointment(tx, appointment_id)
        if appt is not None:
            rows.append(appt)
        if held is None or appt is None:
            continue
        resources.add(held["resource"])
        if (held["start"], held["end"]) != (appt["start"], appt["start"] + timedelta(minutes=appt["minutes"])):
            tx.execute(sa.update(bookings).where(bookings.c.id == held["id"]).values(
                start=appt["start"], end=appt["start"] + timedelta(minutes=appt["minutes"])))
    resources |= resources_named_by(tx, rows)
    if resources:
        publish_for_resources(tx, site, resources, now)
