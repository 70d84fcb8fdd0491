"""Database rows -> the app's records (``companion.core.models``) and -> the staff API's views.

The feed carries exactly ``Record.to_dict()``; the staff API carries the same fields plus what
only staff may see (``patient_id``, a result's release ``state``, who did what, when).
:func:`row_by_id` is how every store reads one row by its id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...core.fields import iso
from ...core.models import (
    Appointment,
    Article,
    Bill,
    BillLine,
    Insurance,
    Message,
    PaymentPlan,
    PrepStep,
    Profile,
    Record,
    Result,
)
from .database import Tx

Row = Mapping[Any, Any]  # SQLAlchemy RowMapping keys may be columns too


@cache
def _by_id(table: sa.Table) -> sa.Select[Any]:
    # built once per table: a push reads rows by id per mutation, and building a statement per
    # call costs more than the SQLite work itself
    return sa.select(table).where(table.c.id == sa.bindparam("row_id"))


def row_by_id(conn: Connection | Tx, table: sa.Table, row_id: str) -> Row | None:
    """The row of ``table`` whose ``id`` is ``row_id``, or ``None``."""
    row: Row | None = conn.execute(_by_id(table), {"row_id": row_id}).mappings().first()
    return row


def profile_of(row: Row) -> Profile:
    return Profile(
        id=row["id"], name=row["name"], dob=row["dob"], phone=row["phone"], email=row["email"],
        insurance=Insurance(payer=row["ins_payer"], member_id=row["ins_member_id"], group=row["ins_group"],
                            status=row["ins_status"], note=row["ins_note"]),
        prep_test_due=row["prep_test_due"],
    )


def appointment_of(row: Row) -> Appointment:
    return Appointment(
        id=row["id"], start=row["start"], minutes=row["minutes"], visit_kind=row["kind"], status=row["status"],
        location=row["location"], provider=row["provider"], what_to_bring=row["what_to_bring"],
        sensitive=bool(row["sensitive"]), sequence=row["sequence"], checked_in_at=row["checked_in_at"],
        note=row["note"],
    )


def prep_of(row: Row) -> PrepStep:
    return PrepStep(id=row["id"], appointment_id=row["appointment_id"], title=row["title"], body=row["body"],
                    before_minutes=row["before_minutes"], done_at=row["done_at"])


def bill_of(row: Row) -> Bill:
    plan = None
    if row["plan_status"] is not None:
        plan = PaymentPlan(status=row["plan_status"], installments=row["plan_installments"], note=row["plan_note"])
    lines = tuple(BillLine(description=x["description"], cents=x["cents"]) for x in json.loads(row["lines"]))
    return Bill(id=row["id"], description=row["description"], total_cents=row["total_cents"],
                insurance_paid_cents=row["insurance_paid_cents"], patient_cents=row["patient_cents"], due=row["due"],
                status=row["status"], lines=lines, payment_plan=plan)


def result_of(row: Row) -> Result:
    """Only for released results: held and blocked ones have no device-side shape at all."""
    if row["state"] != "released" or row["released_at"] is None:
        raise ValueError("only released results become records")
    return Result(id=row["id"], test=row["test"], interpretation=row["interpretation"], released_at=row["released_at"],
                  loinc=row["loinc"], value=row["value"], reference_range=row["reference_range"], note=row["note"],
                  sensitive=bool(row["sensitive"]), appointment_id=row["appointment_id"],
                  acknowledged_at=row["acknowledged_at"], sample_taken=row["sample_taken"])


def message_of(row: Row) -> Message:
    return Message(id=row["id"], thread=row["thread"], author=row["author"], body=row["body"], sent_at=row["sent_at"],
                   author_name=row["author_name"], read_at=row["read_at"], client_id=row["client_id"])


def article_of(row: Row) -> Article:
    versions = json.loads(row["translations"] or "{}")
    return Article(id=row["id"], title=row["title"], body=row["body"], published_at=row["published_at"],
                   tags=tuple(json.loads(row["tags"])), appointment_kind=row["appointment_kind"],
                   translations=tuple((code, v["title"], v["body"]) for code, v in sorted(versions.items())))


# -- staff views ---------------------------------------------------------------------------------
def _staff_view(record: Record, row: Row, *columns: str) -> dict[str, Any]:
    """``record`` as the app sees it, plus the row's ``columns`` only staff see (times in ISO 8601)."""
    out = record.to_dict()
    out.update({key: iso(row[key]) if isinstance(row[key], datetime) else row[key] for key in columns})
    return out


def patient_view(row: Row) -> dict[str, Any]:
    """A patient for staff: the profile, and ``language`` (what their app speaks, ``None`` until known)."""
    return {**_staff_view(profile_of(row), row, "created_at", "updated_at"), "language": row.get("language")}


def appointment_view(row: Row) -> dict[str, Any]:
    return _staff_view(appointment_of(row), row, "patient_id", "created_at", "updated_at")


def prep_view(row: Row) -> dict[str, Any]:
    return _staff_view(prep_of(row), row, "patient_id")


def bill_view(row: Row) -> dict[str, Any]:
    return _staff_view(bill_of(row), row, "patient_id", "created_at", "updated_at")


def result_view(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"], "patient_id": row["patient_id"], "test": row["test"],
        "interpretation": row["interpretation"], "value": row["value"], "loinc": row["loinc"],
        "reference_range": row["reference_range"], "note": row["note"], "sensitive": bool(row["sensitive"]),
        "appointment_id": row["appointment_id"],
        "sample_taken": row["sample_taken"].isoformat() if row["sample_taken"] else None,
        "state": row["state"], "released_at": iso(row["released_at"]),
        "released_by": row["released_by"], "acknowledged_at": iso(row["acknowledged_at"]),
        "created_by": row["created_by"], "created_at": iso(row["created_at"]),
    }


def message_view(row: Row) -> dict[str, Any]:
    return _staff_view(message_of(row), row, "patient_id", "staff_id")


def article_view(row: Row) -> dict[str, Any]:
    return _staff_view(article_of(row), row, "created_by", "retracted_at")


def inbox_view(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"], "patient_id": row["patient_id"], "kind": row["kind"], "ref_kind": row["ref_kind"],
        "ref_id": row["ref_id"], "mutation_id": row["mutation_id"], "detail": json.loads(row["detail"] or "{}"),
        "created_at": iso(row["created_at"]), "unread": row["read_at"] is None and row["handled_at"] is None,
        "read_at": iso(row["read_at"]), "read_by": row["read_by"], "handled": row["handled_at"] is not None,
        "handled_at": iso(row["handled_at"]), "handled_by": row["handled_by"],
    }


def device_view(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"], "patient_id": row["patient_id"], "name": row["name"], "created_at": iso(row["created_at"]),
        "last_seen_at": iso(row["last_seen_at"]), "revoked_at": iso(row["revoked_at"]),
        "revoked": row["revoked_at"] is not None, "language": row.get("language"),
    }


def staff_view(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"], "name": row["name"], "role": row["role"], "created_at": iso(row["created_at"]),
        "revoked_at": iso(row["revoked_at"]), "revoked": row["revoked_at"] is not None,
    }
