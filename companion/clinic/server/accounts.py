"""Staff accounts: create (the token is shown once, only its hash is kept), list, revoke.

Used by ``companion-server staff …`` (acting as the system, straight on the database) and by
the admin API. Every change is audited in the same transaction.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ...core.errors import RecordError
from .audit import AuditLog
from .database import Database
from .pagination import Order, PageRequest, paginate
from .principals import ROLES, Principal
from .records import staff_view
from .schema import staff
from .tokens import STAFF_TOKEN_PREFIX, hash_secret, new_id, new_token


def _check(name: str, role: str) -> str:
    clean = name.strip()
    if not clean or len(clean) > 200:
        raise RecordError("name", "must be 1 to 200 characters")
    if role not in ROLES:
        raise RecordError("role", f"must be one of {', '.join(ROLES)}")
    return clean


def create_staff(db: Database, audit_log: AuditLog, actor: Principal, name: str, role: str,
                 address: str | None = None) -> dict[str, Any]:
    """Returns the staff view plus ``token`` — the only time the token exists outside the caller."""
    clean = _check(name, role)
    token = new_token(STAFF_TOKEN_PREFIX)
    row = {"id": new_id("stf"), "name": clean, "role": role, "token_hash": hash_secret(token),
           "created_at": audit_log.now(), "created_by": actor.id, "revoked_at": None}
    with db.write() as tx:
        tx.execute(sa.insert(staff).values(row))
        audit_log.record(tx, actor, "staff.create", target=f"staff:{row['id']}", detail={"role": role},
                         address=address)
    return {**staff_view(row), "token": token}


STAFF_ORDER = Order.of("staff", staff.c.created_at, staff.c.id)


def list_staff(db: Database, include_revoked: bool = True) -> list[dict[str, Any]]:
    """Every account (for ``companion-server staff list``, which has no pages)."""
    query = sa.select(staff).order_by(*STAFF_ORDER.clauses())
    if not include_revoked:
        query = query.where(staff.c.revoked_at.is_(None))
    with db.read() as conn:
        return [staff_view(r) for r in conn.execute(query).mappings()]


def page_staff(db: Database, page: PageRequest) -> tuple[list[dict[str, Any]], str | None]:
    """One page of accounts, first created first (the admin API)."""
    with db.read() as conn:
        rows, after = paginate(conn, sa.select(staff), STAFF_ORDER, page)
    return [staff_view(r) for r in rows], after


def revoke_staff(db: Database, audit_log: AuditLog, actor: Principal, staff_id: str,
                 address: str | None = None) -> dict[str, Any] | None:
    """Revoke a staff token; ``None`` when there is no such member. Revoking twice is harmless."""
    with db.write() as tx:
        found = tx.execute(sa.select(staff).where(staff.c.id == staff_id)).mappings().first()
        if found is None:
            return None
        row = dict(found)
        if row["revoked_at"] is None:
            row["revoked_at"] = audit_log.now()
            tx.execute(sa.update(staff).where(staff.c.id == staff_id).values(revoked_at=row["revoked_at"]))
            audit_log.record(tx, actor, "staff.revoke", target=f"staff:{staff_id}", address=address)
    return staff_view(row)
