"""The shape every staff route shares: read or write in one database step, under the audit log.

A staff route names what it reads or changes and how to show it; these helpers do the rest the
same way everywhere — an unknown record is 404 naming what was looked for, a write and its audit
row commit in one transaction, a read of patient data is audited too (buffered, see
:class:`.audit.AuditLog`)::

    row = read_record(request, member, "read.bill", "bill", lambda conn: billing.get_bill(conn, bill_id))
    page = read_patient_page(request, member, patient_id, "bills", bill_view,
                             lambda conn, page: billing.list_bills(conn, patient_id, page), page)
    row = write_record(request, member, "bill.update", lambda tx, now: billing.set_status(tx, bill_id, status, now))

The audit target is ``<kind>:<id>`` of the row (the kind is the action's first word unless
``target`` says otherwise), and its patient the row's ``patient_id`` unless ``patient_of`` says
otherwise (a patient row is its own patient; an article belongs to none).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy.engine import Connection

from . import patients as patient_store
from .auth import StaffCheck
from .context import client_address, get_ctx
from .database import Tx
from .errors import found
from .middleware import WRITE_TIMING_KEY
from .pagination import PageRequest
from .principals import StaffPrincipal
from .records import Row

__all__ = ["no_patient", "own_patient", "read_patient_page", "read_record", "write_admitted", "write_record"]

PatientOf = Callable[[Row], str | None]


def _patient_id(row: Row) -> str | None:
    patient: str | None = row["patient_id"]
    return patient


def own_patient(row: Row) -> str | None:
    """``patient_of`` for a patient row: it is its own patient."""
    patient: str = row["id"]
    return patient


def no_patient(row: Row) -> str | None:
    """``patient_of`` for a row of no patient (an article)."""
    return None


def read_record(request: Request, member: StaffPrincipal, action: str, what: str,
                get: Callable[[Connection], Row | None], *, target: str | None = None,
                patient_of: PatientOf = _patient_id) -> Row:
    """The row ``get`` reads, or 404 naming ``what``; the read is audited as ``action``."""
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        row = found(get(conn), what)
    ctx.audit.record_later(member, action, patient_id=patient_of(row),
                           target=f"{target or what}:{row['id']}", address=client_address(request))
    return row


def read_patient_page(request: Request, member: StaffPrincipal, patient_id: str, key: str,
                      view: Callable[[Row], dict[str, Any]],
                      rows_of: Callable[[Connection, PageRequest], tuple[list[Row], str | None]],
                      page: PageRequest) -> dict[str, Any]:
    """``{key: [view(row)…], "next": cursor}``: one page of a patient's records (404 for an unknown
    patient), audited as ``read.<key>``."""
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        found(patient_store.get_patient(conn, patient_id), "patient")
        rows, after = rows_of(conn, page)
    ctx.audit.record_later(member, f"read.{key}", patient_id=patient_id, address=client_address(request))
    return {key: [view(r) for r in rows], "next": after}


def write_record(request: Request, member: StaffPrincipal, action: str, change: Callable[[Tx, datetime], Row], *,
                 target: str | None = None, detail: Mapping[str, Any] | None = None,
                 patient_of: PatientOf = _patient_id) -> Row:
    """Run ``change(tx, now)`` and record ``action`` on the row it returns, in one transaction."""
    return write_admitted(request, member, action, lambda tx, now, _: change(tx, now), target=target, detail=detail,
                          patient_of=patient_of)


def write_admitted(request: Request, staff: StaffPrincipal | StaffCheck, action: str,
                   change: Callable[[Tx, datetime, StaffPrincipal], Row], *, target: str | None = None,
                   detail: Mapping[str, Any] | None = None, patient_of: PatientOf = _patient_id) -> Row:
    """:func:`write_record` for a route that admits its caller itself (:class:`.auth.StaffCheck`):
    a token admitted lately is admitted inside the write, and ``change`` gets the member."""
    ctx = get_ctx(request)
    member = staff.admit() if isinstance(staff, StaffCheck) else staff
    with ctx.db.write() as tx:
        if member is None:
            assert isinstance(staff, StaffCheck)
            member = staff.admit_in(tx.conn)
        row = change(tx, ctx.now(), member)
        ctx.audit.record(tx, member, action, patient_id=patient_of(row),
                         target=f"{target or action.split('.')[0]}:{row['id']}", detail=detail,
                         address=client_address(request))
    request.scope[WRITE_TIMING_KEY] = tx.timing  # the answer's Server-Timing (middleware)
    return row
