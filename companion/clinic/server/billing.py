"""Bills and payment plans.

``amount_cents`` is what the patient owes; ``total_cents`` = amount + what insurance paid.
Every change goes through :func:`_save_bill`, which publishes the bill to the patient's feed; whether
a payment plan may be recorded is the core's rule (:func:`companion.core.care_rules.bill_after_plan`).
A bill's payment reference (``BIL-4K7Q-2MXR``) is derived from its id by
:func:`companion.core.references.bill_reference`, the app's own function; :func:`find_by_reference`
maps one back for the clinic's payment system.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...core.care_rules import Actor, bill_after_plan
from ...core.references import bill_reference, normalise_reference
from .changes import save_and_publish
from .database import Tx
from .pagination import Order, PageRequest, paginate
from .records import Row, bill_of, row_by_id
from .schema import bills
from .tokens import new_id


def get_bill(conn: Connection | Tx, bill_id: str) -> Row | None:
    return row_by_id(conn, bills, bill_id)


BILL_ORDER = Order.of("bills", bills.c.due, bills.c.id)


def list_bills(conn: Connection, patient_id: str, page: PageRequest) -> tuple[list[Row], str | None]:
    """One page of the patient's bills, earliest due date first."""
    return paginate(conn, sa.select(bills).where(bills.c.patient_id == patient_id), BILL_ORDER, page)


def find_by_reference(conn: Connection, reference: str) -> list[Row]:
    """The bills whose payment reference is ``reference`` (as typed: any case, dashes optional).

    Nothing is stored: each bill id is hashed again (a few hundred thousand per second), which
    keeps the reference the app shows and the one found here one function. A clash shows as two
    bills, never the wrong one.
    """
    wanted = normalise_reference(reference)
    if wanted is None:
        return []
    ids = [bid for (bid,) in conn.execute(sa.select(bills.c.id)) if bill_reference(bid) == wanted]
    if not ids:
        return []
    return [dict(r) for r in conn.execute(sa.select(bills).where(bills.c.id.in_(ids)).order_by(bills.c.id)).mappings()]


def create_bill(tx: Tx, patient_id: str, fields: Mapping[str, Any], now: datetime) -> Row:
    amount = int(fields["amount_cents"])
    insurance = int(fields.get("insurance_paid_cents") or 0)
    lines = [{"description": x["description"], "cents": int(x["cents"])} for x in fields.get("lines") or []]
    values = {"id": new_id("bil"), "patient_id": patient_id, "description": fields["description"],
              "total_cents": amount + insurance, "insurance_paid_cents": insurance, "patient_cents": amount,
              "due": fields["due"], "status": "open", "lines": json.dumps(lines), "plan_status": None,
              "plan_installments": None, "plan_note": None, "created_at": now, "updated_at": now}
    tx.execute(sa.insert(bills).values(values))
    return _save_bill(tx, values["id"], {}, now)


def set_status(tx: Tx, bill_id: str, status: str, now: datetime) -> Row:
    return _save_bill(tx, bill_id, {"status": status}, now)


def set_plan(tx: Tx, bill: Row, status: str, installments: int, note: str | None, now: datetime, *,
             actor: Actor) -> Row:
    """Record a payment plan (requested by the patient, or active/declined by the clinic).

    :func:`companion.core.care_rules.bill_after_plan` decides whether ``actor`` may, and the bill's
    status afterwards; a refusal raises :class:`~companion.core.errors.NotAllowed`.
    """
    after = bill_after_plan(bill["status"], bill["plan_status"], status, actor, owed_cents=bill["patient_cents"])
    values: dict[str, Any] = {"plan_status": status, "plan_installments": installments, "plan_note": note,
                              "status": after}
    return _save_bill(tx, bill["id"], values, now)


def _save_bill(tx: Tx, bill_id: str, values: Mapping[str, Any], now: datetime) -> Row:
    """The one write path for bills: apply (stamping ``updated_at``) and publish."""
    return save_and_publish(tx, bills, bill_id, {**values, "updated_at": now} if values else {}, bill_of)
