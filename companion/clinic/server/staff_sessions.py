"""Desk sign-in sessions: name + password -> a session token that works as a staff bearer token.

- :func:`sign_in` checks the backoff first (so guessing stops even with the right password),
  verifies the argon2id hash, and on success stores only the SHA-256 of a fresh 256-bit token.
  Every attempt is audited: success, wrong password, refused by backoff — never the password,
  and never a name that matches no account (it may be a password typed into the wrong field).
  The check and the failure are one step: a write transaction (writers are serialised, see
  :meth:`Database.write`) counts the recent failures and, unless the caller must wait, records
  this attempt as a failure *before* the slow hash runs (a reservation). Success deletes the
  reservation. So however many guesses arrive at once, only the free tries reach the hash; the
  rest are refused with 429. Unknown names are hashed against a dummy hash, so a wrong name
  costs the same time as a wrong password and timing does not tell which names exist.
- :func:`authenticate_session` admits a token until it is signed out, idles out
  (``Settings.session_idle``) or reaches its absolute lifetime (``Settings.session_max``), or
  the account is revoked. Requests marked background (the desk's inbox poll) do not count as
  activity, so an open but unattended desk still signs itself out.
- :func:`sign_out` ends the session at once, on every server process.

Backoff: after ``signin_free`` wrong passwords within an hour for one account (four times as
many for one address, since a front desk shares a computer), each further try waits 30 s, then
60 s, 120 s … up to 15 minutes after the last failure; the answer is 429 with ``Retry-After``.
A successful sign-in clears the account's count. Failures live in the database, so a restart
or another server process does not reset them.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...core.fields import iso
from .context import ServerContext
from .errors import ApiError
from .passwords import find_account, verify_password
from .principals import PERMISSIONS, StaffPrincipal, SystemPrincipal
from .schema import signin_failures, staff, staff_sessions
from .tokens import STAFF_TOKEN_PREFIX, hash_secret, new_id, new_token

SESSION_PREFIX = STAFF_TOKEN_PREFIX + "ses."  # "." never occurs in a plain staff token
FAILURE_WINDOW = timedelta(hours=1)
FIRST_WAIT = 30
LONGEST_WAIT = 15 * 60
ADDRESS_FACTOR = 4
_ANONYMOUS = SystemPrincipal(id="signin")


def is_session_token(token: str) -> bool:
    return token.startswith(SESSION_PREFIX)


def _account_key(name: str) -> str:
    return "account:" + hashlib.sha256(name.strip().lower().encode("utf-8")).hexdigest()[:40]


def wait_seconds(failures: int, free: int, last: datetime | None, now: datetime) -> int:
    """Seconds still to wait after ``failures`` recent failures (``free`` of them cost nothing)."""
    if failures < free or last is None:
        return 0
    delay = min(FIRST_WAIT * 2 ** min(failures - free, 10), LONGEST_WAIT)
    return max(0, math.ceil((last + timedelta(seconds=delay) - now).total_seconds()))


def _wait_for(conn: Any, key: str, free: int, now: datetime) -> int:
    count, last = conn.execute(sa.select(sa.func.count(), sa.func.max(signin_failures.c.at)).where(
        signin_failures.c.key == key, signin_failures.c.at > now - FAILURE_WINDOW)).one()
    return wait_seconds(int(count), free, last, now)


def _principal(row: Any) -> StaffPrincipal:
    return StaffPrincipal(id=row["id"], name=row["name"], role=row["role"])


def who(member: StaffPrincipal) -> dict[str, Any]:
    """The account as ``/v1/staff/me`` shows it: id, name, role, permissions."""
    allowed = sorted(p for p, roles in PERMISSIONS.items() if member.role in roles)
    return {"id": member.id, "name": member.name, "role": member.role, "permissions": allowed}


def _reserve_attempt(ctx: ServerContext, name: str, account_key: str, address_key: str,
                     now: datetime) -> tuple[dict[str, Any] | None, int, list[int]]:
    """``(account, wait, reservation ids)``: one write transaction, so concurrent attempts are
    counted one after another and none slips past the limit while another is being hashed."""
    free = ctx.settings.signin_free
    with ctx.db.write() as tx:
        account = find_account(tx.conn, name)
        wait = max(_wait_for(tx.conn, account_key, free, now),
                   _wait_for(tx.conn, address_key, free * ADDRESS_FACTOR, now))
        if wait > 0:
            return account, wait, []
        tx.execute(sa.delete(signin_failures).where(  # what no longer counts (the index covers this)
            signin_failures.c.key.in_((account_key, address_key)), signin_failures.c.at <= now - FAILURE_WINDOW))
        ids = [tx.execute(sa.insert(signin_failures).values(key=key, at=now).returning(signin_failures.c.id))
               .scalar_one() for key in (account_key, address_key)]
    return account, 0, ids


def sign_in(ctx: ServerContext, name: str, password: str, address: str) -> dict[str, Any]:
    """A new session for the named account, or :class:`ApiError` 401 (wrong) / 429 (backing off)."""
    settings, now = ctx.settings, ctx.now()
    account_key, address_key = _account_key(name), "address:" + address[:60]
    account, wait, reserved = _reserve_attempt(ctx, name, account_key, address_key, now)
    actor = _principal(account) if account else _ANONYMOUS
    target = f"staff:{account['id']}" if account else None
    if wait > 0:
        ctx.audit.record_later(actor, "staff.signin_refused", target=target, detail={"wait": wait}, address=address)
        raise ApiError(429, "rate_limited", f"too many wrong passwords: try again in {wait} seconds",
                       {"Retry-After": str(wait)})
    # Always hash (the dummy hash for an unknown name), outside the transaction: it is slow.
    matches = verify_password(account["password_hash"] if account else None, password)
    if account is None or not matches:  # the reservation stays: it is this failure
        ctx.audit.record_later(actor, "staff.signin_failed", target=target,
                               detail={"known_account": account is not None}, address=address)
        raise ApiError(401, "bad_credentials", "wrong name or password")
    token = new_token(SESSION_PREFIX)
    expires = now + timedelta(seconds=settings.session_max)
    session_id = new_id("ses")
    member = _principal(account)
    with ctx.db.write() as tx:
        tx.execute(sa.insert(staff_sessions).values(
            id=session_id, staff_id=account["id"], token_hash=hash_secret(token), created_at=now, last_used_at=now,
            expires_at=expires, ended_at=None, address=address[:64]))
        tx.execute(sa.delete(signin_failures).where(sa.or_(signin_failures.c.key == account_key,
                                                           signin_failures.c.id.in_(reserved))))
        ctx.audit.record(tx, member, "staff.signin", target=f"session:{session_id}", address=address)
    return {"token": token, "session_id": session_id, "expires_at": iso(expires),
            "idle_seconds": settings.session_idle, "staff": who(member)}


_SESSION_BY_TOKEN = (sa.select(staff_sessions.c.id, staff_sessions.c.last_used_at, staff_sessions.c.expires_at,
                               staff_sessions.c.ended_at, staff.c.id.label("staff_id"), staff.c.name, staff.c.role,
                               staff.c.revoked_at)
                     .join(staff, staff.c.id == staff_sessions.c.staff_id)
                     .where(staff_sessions.c.token_hash == sa.bindparam("token_hash")))  # built once (hot path)


def authenticate_session(ctx: ServerContext, token: str, *, touch: bool = True,
                         writer: Connection | None = None) -> StaffPrincipal:
    """The staff member signed in with ``token``; 401 with a code that says why when it is not valid.
    ``writer``: an open write transaction to read and record the use through (no transaction of its own)."""
    now = ctx.now()
    row = ctx.db.first(_SESSION_BY_TOKEN, writer, {"token_hash": hash_secret(token)})
    headers = {"WWW-Authenticate": "Bearer"}
    if row is None:
        raise ApiError(401, "invalid_token", "unknown sign-in session: sign in again", headers)
    if row["ended_at"] is not None:
        raise ApiError(401, "session_ended", "you signed out: sign in again", headers)
    if row["revoked_at"] is not None:
        raise ApiError(401, "staff_revoked", "this staff account was revoked", headers)
    if now >= row["expires_at"]:
        raise ApiError(401, "session_expired", "your sign-in reached its time limit: sign in again", headers)
    idle = ctx.settings.session_idle
    if (now - row["last_used_at"]).total_seconds() > idle:
        raise ApiError(401, "session_expired", f"signed out after {_span(idle)} without activity: sign in again",
                       headers)
    # Write last use at most every tenth of the idle time (a write costs an fsync), at least every 30 s.
    if touch and (now - row["last_used_at"]).total_seconds() > min(idle / 10, 30):
        used = sa.update(staff_sessions).where(staff_sessions.c.id == row["id"]).values(last_used_at=now)
        if writer is None:
            with ctx.db.append() as own:
                own.execute(used)
        else:
            writer.execute(used)
    return StaffPrincipal(id=row["staff_id"], name=row["name"], role=row["role"])


def sign_out(ctx: ServerContext, token: str, member: StaffPrincipal, address: str) -> None:
    with ctx.db.write() as tx:
        found = tx.execute(sa.select(staff_sessions.c.id, staff_sessions.c.ended_at)
                           .where(staff_sessions.c.token_hash == hash_secret(token))).mappings().first()
        if found is None or found["ended_at"] is not None:
            return
        tx.execute(sa.update(staff_sessions).where(staff_sessions.c.id == found["id"]).values(ended_at=ctx.now()))
        ctx.audit.record(tx, member, "staff.signout", target=f"session:{found['id']}", address=address)


def _span(seconds: int) -> str:
    if seconds % 60 == 0 and seconds >= 60:
        minutes = seconds // 60
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
