"""The app's side of the HTTP API: pairing, pull (with long-poll) and push.

See :mod:`companion.core.protocol` for the wire format. The pull is an ``async`` route so a
waiting device costs an ``asyncio.Event``, not a thread: database work runs in the thread pool,
the wait on the event loop (:mod:`.wakeups`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import time
import zlib
from dataclasses import dataclass
from typing import Any

import anyio
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from ...core.fields import parse_language
from ...core.protocol import (
    DEFAULT_PAGE,
    GENERATION_HEADER,
    GENERATION_SEEN_HEADER,
    LANGUAGE_HEADER,
    MAX_PAGE,
    MAX_WAIT,
    REMAINING_HEADER,
    parse_generation,
)
from . import devices as device_store
from .auth import (
    authenticate_device,
    bearer_token,
    current_device,
    device_and_state,
    device_bearer,
    device_revoked,
    device_still_valid,
    remembered_device,
)
from .context import ServerContext, client_address, get_ctx
from .errors import ApiError
from .feed import Page, count_after, decode_cursor, encode_cursor, read_page, render_page
from .middleware import ACTOR_KEY, server_timing
from .mutations import apply_push
from .pairing import redeem_code
from .principals import DevicePrincipal
from .pull_memo import KnownDevice
from .schemas import PairRequest, PushRequest
from .tokens import DEVICE_TOKEN_PREFIX, hash_secret

router = APIRouter(tags=["device"])

# Pull pages compress themselves, faster than the app's level 6: a full page of 500 records
# (~290 KB of JSON) takes ~3 ms at level 2 against ~15 ms, for ~13 % more bytes (72 KB, not 64 KB).
# On an initial pull that is most of the server's time per page.
PAGE_GZIP_LEVEL = 2
PAGE_GZIP_MINIMUM = 4096  # as the app's GZIP_MINIMUM: smaller answers (a live change) go as they are
SPREAD, SPREAD_FROM = 0.25, 10.0  # see spread_wait
MEMO_TIMING = "memo"  # Server-Timing of a pull whose first read was answered from memory (pull_memo)


class ChangeOut(BaseModel):
    seq: int
    kind: str
    id: str
    op: str
    data: dict[str, Any] | None


class PullOut(BaseModel):
    changes: list[ChangeOut]
    cursor: str
    has_more: bool


class ClinicOut(BaseModel):
    name: str


class PairOut(BaseModel):
    device_id: str
    token: str
    patient_id: str
    clinic: ClinicOut


class MutationResultOut(BaseModel):
    id: str
    status: str
    reason: str | None


class PushOut(BaseModel):
    results: list[MutationResultOut]


@router.post("/v1/devices", response_model=PairOut, summary="Trade a pairing code for a device token")
def pair_device(body: PairRequest, request: Request) -> dict[str, Any]:
    ctx = get_ctx(request)
    paired = redeem_code(ctx, ctx.audit, body.code, body.device_name, client_address(request))
    return {"device_id": paired.device_id, "token": paired.token, "patient_id": paired.patient_id,
            "clinic": {"name": ctx.settings.clinic_name}}


@router.get("/v1/devices/me", summary="This device, as the clinic sees it")
def who_am_i(device: DevicePrincipal = Depends(current_device)) -> dict[str, Any]:  # noqa: B008
    return {"device_id": device.id, "patient_id": device.patient_id, "name": device.name}


@router.delete("/v1/devices/me", status_code=204, summary="Unpair: revoke this device's own token")
def unpair(request: Request, device: DevicePrincipal = Depends(current_device)) -> Response:  # noqa: B008
    ctx = get_ctx(request)
    with ctx.db.write() as tx:
        row = device_store.get_device(tx, device.id)
        if row is not None:
            device_store.revoke_device(tx, row, None, ctx.now())
            ctx.audit.record(tx, device, "device.unpair", patient_id=device.patient_id, target=f"device:{device.id}",
                             address=client_address(request))
    return Response(status_code=204)


@dataclass(frozen=True, slots=True)
class FirstRead:
    device: DevicePrincipal
    after: int
    page: Page
    remaining: int | None  # from the beginning with more to come: how many changes after the page
    version: int  # the hub's version of the patient's feed from before the read (see wakeups)


def _first_read(ctx: ServerContext, token: str, cursor: str | None, limit: int,
                generation: int | None, language: str | None) -> FirstRead:
    """Authenticate and read in one trip to the thread pool (a pull the memo could not answer); from
    the beginning, also how many changes come after a page that has more (in the same snapshot).
    What it learnt is remembered for the device's next pull (:mod:`.pull_memo`)."""
    after = decode_cursor(ctx.db.epoch, cursor)
    version = ctx.hub.version()  # before the snapshot begins (see WakeupHub.version)
    with ctx.db.read() as conn:
        device, stored = device_and_state(ctx, token, conn, generation=generation, language=language)
        page = read_page(conn, device.patient_id, after, limit, ctx.seen)
        remaining = count_after(conn, device.patient_id, page.last_seq) if after == 0 and page.has_more else None
    versions = ctx.hub.versions_since(device.patient_id, version)
    if versions is not None:  # no commit woke anyone during the read: nothing it read can be stale yet
        known = DevicePrincipal(id=device.id, patient_id=device.patient_id, name=device.name,
                                vault_generation=stored.vault_generation)
        ctx.hub.memo.remember_device(hash_secret(token), KnownDevice(known, stored.last_seen_at, stored.language,
                                                                     versions, ctx.hub.memo.now()))
        if not page.has_more:
            ctx.hub.memo.remember_head(device.patient_id, versions, page.last_seq)
    return FirstRead(device, after, page, remaining, version)


