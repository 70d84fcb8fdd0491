"""Lab results and their release state: ``held`` -> ``released`` (or ``blocked``).

A result is created held and has no feed entry at all. :func:`release_result` sets
``released_at`` and publishes it; :func:`block_result` withdraws it (a tombstone if it had been
released, nothing at all if it never was). :func:`acknowledge_result` records that the patient
read it. Only :func:`_publish_if_released` writes results to the feed, and it refuses anything
that is not released — the one guard that keeps held results off every device.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .changes import publish, retract
from .database import Tx
from .pagination import Order, PageRequest, paginate
from .records import Row, result_of, row_by_id
from .schema import results
from .tokens import new_id

STATES = ("held", "released", "blocked")


def get_result(conn: Connection | Tx, result_id: str) -> Row | None:
    return row_by_id(conn, results, result_id)


RESULT_ORDER = Order.of("results", (results.c.created_at, True), results.c.id)


def list_results(conn: Connection, patient_id: str, page: PageRequest) -> tuple[list[Row], str | None]:
    """One page of the patient's results (every release state), newest first."""
    return paginate(conn, sa.select(results).where(results.c.patient_id == patient_id), RESULT_ORDER, page)


def create_result(tx: Tx, patient_id: str, fields: Mapping[str, Any], staff_id: str, now: datetime) -> Row:
    keys = ("test", "interpretation", "value", "loinc", "reference_range", "note", "appointment_id", "sample_taken")
    values: dict[str, Any] = {key: fields.get(key) for key in keys}
    result_id = new_id("res")
    values.update(id=result_id, patient_id=patient_id, sensitive=bool(fields.get("sensitive")), state="held",
                  released_at=None, released_by=None, acknowledged_at=None, created_by=staff_id, created_at=now)
    tx.execute(sa.insert(results).values(values))
    row = get_result(tx, result_id)
    assert row is not None
    return row


def release_result(tx: Tx, row: Row, staff_id: str, now: datetime) -> Row:
    """Release (again) a held or blocked result; releasing a released one changes nothing."""
    if row["state"] != "released":
        tx.execute(sa.update(results).where(results.c.id == row["id"])
                   .values(state="released", released_at=now, released_by=staff_id))
    return _publish_if_released(tx, row["id"])


def block_result(tx: Tx, row: Row) -> Row:
    tx.execute(sa.update(results).where(results.c.id == row["id"]).values(state="blocked"))
    retract(tx, row["patient_id"], "result", row["id"])
    fresh = get_result(tx, row["id"])
    assert fresh is not None
    return fresh


def acknowledge_result(tx: Tx, row: Row, now: datetime) -> Row:
    if row["acknowledged_at"] is None:
        tx.execute(sa.update(results).where(results.c.id == row["id"]).values(acknowledged_at=now))
    return _publish_if_released(tx, row["id"])


def _publish_if_released(tx: Tx, result_id: str) -> Row:
    row = get_result(tx, result_id)
    if row is None:
        raise LookupError(result_id)
    if row["state"] == "released":
        publish(tx, row["patient_id"], result_of(row))
    return row

