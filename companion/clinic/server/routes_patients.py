"""Staff API: patients, their profile and insurance check, pairing codes and devices.

Roles per :mod:`.principals`. Every write is audited in its transaction; reads of patient data
are audited too (buffered).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from . import devices as device_store
from . import patients as patient_store
from .audited import own_patient, read_patient_page, read_record, write_record
from .auth import staff_with
from .context import client_address, get_ctx
from .database import Tx
from .errors import found
from .pagination import Paging
from .pairing import issue_code
from .principals import StaffPrincipal
from .records import Row, device_view, patient_view
from .schemas import InsuranceVerify, PatientCreate, PatientUpdate, present

router = APIRouter(tags=["staff: patients"])

ReadPatients = Annotated[StaffPrincipal, Depends(staff_with("patients.read"))]
WritePatients = Annotated[StaffPrincipal, Depends(staff_with("patients.write"))]
ManageDevices = Annotated[StaffPrincipal, Depends(staff_with("devices"))]


@router.post("/v1/staff/patients", status_code=201, summary="Create a patient")
def add_patient(body: PatientCreate, request: Request, member: WritePatients) -> dict[str, Any]:
    return patient_view(write_record(request, member, "patient.create",
                                     lambda tx, now: patient_store.create_patient(tx, body.model_dump(), now),
                                     patient_of=own_patient))


@router.get("/v1/staff/patients", summary="List or search patients (name, phone, email or id), newest first (paged)")
def list_patients(request: Request, member: ReadPatients, page: Paging,
                  q: Annotated[str | None, Query(max_length=200)] = None) -> dict[str, Any]:
    """``total`` counts every patient that matches (not only this page)."""
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        rows, after, total = patient_store.search_patients(conn, q, page)
    ctx.audit.record_later(member, "read.patients", detail={"count": len(rows), "search": bool(q)},
                           address=client_address(request))
    return {"patients": [patient_view(r) for r in rows], "next": after, "total": total}


@router.get("/v1/staff/patients/{patient_id}", summary="One patient's profile")
def get_patient(patient_id: str, request: Request, member: ReadPatients) -> dict[str, Any]:
    return patient_view(read_record(request, member, "read.patient", "patient",
                                    lambda conn: patient_store.get_patient(conn, patient_id), patient_of=own_patient))


@router.patch("/v1/staff/patients/{patient_id}", summary="Change a patient's details (absent fields unchanged)")
def update_patient(patient_id: str, body: PatientUpdate, request: Request, member: WritePatients) -> dict[str, Any]:
    fields = present(body)
    if "insurance" in fields and body.insurance is not None:
        fields["insurance"] = body.insurance.model_dump()

    def change(tx: Tx, now: datetime) -> Row:
        found(patient_store.get_patient(tx, patient_id), "patient")
        return patient_store.update_patient(tx, patient_id, fields, now)

    return patient_view(write_record(request, member, "patient.update", change, detail={"fields": sorted(fields)},
                                     patient_of=own_patient))


@router.post("/v1/staff/patients/{patient_id}/insurance/verification",
             summary="Mark the submitted insurance verified or rejected (the patient sees it)")
def verify_insurance(patient_id: str, body: InsuranceVerify, request: Request,
                     member: WritePatients) -> dict[str, Any]:
    def verify(tx: Tx, now: datetime) -> Row:
        found(patient_store.get_patient(tx, patient_id), "patient")
        return patient_store.verify_insurance(tx, patient_id, body.status, body.note, now)

    return patient_view(write_record(request, member, "insurance.verify", verify, target="patient",
                                     detail={"status": body.status}, patient_of=own_patient))


@router.post("/v1/staff/patients/{patient_id}/pairing-codes", status_code=201,
             summary="Issue a one-time pairing code for the patient's app")
def new_pairing_code(patient_id: str, request: Request, member: WritePatients) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.write() as tx:
        found(patient_store.get_patient(tx, patient_id), "patient")
        code = issue_code(tx, ctx, member, patient_id)
        ctx.audit.record(tx, member, "pairing.issue", patient_id=patient_id, target=f"patient:{patient_id}",
                         address=client_address(request))
    return code


@router.get("/v1/staff/patients/{patient_id}/devices", summary="A patient's paired devices (paged)")
def list_devices(patient_id: str, request: Request, member: ManageDevices, page: Paging) -> dict[str, Any]:
    return read_patient_page(request, member, patient_id, "devices", device_view,
                             lambda conn, page: device_store.list_devices(conn, patient_id, page), page)


@router.get("/v1/staff/devices/{device_id}", summary="One device")
def get_device(device_id: str, request: Request, member: ManageDevices) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        row = found(device_store.get_device(conn, device_id), "device")
    return device_view(row)


@router.post("/v1/staff/devices/{device_id}/revoke",
             summary="Revoke a device: its token stops working at once, everywhere")
def revoke_device(device_id: str, request: Request, member: ManageDevices) -> dict[str, Any]:
    def revoke(tx: Tx, now: datetime) -> Row:
        return device_store.revoke_device(tx, found(device_store.get_device(tx, device_id), "device"), member.id, now)

    return device_view(write_record(request, member, "device.revoke", revoke))
