"""Staff passwords for desk sign-in: argon2id hashes, the password rule, and setting one.

Passwords are low-entropy secrets a person chooses, so unlike tokens (:mod:`.tokens`) they get a
slow, memory-hard hash: argon2id with argon2-cffi's defaults (64 MiB, 3 passes, ~50–100 ms). The
server is not a phone, so the memory is affordable; the hash string carries its parameters, so
raising them later still verifies old hashes (and :func:`needs_rehash` says when to upgrade).

Sign-in is by name, so a name may carry a password on one active account only.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ...core.errors import RecordError
from .audit import AuditLog
from .database import Database
from .principals import Principal
from .records import staff_view
from .schema import staff

MIN_LENGTH = 10
MAX_LENGTH = 200

_hasher = PasswordHasher()
# Verified against when the name is unknown, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password, only spends the same time")


def check_password_rule(password: str, name: str) -> None:
    """Raise :class:`RecordError` naming the broken rule; the password itself is never echoed."""
    if len(password) < MIN_LENGTH:
        raise RecordError("password", f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise RecordError("password", f"must be at most {MAX_LENGTH} characters")
    if password.strip().lower() == name.strip().lower():
        raise RecordError("password", "must not be the account's name")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored``; a missing hash spends the same time and fails."""
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


def find_account(conn: Any, name: str) -> dict[str, Any] | None:
    """The active account called ``name`` (case-insensitive) that has a password, if any."""
    row = conn.execute(sa.select(staff).where(sa.func.lower(staff.c.name) == name.strip().lower(),
                                              staff.c.revoked_at.is_(None), staff.c.password_hash.is_not(None))
                       .order_by(staff.c.created_at).limit(1)).mappings().first()
    return dict(row) if row is not None else None


def set_password(db: Database, audit_log: AuditLog, actor: Principal, name_or_id: str, password: str,
                 address: str | None = None) -> dict[str, Any]:
    """Set the password of the active account with that id or name; refuses ambiguous names."""
    with db.write() as tx:
        key = name_or_id.strip()
        rows = [dict(r) for r in tx.execute(sa.select(staff).where(
            sa.or_(staff.c.id == key, sa.func.lower(staff.c.name) == key.lower()),
            staff.c.revoked_at.is_(None))).mappings()]
        if not rows:
            raise RecordError("name", f"no active staff member {key!r}")
        if len(rows) > 1:
            raise RecordError("name", f"{len(rows)} active accounts are called {key!r}: give the staff id instead")
        row = rows[0]
        check_password_rule(password, row["name"])
        clash = tx.execute(sa.select(staff.c.id).where(
            sa.func.lower(staff.c.name) == row["name"].lower(), staff.c.id != row["id"],
            staff.c.revoked_at.is_(None), staff.c.password_hash.is_not(None))).first()
        if clash is not None:
            raise RecordError("name", f"another active account called {row['name']!r} already signs in with a "
                              "password: names must be unique for sign-in")
        tx.execute(sa.update(staff).where(staff.c.id == row["id"]).values(password_hash=hash_password(password)))
        audit_log.record(tx, actor, "staff.password", target=f"staff:{row['id']}", address=address)
    return staff_view(row)