def _memo_read(ctx: ServerContext, token: str, cursor: str | None, generation: int | None,
               language: str | None) -> FirstRead | None:
    """A no-op pull answered from memory, on the event loop (no database, no thread): the device
    is remembered and its patient's feed is known to end at the cursor. None: read the database."""
    version = ctx.hub.version()
    device = remembered_device(ctx, token, generation=generation, language=language)
    if device is None:
        return None
    after = decode_cursor(ctx.db.epoch, cursor)
    if not ctx.hub.memo.at_head(device.patient_id, ctx.hub.scope_versions(device.patient_id), after):
        return None
    return FirstRead(device, after, Page(rows=[], has_more=False, last_seq=after), None, version)


def _next_read(ctx: ServerContext, device: DevicePrincipal, after: int, limit: int,
               timing: dict[str, float] | None = None) -> Page:
    """A woken pull's re-read: still not revoked, and the page, in one snapshot (``timing["read"]``:
    its seconds in the worker thread)."""
    started = time.perf_counter()
    with ctx.db.read() as conn:
        if not device_still_valid(ctx, device.id, conn):
            raise device_revoked()
        page = read_page(conn, device.patient_id, after, limit, ctx.seen)
    if timing is not None:
        timing["read"] = time.perf_counter() - started
    return page


async def _woken_read(ctx: ServerContext, device: DevicePrincipal, after: int, limit: int,
                      timing: dict[str, float] | None = None) -> Page:
    """:func:`_next_read` in a worker thread, through the hub's own lane for woken pulls
    (:attr:`.wakeups.WakeupHub.woken_reads`): not queued behind the first reads of re-polling devices,
    which take every worker thread whenever many of them are read again at once."""
    return await anyio.to_thread.run_sync(functools.partial(_next_read, ctx, device, after, limit, timing),
                                          limiter=ctx.hub.woken_reads)


