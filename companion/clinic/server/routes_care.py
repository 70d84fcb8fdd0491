"""Staff API: appointments, prep steps, bills and payment plans, results and their release.

What a visit's state or a bill's plan allows is decided in :mod:`companion.core.care_rules` (through
:mod:`.visits` and :mod:`.billing`); a refusal is answered 409 by the error handlers.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from . import billing, results, visits
from . import patients as patient_store
from .auth import staff_with
from .context import client_address, get_ctx
from .errors import found, invalid
from .pagination import Paging
from .principals import StaffPrincipal
from .records import appointment_view, bill_view, prep_view, result_view
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
@router.post("/v1/staff/patients/{patient_id}/appointments", status_code=201, summary="Book an appointment")
def add_appointment(patient_id: str, body: AppointmentCreate, request: Request,
                    member: WritePatients) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.write() as tx:
        found(patient_store.get_patient(tx, patient_id), "patient")
        row = visits.create_appointment(tx, patient_id, body.model_dump(), ctx.now())
        ctx.audit.record(tx, member, "appointment.create", patient_id=patient_id, target=f"appointment:{row['id']}",
                         address=client_address(request))
    return appointment_view(row)


@router.get("/v1/staff/patients/{patient_id}/appointments", summary="A patient's appointments, earliest first (paged)")
def list_appointments(patient_id: str, request: Request, member: ReadPatients, page: Paging) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        found(patient_store.get_patient(conn, patient_id), "patient")
        rows, after = visits.list_appointments(conn, patient_id, page)
    ctx.audit.record_later(member, "read.appointments", patient_id=patient_id, address=client_address(request))
    return {"appointments": [appointment_view(r) for r in rows], "next": after}


@router.get("/v1/staff/appointments/{appointment_id}", summary="One appointment")
def get_appointment(appointment_id: str, request: Request, member: ReadPatients) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        row = found(visits.get_appointment(conn, appointment_id), "appointment")
    ctx.audit.record_later(member, "read.appointment", patient_id=row["patient_id"],
                           target=f"appointment:{appointment_id}", address=client_address(request))
    return appointment_view(row)


@router.patch("/v1/staff/appointments/{appointment_id}",
              summary="Change or reschedule an appointment (a new start bumps its sequence)")
def update_appointment(appointment_id: str, body: AppointmentUpdate, request: Request,
                       member: WritePatients) -> dict[str, Any]:
    ctx = get_ctx(request)
    fields = present(body)
    with ctx.db.write() as tx:
        found(visits.get_appointment(tx, appointment_id), "appointment")
        row = visits.update_appointment(tx, appointment_id, fields, ctx.now())
        ctx.audit.record(tx, member, "appointment.update", patient_id=row["patient_id"],
                         target=f"appointment:{appointment_id}", detail={"fields": sorted(fields)},
                         address=client_address(request))
    return appointment_view(row)


@router.post("/v1/staff/appointments/{appointment_id}/cancel", summary="Cancel an appointment")
def cancel_appointment(appointment_id: str, body: CancelRequest, request: Request,
                       member: WritePatients) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.write() as tx:
        current = found(visits.get_appointment(tx, appointment_id), "appointment")
        row = visits.act_on_appointment(tx, current, "cancel", "staff", ctx.now(), note=body.reason)
        ctx.audit.record(tx, member, "appointment.cancel", patient_id=row["patient_id"],
                         target=f"appointment:{appointment_id}", address=client_address(request))
    return appointment_view(row)


# -- prep ------------------------------------------------------------------------------------------
@router.post("/v1/staff/appointments/{appointment_id}/prep", status_code=201, summary="Add a prep step")
def add_prep(appointment_id: str, body: PrepCreate, request: Request, member: WritePatients) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.write() as tx:
        appt = found(visits.get_appointment(tx, appointment_id), "appointment")
        row = visits.create_prep(tx, appt, body.model_dump(), ctx.now())
        ctx.audit.record(tx, member, "prep.create", patient_id=row["patient_id"], target=f"prep:{row['id']}",
                         address=client_address(request))
    return prep_view(row)


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
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        found(patient_store.get_patient(conn, patient_id), "patient")
        rows, after = visits.list_prep(conn, page, patient_id=patient_id)
    ctx.audit.record_later(member, "read.prep", patient_id=patient_id, address=client_address(request))
    return {"prep": [prep_view(r) for r in rows], "next": after}


@router.delete("/v1/staff/prep/{prep_id}", status_code=204, summary="Remove a prep step")
def delete_prep(prep_id: str, request: Request, member: WritePatients) -> Response:
    ctx = get_ctx(request)
    with ctx.db.write() as tx:
        row = found(visits.get_prep(tx, prep_id), "prep step")
        visits.delete_prep(tx, row)
        ctx.audit.record(tx, member, "prep.delete", patient_id=row["patient_id"], target=f"prep:{prep_id}",
                         address=client_address(request))
    return Response(status_code=204)


# -- bills -----------------------------------------------------------------------------------------
@router.post("/v1/staff/patients/{patient_id}/bills", status_code=201, summary="Add a bill")
def add_bill(patient_id: str, body: BillCreate, request: Request, member: WritePatients) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.write() as tx:
        found(patient_store.get_patient(tx, patient_id), "patient")
        row = billing.create_bill(tx, patient_id, body.model_dump(), ctx.now())
        ctx.audit.record(tx, member, "bill.create", patient_id=patient_id, target=f"bill:{row['id']}",
                         address=client_address(request))
    return bill_view(row)


@router.get("/v1/staff/patients/{patient_id}/bills", summary="A patient's bills, earliest due first (paged)")
def list_bills(patient_id: str, request: Request, member: ReadPatients, page: Paging) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        found(patient_store.get_patient(conn, patient_id), "patient")
        rows, after = billing.list_bills(conn, patient_id, page)
    ctx.audit.record_later(member, "read.bills", patient_id=patient_id, address=client_address(request))
    return {"bills": [bill_view(r) for r in rows], "next": after}


@router.get("/v1/staff/bills/{bill_id}", summary="One bill")
def get_bill(bill_id: str, request: Request, member: ReadPatients) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        row = found(billing.get_bill(conn, bill_id), "bill")
    ctx.audit.record_later(member, "read.bill", patient_id=row["patient_id"], target=f"bill:{bill_id}",
                           address=client_address(request))
    return bill_view(row)


@router.patch("/v1/staff/bills/{bill_id}", summary="Mark a bill open, paid or void")
def update_bill(bill_id: str, body: BillUpdate, request: Request, member: WritePatients) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.write() as tx:
        found(billing.get_bill(tx, bill_id), "bill")
        row = billing.set_status(tx, bill_id, body.status, ctx.now())
        ctx.audit.record(tx, member, "bill.update", patient_id=row["patient_id"], target=f"bill:{bill_id}",
                         detail={"status": body.status}, address=client_address(request))
    return bill_view(row)


@router.put("/v1/staff/bills/{bill_id}/payment-plan", summary="Record a payment plan (active, declined…)")
def set_payment_plan(bill_id: str, body: PlanSet, request: Request, member: WritePatients) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.write() as tx:
        bill = found(billing.get_bill(tx, bill_id), "bill")
        row = billing.set_plan(tx, bill, body.status, body.installments, body.note, ctx.now(), actor="staff")
        ctx.audit.record(tx, member, "bill.plan", patient_id=row["patient_id"], target=f"bill:{bill_id}",
                         detail={"status": body.status, "installments": body.installments},
                         address=client_address(request))
    return bill_view(row)


# -- results ---------------------------------------------------------------------------------------
@router.post("/v1/staff/patients/{patient_id}/results", status_code=201,
             summary="Record a result (held: no device sees it until released)")
def add_result(patient_id: str, body: ResultCreate, request: Request, member: WriteResults) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.write() as tx:
        found(patient_store.get_patient(tx, patient_id), "patient")
        if body.appointment_id is not None:
            appt = visits.get_appointment(tx, body.appointment_id)
            if appt is None or appt["patient_id"] != patient_id:
                raise invalid("appointment_id: not an appointment of this patient")
        row = results.create_result(tx, patient_id, body.model_dump(), member.id, ctx.now())
        ctx.audit.record(tx, member, "result.create", patient_id=patient_id, target=f"result:{row['id']}",
                         address=client_address(request))
    return result_view(row)


@router.get("/v1/staff/patients/{patient_id}/results",
            summary="A patient's results with release state, newest first (paged)")
def list_results(patient_id: str, request: Request, member: ReadPatients, page: Paging) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        found(patient_store.get_patient(conn, patient_id), "patient")
        rows, after = results.list_results(conn, patient_id, page)
    ctx.audit.record_later(member, "read.results", patient_id=patient_id, address=client_address(request))
    return {"results": [result_view(r) for r in rows], "next": after}


@router.get("/v1/staff/results/{result_id}", summary="One result with its release state")
def get_result(result_id: str, request: Request, member: ReadPatients) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        row = found(results.get_result(conn, result_id), "result")
    ctx.audit.record_later(member, "read.result", patient_id=row["patient_id"], target=f"result:{result_id}",
                           address=client_address(request))
    return result_view(row)


@router.post("/v1/staff/results/{result_id}/release", summary="Release a result to the patient's devices")
def release_result(result_id: str, request: Request, member: WriteResults) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.write() as tx:
        row = found(results.get_result(tx, result_id), "result")
        row = results.release_result(tx, row, member.id, ctx.now())
        ctx.audit.record(tx, member, "result.release", patient_id=row["patient_id"], target=f"result:{result_id}",
                         address=client_address(request))
    return result_view(row)


@router.post("/v1/staff/results/{result_id}/block", summary="Withdraw a result (devices drop a released one)")
def block_result(result_id: str, request: Request, member: WriteResults) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.write() as tx:
        row = found(results.get_result(tx, result_id), "result")
        row = results.block_result(tx, row)
        ctx.audit.record(tx, member, "result.block", patient_id=row["patient_id"], target=f"result:{result_id}",
                         address=client_address(request))
    return result_view(row)
