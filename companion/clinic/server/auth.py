"""Bearer-token authentication for devices and staff, as FastAPI dependencies.

- :func:`current_device` — a paired, unrevoked device; a revoked one gets 401 with code
  ``device_revoked`` (checked against the database on every request, so revocation works at
  once on every server process). Staff tokens are not device tokens: 401.
- :func:`staff_with` ``(permission)`` — a staff member whose role has that permission
  (table in :mod:`.principals`); other roles get 403, device tokens 401. A desk sign-in session
  token (:mod:`.staff_sessions`) is a staff token too, until it ends, idles out or expires.
- :func:`staff_checked_in_route` ``(permission)`` — the same check, made in the route's own worker
  thread (:meth:`StaffCheck.admit`), for the PSR's message: one trip to the thread pool, not two.

Tokens are looked up by their SHA-256 (unique index): one indexed read per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from .context import ServerContext, get_ctx
from .errors import ApiError
from .middleware import ACTOR_KEY
from .principals import DevicePrincipal, StaffPrincipal
from .schema import devices, staff
from .staff_sessions import authenticate_session, is_session_token
from .tokens import DEVICE_TOKEN_PREFIX, STAFF_TOKEN_PREFIX, hash_secret

BACKGROUND_HEADER = "companion-background"
LAST_SEEN_EVERY = timedelta(minutes=5)  # write last_seen_at at most this often (writes cost an fsync)

device_bearer = HTTPBearer(auto_error=False, scheme_name="deviceToken",
                           description="Device token from POST /v1/devices")
staff_bearer = HTTPBearer(auto_error=False, scheme_name="staffToken",
                          description="Staff token from `companion-server staff add`")


def _unauthorized(code: str, message: str) -> ApiError:
    return ApiError(401, code, message, {"WWW-Authenticate": "Bearer"})


def bearer_token(credentials: HTTPAuthorizationCredentials | None, prefix: str, who: str) -> str:
    """The bearer token when it is present and of the right kind (device/staff prefix), else 401."""
    if credentials is None or not credentials.credentials:
        raise _unauthorized("unauthorized", f"a {who} bearer token is required")
    token = credentials.credentials.strip()
    if not token.startswith(prefix) or len(token) > 200:
        raise _unauthorized("invalid_token", f"not a valid {who} token")
    return token


def authenticate_device(ctx: ServerContext, token: str, conn: Connection | None = None, *,
                        generation: int | None = None, language: str | None = None) -> DevicePrincipal:
    """The device holding ``token``; reads through ``conn`` when given (one snapshot with the feed read).

    ``generation``: the vault generation the device reports (pulls). It is stored with
    ``last_seen_at`` (at most every :data:`LAST_SEEN_EVERY`, and at once the first time), so the
    rollback check costs no extra write; the principal carries what was stored before.
    ``language``: the language the device's app speaks (pulls); written when it differs from the
    stored one (a patient changes it rarely), with ``last_seen_at``.
    """
    return device_and_state(ctx, token, conn, generation=generation, language=language)[0]


# Built once: a statement built per call costs more than SQLite's own work on a hot path (a pull,
# the PSR's message): constructing it, then its cache key, ~0.2 ms a statement here.
_DEVICE_BY_TOKEN = sa.select(devices.c.id, devices.c.patient_id, devices.c.name, devices.c.revoked_at,
                             devices.c.last_seen_at, devices.c.vault_generation, devices.c.language
                             ).where(devices.c.token_hash == sa.bindparam("token_hash"))
_DEVICE_REVOKED = sa.select(devices.c.revoked_at).where(devices.c.id == sa.bindparam("device_id"))
_STAFF_BY_TOKEN = sa.select(staff.c.id, staff.c.name, staff.c.role, staff.c.revoked_at).where(
    staff.c.token_hash == sa.bindparam("token_hash"))


def device_and_state(ctx: ServerContext, token: str, conn: Connection | None = None, *,
                     generation: int | None = None, language: str | None = None
                     ) -> tuple[DevicePrincipal, StoredDevice]:
    """:func:`authenticate_device`, with the device's row as it stands after this request (what
    :class:`.pull_memo.PullMemo` remembers)."""
    row = ctx.db.first(_DEVICE_BY_TOKEN, conn, {"token_hash": hash_secret(token)})
    if row is None:
        raise _unauthorized("invalid_token", "unknown device token")
    if row["revoked_at"] is not None:
        raise device_revoked()
    now = ctx.now()
    stored = row["vault_generation"]
    after = StoredDevice(row["last_seen_at"], stored, row["language"])
    first_report = generation is not None and stored is None
    new_language = language is not None and language != row["language"]
    if first_report or new_language or row["last_seen_at"] is None or now - row["last_seen_at"] > LAST_SEEN_EVERY:
        values: dict[str, object] = {"last_seen_at": now}
        if generation is not None:
            values["vault_generation"] = max(generation, stored or 0)
        if language is not None:
            values["language"] = language
        with ctx.db.append() as writer:
            writer.execute(sa.update(devices).where(devices.c.id == row["id"]).values(**values))
        after = StoredDevice(now, values.get("vault_generation", stored),  # type: ignore[arg-type]
                             language if language is not None else row["language"])
    principal = DevicePrincipal(id=row["id"], patient_id=row["patient_id"], name=row["name"], vault_generation=stored)
    return principal, after


@dataclass(frozen=True, slots=True)
class StoredDevice:
    last_seen_at: datetime | None
    vault_generation: int | None
    language: str | None


def remembered_device(ctx: ServerContext, token: str, *, generation: int | None,
                      language: str | None) -> DevicePrincipal | None:
    """The token's device from :attr:`.wakeups.WakeupHub.memo` when nothing has made it stale (a
    revocation, a commit to its patient, ``last_seen_at`` due, a first generation or a new language:
    then None, and :func:`authenticate_device` reads the database)."""
    return ctx.hub.memo.device(hash_secret(token), ctx.hub.scope_versions, ctx.now(), LAST_SEEN_EVERY,
                               generation=generation, language=language)


def device_revoked() -> ApiError:
    return _unauthorized("device_revoked", "this device was revoked by the clinic; pair it again to continue")


def device_still_valid(ctx: ServerContext, device_id: str, conn: Connection | None = None) -> bool:
    """Re-checked by a long-poll when it wakes: a device revoked mid-wait gets its 401 at once.
    Reads through ``conn`` when given (one snapshot with the feed read)."""
    row = ctx.db.first(_DEVICE_REVOKED, conn, {"device_id": device_id})
    return row is not None and row["revoked_at"] is None


def authenticate_staff(ctx: ServerContext, token: str, *, touch: bool = True,
                       writer: Connection | None = None) -> StaffPrincipal:
    """An API token's or a desk session's staff member (``touch``: this request counts as activity).
    ``writer``: an open write transaction to check through (see :meth:`StaffCheck.admit`)."""
    if is_session_token(token):
        return authenticate_session(ctx, token, touch=touch, writer=writer)
    row = ctx.db.first(_STAFF_BY_TOKEN, writer, {"token_hash": hash_secret(token)})
    if row is None:
        raise _unauthorized("invalid_token", "unknown staff token")
    if row["revoked_at"] is not None:
        raise _unauthorized("staff_revoked", "this staff token was revoked")
    return StaffPrincipal(id=row["id"], name=row["name"], role=row["role"])


def is_background(request: Request) -> bool:
    """``Companion-Background: 1``: a poll no person asked for; it does not keep a desk session alive."""
    return request.headers.get(BACKGROUND_HEADER) == "1"


def current_device(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(device_bearer),  # noqa: B008
) -> DevicePrincipal:
    ctx = get_ctx(request)
    device = authenticate_device(ctx, bearer_token(credentials, DEVICE_TOKEN_PREFIX, "device"))
    request.scope[ACTOR_KEY] = device.id
    return device


def any_staff(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(staff_bearer),  # noqa: B008
) -> StaffPrincipal:
    """A dependency admitting staff of any role (:func:`staff_with` adds the role's permission)."""
    return admit_staff(request, bearer_token(credentials, STAFF_TOKEN_PREFIX, "staff"))


def admit_staff(request: Request, token: str, permission: str | None = None, *,
                writer: Connection | None = None) -> StaffPrincipal:
    """The staff member of ``token`` (401 when unknown or revoked), whose role holds ``permission``
    (403 otherwise); what :func:`any_staff` and :func:`staff_with` admit, wherever it runs.
    ``writer``: an open write transaction to check through."""
    ctx = get_ctx(request)
    try:
        member = authenticate_staff(ctx, token, touch=not is_background(request), writer=writer)
    except ApiError:
        ctx.admitted.discard(hash_secret(token))
        raise
    ctx.admitted.add(hash_secret(token))
    request.scope[ACTOR_KEY] = member.id
    if permission is not None:
        _check_permission(member, permission)
    return member


def _check_permission(member: StaffPrincipal, permission: str) -> None:
    if not member.can(permission):
        raise ApiError(403, "forbidden", f"the {member.role} role may not do this ({permission})")


def staff_with(permission: str) -> Callable[..., Awaitable[StaffPrincipal]]:
    """A dependency admitting staff whose role holds ``permission``."""

    async def dependency(member: StaffPrincipal = Depends(any_staff)) -> StaffPrincipal:  # noqa: B008
        # async: a permission check needs no thread; as a plain def FastAPI would send it to the
        # thread pool, one more trip there and back (~0.3-0.7 ms under load) on every staff request
        _check_permission(member, permission)
        return member

    dependency.__name__ = f"staff_{permission.replace('.', '_')}"
    return dependency


@dataclass(frozen=True, slots=True)
class StaffCheck:
    """A staff request whose token is well-formed, to admit in the worker thread the route goes to
    anyway (:meth:`admit`): one trip to the thread pool for the token check and the write, not two."""

    request: Request
    token: str
    permission: str

    def admit(self) -> StaffPrincipal | None:
        """Call it first thing, before reading or writing anything: :func:`admit_staff`, or ``None``
        for a token this process admitted lately, which the write admits inside its own transaction
        (:meth:`admit_in`): one indexed read in the transaction that needs it, not a transaction of
        its own (~1 ms of the PSR's message). A token not admitted lately is checked here, before the
        write takes the writers' lock: a stranger's token never holds it."""
        if hash_secret(self.token) in get_ctx(self.request).admitted:
            return None
        return admit_staff(self.request, self.token, self.permission)

    def admit_in(self, writer: Connection) -> StaffPrincipal:
        """:func:`admit_staff` through the open write transaction ``writer``: a refusal rolls it back."""
        return admit_staff(self.request, self.token, self.permission, writer=writer)


def staff_checked_in_route(permission: str) -> Callable[..., Awaitable[StaffCheck]]:
    """:func:`staff_with`, for a hot route that calls :meth:`StaffCheck.admit` in its own worker
    thread. A missing or malformed token is refused here, as by :func:`staff_with`; a body that does
    not validate is answered only after the token is admitted (:func:`admit_before_refusal`), so the
    caller learns nothing before authenticating, as with :func:`staff_with`."""

    async def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(staff_bearer),  # noqa: B008
    ) -> StaffCheck:
        return StaffCheck(request, bearer_token(credentials, STAFF_TOKEN_PREFIX, "staff"), permission)

    dependency.__name__ = f"staff_{permission.replace('.', '_')}_in_route"
    dependency.staff_permission = permission  # type: ignore[attr-defined]  # see admit_before_refusal
    return dependency


async def admit_before_refusal(request: Request) -> None:
    """Before a request's body is refused: on a route of :func:`staff_checked_in_route`, admit its
    token first (raises the 401 or 403 :func:`staff_with` would have given before the body)."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    for dependency in getattr(dependant, "dependencies", ()):
        permission = getattr(dependency.call, "staff_permission", None)
        if permission is not None:
            token = bearer_token(await staff_bearer(request), STAFF_TOKEN_PREFIX, "staff")
            await run_in_threadpool(admit_staff, request, token, permission)
