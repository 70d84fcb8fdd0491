"""Patients and their profile record (contact details, insurance and its verification).

Every change to a patient row goes through :func:`_save`, which also publishes the ``profile``
record to that patient's feed, so the app always shows what the clinic has on file — including
whether the insurance it submitted at check-in was verified or rejected.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .changes import publish
from .database import Tx
from .pagination import Order, PageRequest, paginate
from .records import Row, profile_of
from .schema import devices, patients
from .tokens import new_id

_CONTACT = ("name", "dob", "phone", "email")


def _search_text(values: Mapping[str, Any]) -> str:
    parts = [values.get("name"), values.get("phone"), values.get("email")]
    return " ".join(str(p).lower() for p in parts if p)[:700]


# The language of the patient's app, as the device seen last reported it (``None`` before any did):
# read with the patient for the staff views (the desk shows it beside the name), never written there.
LANGUAGE = (sa.select(devices.c.language)
            .where(devices.c.patient_id == patients.c.id, devices.c.revoked_at.is_(None),
                   devices.c.language.is_not(None))
            .order_by(devices.c.last_seen_at.desc()).limit(1).scalar_subquery().label("language"))


def get_patient(conn: Connection | Tx, patient_id: str) -> Row | None:
    row: Row | None = conn.execute(sa.select(patients, LANGUAGE).where(patients.c.id == patient_id)).mappings().first()
    return row


def create_patient(tx: Tx, fields: Mapping[str, Any], now: datetime) -> Row:
    values: dict[str, Any] = {key: fields.get(key) for key in _CONTACT}
    values.update(id=new_id("pat"), created_at=now, updated_at=now, ins_status="none", ins_note=None,
                  ins_payer=None, ins_member_id=None, ins_group=None)
    insurance = fields.get("insurance")
    if insurance:
        values.update(_insurance_values(insurance, status="submitted"))
    values["search_text"] = _search_text(values)
    tx.execute(sa.insert(patients).values(values))
    return _save(tx, values["id"], {}, now)


def _insurance_values(insurance: Mapping[str, Any], status: str) -> dict[str, Any]:
    return {"ins_payer": insurance.get("payer"), "ins_member_id": insurance.get("member_id"),
            "ins_group": insurance.get("group"), "ins_status": status, "ins_note": None}


def update_patient(tx: Tx, patient_id: str, fields: Mapping[str, Any], now: datetime) -> Row:
    """PATCH: only the keys present change; ``insurance`` replaces the details and marks them submitted;
    ``prep_test_due`` (a date, or None to clear it) is the next PrEP test the app reminds of."""
    values = {key: fields[key] for key in (*_CONTACT, "prep_test_due") if key in fields}
    if "name" in values and values["name"] is None:
        values.pop("name")  # a patient always has a name
    if "insurance" in fields and fields["insurance"] is not None:
        values.update(_insurance_values(fields["insurance"], status="submitted"))
    return _save(tx, patient_id, values, now)


def verify_insurance(tx: Tx, patient_id: str, status: str, note: str | None, now: datetime) -> Row:
    return _save(tx, patient_id, {"ins_status": status, "ins_note": note}, now)


def submit_checkin_details(tx: Tx, patient_id: str, payload: Mapping[str, Any], now: datetime) -> Row:
    """What a patient sends with ``checkin.submit``: contact details and insurance (status submitted)."""
    values: dict[str, Any] = {key: payload[key] for key in ("phone", "email") if payload.get(key) is not None}
    insurance = payload.get("insurance")
    if insurance:
        values.update(_insurance_values(insurance, status="submitted"))
    return _save(tx, patient_id, values, now)


def _save(tx: Tx, patient_id: str, values: Mapping[str, Any], now: datetime) -> Row:
    """Apply ``values``, refresh the search text and publish the profile: the one write path."""
    current = get_patient(tx, patient_id)
    if current is None:
        raise LookupError(patient_id)
    merged = {**current, **values}
    update = {**values, "updated_at": now, "search_text": _search_text(merged)}
    tx.execute(sa.update(patients).where(patients.c.id == patient_id).values(update))
    row = get_patient(tx, patient_id)
    assert row is not None
    publish(tx, patient_id, profile_of(row))
    return row


PATIENT_ORDER = Order.of("patients", (patients.c.created_at, True), patients.c.id)


def search_patients(conn: Connection, query: str | None, page: PageRequest) -> tuple[list[Row], str | None, int]:
    """``(one page, next cursor, total matching)``: a case-insensitive match on name, phone or
    email, or an exact patient id; newest first."""
    condition: sa.ColumnElement[bool] = sa.true()
    if query and query.strip():
        text = query.strip().lower()
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        condition = sa.or_(patients.c.search_text.like(f"%{escaped}%", escape="\\"), patients.c.id == query.strip())
    total = conn.execute(sa.select(sa.func.count()).select_from(patients).where(condition)).scalar_one()
    rows, after = paginate(conn, sa.select(patients, LANGUAGE).where(condition), PATIENT_ORDER, page)
    return rows, after, int(total)
