"""Staff API: appointments, prep steps, bills and payment plans, results and their release.

What a visit's state or a bill's plan allows is decided in :mod:`companion.core.care_rules` (through
:mod:`.visits` and :mod:`.billing`); a refusal is answered 409 by the error handlers.
Each route reads or writes through :mod:`.audited`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response

from ...core.references import bill_reference, normalise_reference
from . import billing, booking, messaging, results, visits
from . import patients as patient_store
from .audited import read_patient_page, read_record, write_record
from .auth import staff_with
from .context import client_address, get_ctx
from .database import Tx
from .errors import found, invalid
from .pagination import Paging
from .principals import StaffPrincipal
from .records import Row, appointment_view, bill_view, prep_view, result_view
from .schemas import (
    AppointmentCreate,
    AppointmentUpdate,
    BillCreate,
    BillUpdate,
    CancelRequest,
    PlanSet,
    PrepCreate,
    ResultCreate,
    present,
)

router = APIRouter(tags=["staff: care"])

ReadPatients = Annotated[StaffPrincipal, Depends(staff_with("patients.read"))]
WritePatients = Annotated[StaffPrincipal, Depends(staff_with("patients.write"))]
WriteResults = Annotated[StaffPrincipal, Depends(staff_with("results.write"))]


# -- appointments ----------------------------------------------------------------------------------
def _patient(tx: Tx, patient_id: str) -> Row:
    return found(patient_store.get_patient(tx, patient_id), "patient")


@router.post("/v1/staff/patients/{patient_id}/appointments", status_code=201, summary="Book an appointment")
def add_appointment(patient_id: str, body: AppointmentCreate, request: Request,
                    member: WritePatients) -> dict[str, Any]:
    """A patient with an open request gets it fulfilled: the requested visit becomes this booking
    (the app's "Requested" turns into it) and the request's inbox item closes."""

    def book(tx: Tx, now: datetime) -> Row:
        _patient(tx, patient_id)
        for item in messaging.close_open_items(tx, patient_id, "appointment.request", member.id, now):
            wished = visits.get_appointment(tx, item["ref_id"]) if item["ref_id"] else None
            if wished is not None and wished["status"] == "requested":
                made = visits.update_appointment(tx, wished["id"], body.model_dump(), now)
                break
        else:
            made = visits.create_appointment(tx, patient_id, body.model_dump(), now)
        booking.release_booking(tx, get_ctx(request).settings.site, [made["id"]], now)  # its room's open times
        return made

    return appointment_view(write_record(request, member, "appointment.create", book))


@router.get("/v1/staff/patients/{patient_id}/appointments", summary="A patient's appointments, earliest first (paged)")
def list_appointments(patient_id: str, request: Request, member: ReadPatients, page: Paging) -> dict[str, Any]:
    return read_patient_page(request, member, patient_id, "appointments", appointment_view,
                             lambda conn, page: visits.list_appointments(conn, patient_id, page), page)


@router.get("/v1/staff/appointments/{appointment_id}", summary="One appointment")
def get_appointment(appointment_id: str, request: Request, member: ReadPatients) -> dict[str, Any]:
    return appointment_view(read_record(request, member, "read.appointment", "appointment",
                                        lambda conn: visits.get_appointment(conn, appointment_id)))


def _appointment(tx: Tx, appointment_id: str) -> Row:
    return found(visits.get_appointment(tx, appointment_id), "appointment")


@router.patch("/v1/staff/appointments/{appointment_id}",
              summary="Change or reschedule an appointment (a new start bumps its sequence)")
def update_appointment(appointment_id: str, body: AppointmentUpdate, request: Request,
                       member: WritePatients) -> dict[str, Any]:
    fields = present(body)

    def change(tx: Tx, now: datetime) -> Row:
        before = _appointment(tx, appointment_id)
        after = visits.update_appointment(tx, appointment_id, fields, now)
        booking.release_booking(tx, get_ctx(request).settings.site, [appointment_id], now, before=[before])
        if before["status"] == "requested" and after["status"] != "requested":  # the request is answered
            messaging.close_open_items(tx, after["patient_id"], "appointment.request", member.id, now,
                                       ref_id=appointment_id)
        return after

    return appointment_view(write_record(request, member, "appointment.update", change,
                                         detail={"fields": sorted(fields)}))


@router.post("/v1/staff/appointments/{appointment_id}/cancel", summary="Cancel an appointment")
def cancel_appointment(appointment_id: str, body: CancelRequest, request: Request,
                       member: WritePatients) -> dict[str, Any]:
    def cancel(tx: Tx, now: datetime) -> Row:
        row = visits.act_on_appointment(tx, _appointment(tx, appointment_id), "cancel", "staff", now,
                                        note=body.reason)
        booking.release_booking(tx, get_ctx(request).settings.site, [appointment_id], now)
        return row

    return appointment_view(write_record(request, member, "appointment.cancel", cancel))


# -- prep ------------------------------------------------------------------------------------------
@router.post("/v1/staff/appointments/{appointment_id}/prep", status_code=201, summary="Add a prep step")
def add_prep(appointment_id: str, body: PrepCreate, request: Request, member: WritePatients) -> dict[str, Any]:
    def add(tx: Tx, now: datetime) -> Row:
        return visits.create_prep(tx, _appointment(tx, appointment_id), body.model_dump(), now)

    return prep_view(write_record(request, member, "prep.create", add))


@router.get("/v1/staff/appointments/{appointment_id}/prep", summary="An appointment's prep steps (paged)")
def list_appointment_prep(appointment_id: str, request: Request, member: ReadPatients, page: Paging) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        appt = found(visits.get_appointment(conn, appointment_id), "appointment")
        rows, after = visits.list_prep(conn, page, appointment_id=appointment_id)
    ctx.audit.record_later(member, "read.prep", patient_id=appt["patient_id"], address=client_address(request))
    return {"prep": [prep_view(r) for r in rows], "next": after}


@router.get("/v1/staff/patients/{patient_id}/prep", summary="All of a patient's prep steps (paged)")
def list_patient_prep(patient_id: str, request: Request, member: ReadPatients, page: Paging) -> dict[str, Any]:
    return read_patient_page(request, member, patient_id, "prep", prep_view,
                             lambda conn, page: visits.list_prep(conn, page, patient_id=patient_id), page)


@router.delete("/v1/staff/prep/{prep_id}", status_code=204, summary="Remove a prep step")
def delete_prep(prep_id: str, request: Request, member: WritePatients) -> Response:
    def delete(tx: Tx, now: datetime) -> Row:
        row = found(visits.get_prep(tx, prep_id), "prep step")
        visits.delete_prep(tx, row)
        return row

    write_record(request, member, "prep.delete", delete)
    return Response(status_code=204)


# -- bills -----------------------------------------------------------------------------------------
@router.post("/v1/staff/patients/{patient_id}/bills", status_code=201, summary="Add a bill")
def add_bill(patient_id: str, body: BillCreate, request: Request, member: WritePatients) -> dict[str, Any]:
    def add(tx: Tx, now: datetime) -> Row:
        _patient(tx, patient_id)
        return billing.create_bill(tx, patient_id, body.model_dump(), now)

    return bill_view(write_record(request, member, "bill.create", add))


@router.get("/v1/staff/patients/{patient_id}/bills", summary="A patient's bills, earliest due first (paged)")
def list_bills(patient_id: str, request: Request, member: ReadPatients, page: Paging) -> dict[str, Any]:
    return read_patient_page(request, member, patient_id, "bills", bill_view,
                             lambda conn, page: billing.list_bills(conn, patient_id, page), page)


@router.get("/v1/staff/bill-references/{reference}",
            summary="The bills with a payment reference (what a payment system received)")
def bills_by_reference(reference: Annotated[str, Path(min_length=1, max_length=40)], request: Request,
                       member: ReadPatients) -> dict[str, Any]:
    """``reference`` as the patient gave it (``BIL-4K7Q-2MXR``; any case, dashes optional): usually one
    bill (404 when none has it). Answers ``{"reference": its canonical spelling, "bills": […]}``."""
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        rows = billing.find_by_reference(conn, reference)
    if not rows:
        found(None, "bill")  # no bill has it: 404, as for any unknown id
    for row in rows:
        ctx.audit.record_later(member, "read.bill", patient_id=row["patient_id"], target=f"bill:{row['id']}",
                               address=client_address(request))
    return {"reference": normalise_reference(reference),
            "bills": [{**bill_view(r), "reference": bill_reference(r["id"])} for r in rows]}


@router.get("/v1/staff/bills/{bill_id}", summary="One bill")
def get_bill(bill_id: str, request: Request, member: ReadPatients) -> dict[str, Any]:
    return bill_view(read_record(request, member, "read.bill", "bill", lambda conn: billing.get_bill(conn, bill_id)))


def _bill(tx: Tx, bill_id: str) -> Row:
    return found(billing.get_bill(tx, bill_id), "bill")


@router.patch("/v1/staff/bills/{bill_id}", summary="Mark a bill open, paid or void")
def update_bill(bill_id: str, body: BillUpdate, request: Request, member: WritePatients) -> dict[str, Any]:
    def change(tx: Tx, now: datetime) -> Row:
        _bill(tx, bill_id)
        return billing.set_status(tx, bill_id, body.status, now)

    return bill_view(write_record(request, member, "bill.update", change, detail={"status": body.status}))


@router.put("/v1/staff/bills/{bill_id}/payment-plan", summary="Record a payment plan (active, declined…)")
def set_payment_plan(bill_id: str, body: PlanSet, request: Request, member: WritePatients) -> dict[str, Any]:
    def plan(tx: Tx, now: datetime) -> Row:
        return billing.set_plan(tx, _bill(tx, bill_id), body.status, body.installments, body.note, now, actor="staff")

    return bill_view(write_record(request, member, "bill.plan", plan,
                                  detail={"status": body.status, "installments": body.installments}))


# -- results ---------------------------------------------------------------------------------------
@router.post("/v1/staff/patients/{patient_id}/results", status_code=201,
             summary="Record a result (held: no device sees it until released)")
def add_result(patient_id: str, body: ResultCreate, request: Request, member: WriteResults) -> dict[str, Any]:
    def add(tx: Tx, now: datetime) -> Row:
        _patient(tx, patient_id)
        if body.appointment_id is not None:
            appt = visits.get_appointment(tx, body.appointment_id)
            if appt is None or appt["patient_id"] != patient_id:
                raise invalid("appointment_id: not an appointment of this patient")
        return results.create_result(tx, patient_id, body.model_dump(), member.id, now)

    return result_view(write_record(request, member, "result.create", add))


@router.get("/v1/staff/patients/{patient_id}/results",
            summary="A patient's results with release state, newest first (paged)")
def list_results(patient_id: str, request: Request, member: ReadPatients, page: Paging) -> dict[str, Any]:
    return read_patient_page(request, member, patient_id, "results", result_view,
                             lambda conn, page: results.list_results(conn, patient_id, page), page)


@router.get("/v1/staff/results/{result_id}", summary="One result with its release state")
def get_result(result_id: str, request: Request, member: ReadPatients) -> dict[str, Any]:
    return result_view(read_record(request, member, "read.result", "result",
                                   lambda conn: results.get_result(conn, result_id)))


@router.post("/v1/staff/results/{result_id}/release", summary="Release a result to the patient's devices")
def release_result(result_id: str, request: Request, member: WriteResults) -> dict[str, Any]:
    def release(tx: Tx, now: datetime) -> Row:
        return results.release_result(tx, found(results.get_result(tx, result_id), "result"), member.id, now)

    return result_view(write_record(request, member, "result.release", release))


@router.post("/v1/staff/results/{result_id}/block", summary="Withdraw a result (devices drop a released one)")
def block_result(result_id: str, request: Request, member: WriteResults) -> dict[str, Any]:
    def block(tx: Tx, now: datetime) -> Row:
        return results.block_result(tx, found(results.get_result(tx, result_id), "result"))

    return result_view(write_record(request, member, "result.block", block))
