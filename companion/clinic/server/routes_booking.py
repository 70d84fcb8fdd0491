"""Staff API: bookable services with their weekly hours, blocks, open times, and booking for a patient.

    GET    /v1/staff/services                          services with their hours           psr, clinician
    POST   /v1/staff/services                          a new service (+ hours)             psr
    PUT    /v1/staff/services/{service_id}             replace a service and its hours     psr
    GET    /v1/staff/services/{service_id}/open-times  its open starts (UTC)               psr, clinician
    GET    /v1/staff/blocks                            blocks not yet over                 psr, clinician
    POST   /v1/staff/blocks                            close a room/provider or the clinic psr
    DELETE /v1/staff/blocks/{block_id}                 reopen                              psr
    POST   /v1/staff/patients/{patient_id}/bookings    book an open time for a patient     psr

Every change republishes the open times devices see (see :mod:`.open_times`). A time that was
just taken is 409 ``conflict`` whose message is ``slot_taken`` and the nearest open starts.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import AfterValidator, Field, StrictBool, StrictInt
from pydantic import StringConstraints as Text

from ...core.clinic_profile import WEEKDAYS
from ...core.fields import iso
from . import booking
from . import patients as patient_store
from .audited import no_patient, read_record, write_record
from .auth import staff_with
from .context import get_ctx
from .database import Tx
from .errors import found
from .open_times import open_slots
from .principals import StaffPrincipal
from .records import Row, appointment_view
from .schemas import T40, T200, IsoTime, Strict, storable_text

router = APIRouter(tags=["staff: booking"])

ReadPatients = Annotated[StaffPrincipal, Depends(staff_with("patients.read"))]
WritePatients = Annotated[StaffPrincipal, Depends(staff_with("patients.write"))]
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


def _clock(value: str) -> str:
    if not _CLOCK.match(value):
        raise ValueError('expected a time of day "HH:MM"')
    return value


Clock = Annotated[str, AfterValidator(_clock)]


def _this_era(value: datetime) -> datetime:
    """A schedule's time is this century's (a year like 275 would not even store as sortable text)."""
    if not 2000 <= value.astimezone(UTC).year <= 2199:
        raise ValueError("expected a time between the years 2000 and 2199")
    return value.astimezone(UTC)


When = Annotated[IsoTime, AfterValidator(_this_era)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
assert set(Weekday.__args__) == set(WEEKDAYS)  # type: ignore[attr-defined]


class HoursIn(Strict):
    day: Weekday
    opens: Clock
    closes: Clock
    resource: T200

    def model_post_init(self, context: Any) -> None:
        if self.closes <= self.opens:
            raise ValueError(f"{self.day} {self.opens}-{self.closes} closes before it opens")


PrepBody = Annotated[str, Text(strict=True, max_length=2000), AfterValidator(storable_text)]  # may be empty


class PrepIn(Strict):
    title: T200
    body: PrepBody | None = None
    before_minutes: StrictInt = Field(0, ge=0, le=14 * 24 * 60)


class ServiceIn(Strict):
    name: T200
    minutes: StrictInt = Field(ge=5, le=480)
    prep: list[PrepIn] = Field(default_factory=list, max_length=20)
    hours: list[HoursIn] = Field(default_factory=list, max_length=100)
    sensitive: StrictBool = False
    active: StrictBool = True
    fast_track: StrictBool = False  # offered to partners on an anonymous notice


class BlockIn(Strict):
    starts_at: When
    ends_at: When
    resource: T200 | None = None
    reason: T200 | None = None


class BookingIn(Strict):
    service_id: T40
    start: When


def _service_out(request: Request, row: Row) -> dict[str, Any]:
    with get_ctx(request).db.read() as conn:
        return booking.service_view(conn, row)


def _block_view(row: Row) -> dict[str, Any]:
    return {"id": row["id"], "resource": row["resource"], "starts_at": iso(row["starts_at"]),
            "ends_at": iso(row["ends_at"]), "reason": row["reason"]}


@router.get("/v1/staff/services", summary="Bookable services with their weekly hours")
def list_services(request: Request, member: ReadPatients) -> dict[str, Any]:
    with get_ctx(request).db.read() as conn:
        return {"services": [booking.service_view(conn, r) for r in booking.list_services(conn)]}


@router.post("/v1/staff/services", status_code=201, summary="Add a bookable service")
def add_service(body: ServiceIn, request: Request, member: WritePatients) -> dict[str, Any]:
    site = get_ctx(request).settings.site
    row = write_record(request, member, "service.create",
                       lambda tx, now: booking.save_service(tx, site, _fields(body), now), patient_of=no_patient)
    return _service_out(request, row)


@router.put("/v1/staff/services/{service_id}", summary="Replace a service and its weekly hours")
def replace_service(service_id: str, body: ServiceIn, request: Request, member: WritePatients) -> dict[str, Any]:
    site = get_ctx(request).settings.site

    def change(tx: Tx, now: datetime) -> Row:
        found(booking.get_service(tx, service_id), "service")
        return booking.save_service(tx, site, _fields(body), now, service_id=service_id)

    return _service_out(request, write_record(request, member, "service.update", change, patient_of=no_patient))


def _fields(body: ServiceIn) -> dict[str, Any]:
    return body.model_dump()


@router.get("/v1/staff/services/{service_id}/open-times", summary="A service's open starts (UTC, soonest first)")
def service_open_times(service_id: str, request: Request, member: ReadPatients) -> dict[str, Any]:
    ctx = get_ctx(request)
    row = read_record(request, member, "read.open_times", "service", lambda c: booking.get_service(c, service_id),
                      patient_of=no_patient)
    with ctx.db.read() as conn:
        slots = open_slots(conn, ctx.settings.site, row, ctx.now())
    return {"service_id": service_id, "open": [iso(t) for t in slots]}


@router.get("/v1/staff/blocks", summary="Blocks (holidays, a provider away) that are not over")
def list_blocks(request: Request, member: ReadPatients) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        return {"blocks": [_block_view(r) for r in booking.list_blocks(conn, ctx.now())]}


@router.post("/v1/staff/blocks", status_code=201, summary="Close a room or provider, or the clinic, for a while")
def add_block(body: BlockIn, request: Request, member: WritePatients) -> dict[str, Any]:
    site = get_ctx(request).settings.site
    return _block_view(write_record(request, member, "block.create",
                                    lambda tx, now: booking.add_block(tx, site, body.model_dump(), member.id, now),
                                    patient_of=no_patient))


@router.delete("/v1/staff/blocks/{block_id}", status_code=204, summary="Remove a block")
def remove_block(block_id: str, request: Request, member: WritePatients) -> Response:
    ctx = get_ctx(request)

    def remove(tx: Tx, now: datetime) -> Row:
        row = found(next((b for b in booking.list_blocks(tx, now) if b["id"] == block_id), None), "block")
        booking.remove_block(tx, ctx.settings.site, row, now)
        return row

    write_record(request, member, "block.delete", remove, patient_of=no_patient)
    return Response(status_code=204)


@router.post("/v1/staff/patients/{patient_id}/bookings", status_code=201, summary="Book an open time for a patient")
def book_for_patient(patient_id: str, body: BookingIn, request: Request, member: WritePatients) -> dict[str, Any]:
    site = get_ctx(request).settings.site

    def book(tx: Tx, now: datetime) -> Row:
        found(patient_store.get_patient(tx, patient_id), "patient")
        found(booking.get_service(tx, body.service_id), "service")
        return booking.book_open_time(tx, site, service_id=body.service_id, start=body.start.astimezone(UTC),
                                      patient_id=patient_id, source="desk", now=now)

    return appointment_view(write_record(request, member, "appointment.book", book))

