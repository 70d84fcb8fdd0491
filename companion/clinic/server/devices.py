"""A patient's paired devices: list, look up, revoke (at once, for every server process).

Revocation is a column set in the database that :mod:`.auth` reads on every request; the
patient's waiting long-polls are woken so they answer 401 ``device_revoked`` straight away
instead of at the end of their wait.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .database import Tx
from .pagination import Order, PageRequest, paginate
from .records import Row, row_by_id
from .schema import devices


def get_device(conn: Connection | Tx, device_id: str) -> Row | None:
    return row_by_id(conn, devices, device_id)


DEVICE_ORDER = Order.of("devices", devices.c.created_at, devices.c.id)


def list_devices(conn: Connection, patient_id: str, page: PageRequest) -> tuple[list[Row], str | None]:
    """One page of the patient's devices (revoked ones too), first paired first."""
    return paginate(conn, sa.select(devices).where(devices.c.patient_id == patient_id), DEVICE_ORDER, page)


def revoke_device(tx: Tx, device: Row, staff_id: str | None, now: datetime) -> Row:
    """Revoke; revoking twice keeps the first time. Marks the patient's scope so waiters wake."""
    if device["revoked_at"] is None:
        tx.execute(sa.update(devices).where(devices.c.id == device["id"]).values(revoked_at=now, revoked_by=staff_id))
    tx.touch(device["patient_id"])  # wake that patient's long polls, in every process: they re-check their token
    fresh = get_device(tx, device["id"])
    assert fresh is not None
    return fresh
