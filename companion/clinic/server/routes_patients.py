"""Staff API: patients, their profile and insurance check, pairing codes and devices.

Roles per :mod:`.principals`. Every write is audited in its transaction; reads of patient data
are audited too (buffered).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from . import devices as device_store
from . import patients as patient_store
from .auth import staff_with
from .context import client_address, get_ctx
from .errors import found
from .pagination import Paging
from .pairing import issue_code
from .principals import StaffPrincipal
from .records import device_view, patient_view
from .schemas import InsuranceVerify, PatientCreate, PatientUpdate, present

router = APIRouter(tags=["staff: patients"])

ReadPatients = Annotated[StaffPrincipal, Depends(staff_with("patients.read"))]
WritePatients = Annotated[StaffPrincipal, Depends(staff_with("patients.write"))]
ManageDevices = Annotated[StaffPrincipal, Depends(staff_with("devices"))]


@router.post("/v1/staff/patients", status_code=201, summary="Create a patient")
def add_patient(body: PatientCreate, request: Request, member: WritePatients) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.write() as tx:
        row = patient_store.create_patient(tx, body.model_dump(), ctx.now())
        ctx.audit.record(tx, member, "patient.create", patient_id=row["id"], target=f"patient:{row['id']}",
                         address=client_address(request))
    return patient_view(row)


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
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        row = found(patient_store.get_patient(conn, patient_id), "patient")
    ctx.audit.record_later(member, "read.patient", patient_id=patient_id, target=f"patient:{patient_id}",
                           address=client_address(request))
    return patient_view(row)


@router.patch("/v1/staff/patients/{patient_id}", summary="Change a patient's details (absent fields unchanged)")
def update_patient(patient_id: str, body: PatientUpdate, request: Request, member: WritePatients) -> dict[str, Any]:
    ctx = get_ctx(request)
    fields = present(body)
    if "insurance" in fields and body.insurance is not None:
        fields["insurance"] = body.insurance.model_dump()
    with ctx.db.write() as tx:
        found(patient_store.get_patient(tx, patient_id), "patient")
        row = patient_store.update_patient(tx, patient_id, fields, ctx.now())
        ctx.audit.record(tx, member, "patient.update", patient_id=patient_id, target=f"patient:{patient_id}",
                         detail={"fields": sorted(fields)}, address=client_address(request))
    return patient_view(row)


@router.post("/v1/staff/patients/{patient_id}/insurance/verification",
             summary="Mark the submitted insurance verified or rejected (the patient sees it)")
def verify_insurance(patient_id: str, body: InsuranceVerify, request: Request,
                     member: WritePatients) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.write() as tx:
        found(patient_store.get_patient(tx, patient_id), "patient")
        row = patient_store.verify_insurance(tx, patient_id, body.status, body.note, ctx.now())
        ctx.audit.record(tx, member, "insurance.verify", patient_id=patient_id, target=f"patient:{patient_id}",
                         detail={"status": body.status}, address=client_address(request))
    return patient_view(row)


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
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        found(patient_store.get_patient(conn, patient_id), "patient")
        rows, after = device_store.list_devices(conn, patient_id, page)
    ctx.audit.record_later(member, "read.devices", patient_id=patient_id, address=client_address(request))
    return {"devices": [device_view(r) for r in rows], "next": after}


@router.get("/v1/staff/devices/{device_id}", summary="One device")
def get_device(device_id: str, request: Request, member: ManageDevices) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        row = found(device_store.get_device(conn, device_id), "device")
    return device_view(row)


@router.post("/v1/staff/devices/{device_id}/revoke",
             summary="Revoke a device: its token stops working at once, everywhere")
def revoke_device(device_id: str, request: Request, member: ManageDevices) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.write() as tx:
        row = found(device_store.get_device(tx, device_id), "device")
        row = device_store.revoke_device(tx, row, member.id, ctx.now())
        ctx.audit.record(tx, member, "device.revoke", patient_id=row["patient_id"], target=f"device:{device_id}",
                         address=client_address(request))
    return device_view(row)