@router.get("/v1/sync", response_model=PullOut, summary="Pull changes since a cursor (long-poll with wait)")
async def pull(
    request: Request,
    cursor: str | None = Query(None, max_length=200, description="Opaque; absent means from the beginning"),
    limit: int = Query(DEFAULT_PAGE, ge=1, le=MAX_PAGE),
    wait: float = Query(0, ge=0, le=MAX_WAIT, description="Seconds to wait for a change when there is none"),
    credentials: HTTPAuthorizationCredentials | None = Depends(device_bearer),  # noqa: B008
) -> Response:
    ctx = get_ctx(request)
    token = bearer_token(credentials, DEVICE_TOKEN_PREFIX, "device")
    generation = _reported_generation(request)
    language = _reported_language(request)
    first = _memo_read(ctx, token, cursor, generation, language)
    from_memo = first is not None
    if first is None:
        first = await run_in_threadpool(_first_read, ctx, token, cursor, limit, generation, language)
    device, after, page, remaining = first.device, first.after, first.page, first.remaining
    request.scope[ACTOR_KEY] = device.id
    timing: dict[str, float] = {}
    if not page.rows and wait > 0:
        page = await _wait_for_changes(ctx, device, after, limit, wait, timing, first.version)
    if page.rows:
        ctx.audit.record_read(device, device.patient_id, {
            "after": after, "to": page.last_seq, "count": len(page.rows),
            "records": [f"{kind}:{rid}" for _, kind, rid, _, _ in page.rows]}, client_address(request))
    else:
        ctx.audit.count_empty_read(device, device.patient_id, after, client_address(request))
    headers = {} if device.vault_generation is None else {GENERATION_SEEN_HEADER: str(device.vault_generation)}
    if remaining is not None:
        headers[REMAINING_HEADER] = str(remaining)
    if from_memo and not timing:
        headers["Server-Timing"] = MEMO_TIMING  # answered without reading the database (bench and tests)
    started = time.perf_counter()
    body = render_page(page, encode_cursor(ctx.db.epoch, page.last_seq))
    if timing:
        timing["render"] = time.perf_counter() - started
        # a woken poll's: ``wake`` from the commit's wake call to the pull running again, then either
        # ``hand`` taking the rows the commit handed over (:mod:`.handoff`) or ``read`` its re-read of
        # the feed in a worker thread and ``pool`` the trip to and from it; ``render`` the page's JSON
        headers["Server-Timing"] = server_timing(timing)
    if len(body) >= PAGE_GZIP_MINIMUM and "gzip" in request.headers.get("accept-encoding", ""):
        body = await run_in_threadpool(_gzip, body)  # off the event loop: a full page takes a few ms
        headers.update({"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return Response(body, media_type="application/json", headers=headers)


def _gzip(body: bytes) -> bytes:
    """A pull page compressed at :data:`PAGE_GZIP_LEVEL` (the app middleware leaves encoded answers alone)."""
    compressor = zlib.compressobj(PAGE_GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(body) + compressor.flush()


def _reported_generation(request: Request) -> int | None:
    """The ``Companion-Vault-Generation`` a pull reports (rollback check); 422 when it is not a count."""
    raw = request.headers.get(GENERATION_HEADER)
    generation = parse_generation(raw)
    if raw is not None and generation is None:
        raise ApiError(422, "invalid_request", f"{GENERATION_HEADER} must be a whole number")
    return generation


def _reported_language(request: Request) -> str | None:
    """The ``Companion-Language`` a pull reports (the desk shows it); 422 when it is not a language code."""
    raw = request.headers.get(LANGUAGE_HEADER)
    language = parse_language(raw)
    if raw is not None and language is None:
        raise ApiError(422, "invalid_request", f"{LANGUAGE_HEADER} must be a language code like es")
    return language


async def _wait_for_changes(ctx: ServerContext, device: DevicePrincipal, after: int, limit: int,
                            wait: float, timing: dict[str, float], version: int) -> Page:
    """Wait for the patient's feed to change; an empty page on timeout, on shutdown, or when a
    newer pull of this device takes the slot (at most two wait per device, see :mod:`.wakeups`).
    No database work while waiting: when woken, the page is what the waking commit handed over
    (:mod:`.handoff`, on the event loop) or else the feed read again; it is also read once after
    registering if a commit came in since the first read (``version``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + spread_wait(wait)
    poll = ctx.hub.register_poll(device.id, device.patient_id)
    empty = Page(rows=[], has_more=False, last_seq=after)
    try:
        page = empty
        if ctx.hub.version() != version:  # a commit since the first snapshot began: it may have missed it
            page = await _woken_read(ctx, device, after, limit)
        while not page.rows:
            remaining = deadline - loop.time()
            if remaining <= 0 or ctx.hub.draining or poll.superseded:
                break
            with contextlib.suppress(TimeoutError):  # asyncio.timeout, not wait_for: no task of its own, so
                async with asyncio.timeout(remaining):  # a wake-up is one step of the loop, not three
                    await poll.event.wait()
            if not poll.event.is_set() or ctx.hub.draining or poll.superseded:
                break  # the wait ran out (the device's next pull reads), or the slot is handed over
            poll.event.clear()
            woken = time.perf_counter()
            committed = ctx.hub.committed_at(device.patient_id)
            if committed is not None and committed <= woken:
                timing["wake"] = woken - committed
            handed = ctx.hub.handed_page(device.patient_id, device.id, after, limit)
            if handed is not None:  # what the waking commit wrote, as a read at its commit would find it
                page = handed
                ctx.seen.seq = max(ctx.seen.seq, page.last_seq)
                timing["hand"] = time.perf_counter() - woken
            else:
                page = await _woken_read(ctx, device, after, limit, timing)
                timing["pool"] = time.perf_counter() - woken - timing.get("read", 0.0)
        return page
    finally:
        ctx.hub.unregister_poll(poll)


def spread_wait(wait: float) -> float:
    """A long wait ends somewhere in its last quarter (an empty page a little early is allowed): devices
    that all reconnected at one moment (a server restart) would otherwise re-poll together every
    ``wait`` seconds for ever, a wave of thousands of requests at once. Short waits are kept as asked."""
    return wait - random.uniform(0.0, wait * SPREAD) if wait >= SPREAD_FROM else wait


async def pushing_device(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(device_bearer),  # noqa: B008
) -> DevicePrincipal:
    """:func:`.auth.current_device` for a push, without a trip to the thread pool when the pull memo
    knows the token's device and nothing made it stale (a revocation, a commit to its patient,
    ``last_seen_at`` due: see :mod:`.pull_memo`). A dependency, so a refused token is refused before
    the body is looked at."""
    ctx = get_ctx(request)
    token = bearer_token(credentials, DEVICE_TOKEN_PREFIX, "device")
    device = remembered_device(ctx, token, generation=None, language=None)
    if device is None:
        device = await run_in_threadpool(authenticate_device, ctx, token)
    request.scope[ACTOR_KEY] = device.id
    return device


# async, so the batch takes one trip to the thread pool: as a plain def with a plain def dependency
# FastAPI would make three (the dependency, the route, the answer's validation). No docstring: it
# would become the route's description in /openapi.json.
@router.post("/v1/sync", response_model=PushOut, summary="Push mutations (each applied at most once)")
async def push(body: PushRequest, request: Request,
               device: DevicePrincipal = Depends(pushing_device)) -> dict[str, Any]:  # noqa: B008
    ctx = get_ctx(request)
    items: list[dict[str, Any]] = body.model_dump(exclude_none=True)["mutations"]
    results = await run_in_threadpool(apply_push, ctx, ctx.audit, device, items, client_address(request))
    return {"results": results}
