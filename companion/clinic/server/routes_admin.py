"""Staff API for everyone (``/v1/staff/me``, ``/v1/staff/clinic``) and for admins: staff accounts and the audit log.

``GET /v1/staff/clinic`` is the clinic profile as the desk uses it (any signed-in staff member):
its name, time zone (IANA), opening hours per weekday (``"08:00-18:00"``, closed days absent), the
slot length of proposed free times, the default place and the providers (the first is the default).

Plus ``GET /healthz`` (no auth, no database write) for load balancers and the test harness, and
``GET /v1/staff/status`` (admins) for the clinic's IT person: how many devices' pulls are waiting
for a change right now (a live count; it holds no patient data).
"""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request

from .accounts import create_staff, page_staff, revoke_staff
from .audit import read_audit
from .auth import any_staff, staff_with
from .context import client_address, get_ctx
from .errors import ApiError, conflict, found
from .pagination import Paging
from .principals import PERMISSIONS, StaffPrincipal
from .schemas import StaffCreate

router = APIRouter()

Admin = Annotated[StaffPrincipal, Depends(staff_with("staff.admin"))]
Auditor = Annotated[StaffPrincipal, Depends(staff_with("audit.read"))]
AnyStaff = Annotated[StaffPrincipal, Depends(any_staff)]


@router.get("/healthz", tags=["ops"], summary="Liveness and database check")
def healthz(request: Request) -> dict[str, Any]:
    ctx = get_ctx(request)
    try:
        with ctx.db.read() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        raise ApiError(503, "unavailable", "the database is not reachable") from None
    return {"status": "ok", "database": "postgresql" if ctx.db.is_postgres else "sqlite"}


@router.get("/v1/staff/status", tags=["staff: admin"], summary="Server load now: waiting long-polls")
def status(request: Request, member: Admin) -> dict[str, Any]:
    return {"waiting_pulls": get_ctx(request).hub.waiting_pulls}


@router.get("/v1/staff/me", tags=["staff: admin"], summary="Who this token belongs to, and what it may do")
def me(member: AnyStaff) -> dict[str, Any]:
    allowed = sorted(p for p, roles in PERMISSIONS.items() if member.role in roles)
    return {"id": member.id, "name": member.name, "role": member.role, "permissions": allowed}


@router.get("/v1/staff/clinic", tags=["staff: admin"],
            summary="The clinic profile: name, time zone, opening hours, default place and providers")
def clinic(request: Request, member: AnyStaff) -> dict[str, Any]:
    site = get_ctx(request).settings.site
    plan = site.schedule
    return {"name": get_ctx(request).settings.clinic_name, "timezone": site.timezone,
            "opening": plan.opening_text(), "slot_minutes": plan.slot_minutes, "place": plan.place,
            "providers": list(plan.providers), "provider": plan.provider}


@router.post("/v1/staff/accounts", status_code=201, tags=["staff: admin"],
             summary="Create a staff account; the token is in this answer only")
def add_account(body: StaffCreate, request: Request, member: Admin) -> dict[str, Any]:
    ctx = get_ctx(request)
    return create_staff(ctx.db, ctx.audit, member, body.name, body.role, client_address(request))


@router.get("/v1/staff/accounts", tags=["staff: admin"], summary="Staff accounts, first created first (paged)")
def list_accounts(request: Request, member: Admin, page: Paging) -> dict[str, Any]:
    members, after = page_staff(get_ctx(request).db, page)
    return {"staff": members, "next": after}


@router.post("/v1/staff/accounts/{staff_id}/revoke", tags=["staff: admin"], summary="Revoke a staff token")
def revoke_account(staff_id: str, request: Request, member: Admin) -> dict[str, Any]:
    ctx = get_ctx(request)
    if staff_id == member.id:
        raise conflict("you cannot revoke your own token: ask another admin, or use companion-server staff revoke")
    return found(revoke_staff(ctx.db, ctx.audit, member, staff_id, client_address(request)), "staff member")


@router.get("/v1/staff/audit", tags=["staff: admin"],
            summary="The audit log, newest first (or oldest first since an entry id, for tailing); paged")
def audit_log(request: Request, member: Auditor, page: Paging,
              since: Annotated[int | None, Query(ge=0, le=2**62, description="Entries after this id, oldest first")]
              = None,
              actor_id: Annotated[str | None, Query(max_length=40)] = None,
              patient_id: Annotated[str | None, Query(max_length=40)] = None,
              action: Annotated[str | None, Query(max_length=60)] = None) -> dict[str, Any]:
    ctx = get_ctx(request)
    ctx.audit.flush()  # show reads that are still queued
    with ctx.db.read() as conn:
        entries, after = read_audit(conn, page, since=since, actor_id=actor_id, patient_id=patient_id, action=action)
    ctx.audit.record_later(member, "read.audit", detail={"count": len(entries)}, address=client_address(request))
    return {"entries": entries, "next": after}
