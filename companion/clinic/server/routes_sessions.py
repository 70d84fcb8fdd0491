"""Staff API: desk sign-in and sign-out, and the day's schedule across patients (the desk's Today).

::

    POST   /v1/staff/sessions              name + password -> session token   (no token; backoff 429)
    DELETE /v1/staff/sessions/current      sign out (the bearer session token)
    GET    /v1/staff/schedule?start&end    appointments in a time range, with patient names  psr, clinician

The desk runs inside the server process and reaches this API over loopback, so every sign-in
would come from 127.0.0.1 and one person's typos would slow down the whole front desk. The
composition root that mounts the desk sets ``app.state.desk_key``; a request carrying that key
in ``Companion-Desk-Key`` may name the browser's address in ``Companion-Desk-Address``, and
backoff and the audit log use it. Without the key the header is ignored.
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import StringConstraints as Text

from .auth import any_staff, staff_bearer, staff_with
from .context import client_address, get_ctx
from .errors import invalid
from .pagination import Order, Paging, paginate
from .patients import LANGUAGE
from .principals import StaffPrincipal
from .records import appointment_view
from .schema import appointments, patients
from .schemas import T200, IsoTime, Strict
from .staff_sessions import is_session_token, sign_in, sign_out

router = APIRouter(tags=["staff: sessions"])

ReadPatients = Annotated[StaffPrincipal, Depends(staff_with("patients.read"))]
Password = Annotated[str, Text(strict=True, min_length=1, max_length=1000)]
DESK_KEY_HEADER = "companion-desk-key"
DESK_ADDRESS_HEADER = "companion-desk-address"
LONGEST_RANGE = timedelta(days=31)
SCHEDULE_ORDER = Order.of("schedule", appointments.c.start, appointments.c.id)


class SignIn(Strict):
    name: T200
    password: Password


def signin_address(request: Request) -> str:
    """The caller's address, or the browser's address the in-process desk vouches for."""
    key = getattr(request.app.state, "desk_key", None)
    offered = request.headers.get(DESK_KEY_HEADER)
    if key and offered and hmac.compare_digest(key, offered):
        named = request.headers.get(DESK_ADDRESS_HEADER, "").strip()
        if named:
            return named[:64]
    return client_address(request)


@router.post("/v1/staff/sessions", status_code=201,
             summary="Sign in with name and password; the session token works as a staff bearer token")
def create_session(body: SignIn, request: Request) -> dict[str, Any]:
    return sign_in(get_ctx(request), body.name, body.password, signin_address(request))


@router.delete("/v1/staff/sessions/current", status_code=204, summary="Sign out: the session token stops working")
def end_current_session(request: Request, member: Annotated[StaffPrincipal, Depends(any_staff)],
                        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(staff_bearer)]) -> Response:
    token = (credentials.credentials if credentials else "").strip()
    if not is_session_token(token):
        raise invalid("this is an API token, not a sign-in session: revoke it with companion-server staff revoke")
    sign_out(get_ctx(request), token, member, signin_address(request))
    return Response(status_code=204)


@router.get("/v1/staff/schedule",
            summary="Appointments starting in [start, end), with patient names, dates of birth and languages, by time "
                     "(paged)")
def schedule(request: Request, member: ReadPatients, page: Paging, start: Annotated[IsoTime, Query()],
             end: Annotated[IsoTime, Query()]) -> dict[str, Any]:
    if end <= start or end - start > LONGEST_RANGE:
        raise invalid("end: must be after start and at most 31 days later")
    ctx = get_ctx(request)
    query = (sa.select(appointments, patients.c.name.label("patient_name"), patients.c.dob.label("patient_dob"),
                       LANGUAGE)  # one query: the language as a correlated subquery, as patient search reads it
             .join(patients, patients.c.id == appointments.c.patient_id)
             .where(appointments.c.start >= start, appointments.c.start < end))
    with ctx.db.read() as conn:
        rows, after = paginate(conn, query, SCHEDULE_ORDER, page)
    ctx.audit.record_later(member, "read.schedule", detail={"count": len(rows)}, address=client_address(request))
    return {"appointments": [{**appointment_view(r), "patient_name": r["patient_name"], "patient_dob": r["patient_dob"],
                              "patient_language": r["language"]} for r in rows], "next": after}
