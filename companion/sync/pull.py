"""Pull phase: fetch pages of changes since the cursor and apply each with its cursor atomically.

``GET /v1/sync?cursor=…&limit=…&wait=…`` pages are validated completely by
``protocol.parse_pull_response`` (types, kinds, ids, page size) *before* anything is
written, so a malformed answer leaves the vault byte-for-byte unchanged; each is then
written with its cursor in one vault write (:func:`.page_apply.apply_page`), and the next
pull resumes from the last stored cursor.

410 ``cursor_expired`` starts a full resync: the pull restarts from the
beginning with ``sync.resync`` set; the last page also deletes every local
record the server did not send (except the patient's own queued messages), and
only then stores the new cursor. The outbox is never touched. A resync
interrupted by a crash restarts from the beginning.

Pages are written with ``batch(durable=False)``: on disk at once, fsynced within a second. A power
loss in between takes the newest pages with their cursor, and the next pull fetches them again.

Rollback check: every pull reports the vault's durable generation (a power loss cannot take it, so
pages it took are not mistaken for a rollback); when the server
answers that it has already seen a higher one from this device, the vault was
put back to an older copy (:class:`OlderVaultCopy`). The vault's generation is
advanced past what the server saw, ``sync.restored_copy`` records it for the
app to say, and a full resync brings back what the copy was missing.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from ..core.errors import OlderVaultCopy, ProtocolError
from ..core.fields import iso, utcnow
from ..core.protocol import (
    GENERATION_HEADER,
    GENERATION_SEEN_HEADER,
    LANGUAGE_HEADER,
    MAX_PAGE,
    REMAINING_HEADER,
    PullPage,
    parse_generation,
    parse_pull_response,
)
from ..i18n import language
from ..vault import Vault
from . import page_apply
from .conflicts import RecordKey
from .retry import RetryPolicy, with_retries
from .store import CURSOR, RESTORED_COPY, RESYNC
from .transport import IO_TIMEOUT, CursorExpired, Traffic, send_json

__all__ = ["FIRST_PAGE", "LONG_POLL_MARGIN", "OlderVaultCopy", "PullStats", "fetch_answer", "fetch_page", "next_cursor",
           "pull_changes"]

LONG_POLL_MARGIN = 10.0  # seconds a long poll may take beyond its wait before we call it lost
# The first page of a pull from the beginning: smaller than MAX_PAGE, so that its answer (and the
# total the server tells with it, for the app's "N of M records") comes quickly.
FIRST_PAGE = 500
MAX_CURSOR = 200  # as parse_pull_response allows
Checked = tuple[PullPage, int, "Future[tuple[Any, int]] | None"]  # a validated page, its size, the next answer


@dataclass(slots=True)
class PullStats(Traffic):
    """What one pull phase did: pages and changes applied, a resync, and its traffic."""

    pages: int = 0
    changes: int = 0
    resynced: bool = False
    removed: int = 0  # local records deleted by a full resync's sweep
    restored_copy: bool = False  # the vault was found to be an older copy (then resynced)


def fetch_page(
    client: httpx.Client, token: str, cursor: str | None, *, limit: int, wait: float, timeout: float,
    generation: Callable[[], int] | None = None, language: str | None = None,
    timing: dict[str, float] | None = None, remaining: Callable[[int], None] | None = None,
) -> tuple[PullPage, int]:
    """One validated page and its size in bytes (network only: the vault is not touched).

    :func:`fetch_answer` (see there for the arguments), then ``parse_pull_response``.
    """
    data, size = fetch_answer(client, token, cursor, limit=limit, wait=wait, timeout=timeout, generation=generation,
                              language=language, timing=timing, remaining=remaining)
    page = parse_pull_response(data)
    if timing is not None:
        timing["decoded"] = time.perf_counter()
    return page, size


def fetch_answer(
    client: httpx.Client, token: str, cursor: str | None, *, limit: int, wait: float, timeout: float,
    generation: Callable[[], int] | None = None, language: str | None = None,
    timing: dict[str, float] | None = None, remaining: Callable[[int], None] | None = None,
) -> tuple[Any, int]:
    """One pull answer as decoded JSON, not yet validated as a page, and its size in bytes.

    ``generation`` (the vault's, read when sending and again when the answer is in):
    reported to the server; :class:`OlderVaultCopy` when the server saw a higher one.
    Generations only grow in a running vault, so a request overtaken by a later one is
    never mistaken for a rollback. ``timing`` (the live loop's) gets ``received`` and ``decoded``
    (``time.perf_counter()``) and the server's ``Server-Timing`` durations as ``server.<name>`` (ms).
    ``remaining`` is called with the server's count of changes after this page, when it sent one
    (the first page of a pull from the beginning; ``Companion-Remaining``).
    """
    params: dict[str, str | int] = {"limit": limit}
    if cursor is not None:
        params["cursor"] = cursor
    if wait > 0:
        params["wait"] = int(wait)
        timeout = max(timeout, wait + LONG_POLL_MARGIN)
    headers = {GENERATION_HEADER: str(generation())} if generation is not None else {}
    if language is not None:  # the language the app speaks: the desk shows it beside the patient's name
        headers[LANGUAGE_HEADER] = language
    answer = send_json(client, "GET", "/v1/sync", token=token, params=params, timeout=timeout,
                       extra_headers=headers)
    if timing is not None:
        timing.update(received=answer.received, **server_timing(answer.headers.get("server-timing", "")))
    left = parse_generation(answer.headers.get(REMAINING_HEADER))  # the same shape: ASCII digits, bounded
    if remaining is not None and left is not None:
        remaining(left)
    seen = parse_generation(answer.headers.get(GENERATION_SEEN_HEADER))
    if generation is not None and seen is not None and seen > (now := generation()):
        raise OlderVaultCopy(seen, now)
    return answer.data, answer.size


def next_cursor(data: Any) -> str | None:
    """The cursor to ask for the next page with, read from a decoded answer before it is validated.

    Only for asking the same server for more (as a query parameter, where it came from): the
    page itself is applied only once :func:`parse_pull_response` accepted it, with this cursor.
    ``None`` when the answer does not plainly say there is more.
    """
    if not isinstance(data, dict) or data.get("has_more") is not True:
        return None
    cursor = data.get("cursor")
    return cursor if isinstance(cursor, str) and 0 < len(cursor) <= MAX_CURSOR else None


def server_timing(header: str) -> dict[str, float]:
    """``Server-Timing: wake;dur=0.3, read;dur=1.1`` as ``{"server.wake": 0.3, …}``; what is not
    understood is skipped (it only feeds the bench's breakdown)."""
    out: dict[str, float] = {}
    for part in header.split(",")[:8]:
        name, _, rest = part.strip().partition(";")
        key, _, value = rest.strip().partition("=")
        if name.isidentifier() and key == "dur":
            with contextlib.suppress(ValueError):
                out[f"server.{name}"] = float(value)
    return out


def pull_changes(
    vault: Vault,
    client: httpx.Client,
    token: str,
    *,
    policy: RetryPolicy,
    wait: float = 0,
    limit: int = MAX_PAGE,
    stop: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PullStats:
    """Pull and apply pages until the server has nothing more (see module docstring).

    ``progress(done, total)`` is called after each page applied of a pull from the beginning (a
    first sync, a resync) whose size the server told (``Companion-Remaining``): records so far
    of the total, for the app to show. ``total`` never drops below ``done``.

    The next page is asked for as soon as an answer is decoded (:func:`next_cursor`), so the server
    builds page k+1 while this process checks and writes page k, and page k+1 is validated on a
    thread of its own while page k is written (its fsync frees the interpreter). A page is applied
    only once validated, after the one before it, with its own cursor; at most one validated page
    waits. A pull from the beginning asks for :data:`FIRST_PAGE` changes, then ``limit`` a page.
    From the first page that says there is more, compaction waits until the end (one new base after
    a first sync, not one per quarter of growth); so does cyclic GC, from the start of a pull from
    the beginning. A pull from a cursor of one page (a no-op, a long poll) changes neither.
    """
    stats = PullStats()
    resync = bool(vault.meta.get(RESYNC))
    cursor: str | None = None if resync else vault.meta.get(CURSOR)
    seen: set[RecordKey] | None = set() if resync else None
    stats.resynced = resync

    told: list[int] = []  # the server's count after the first page, when it said
    done, total = 0, None  # of a pull from the beginning whose size the server told

    def fetch(cursor: str | None, page_wait: float) -> tuple[Any, int]:
        def attempt(budget: float) -> tuple[Any, int]:
            stats.requests += 1
            return fetch_answer(client, token, cursor, limit=min(limit, FIRST_PAGE) if cursor is None else limit,
                                wait=page_wait, timeout=min(budget, IO_TIMEOUT),
                                generation=lambda: vault.durable_generation, language=language(),
                                remaining=told.append if cursor is None else None)

        return with_retries(attempt, policy, stop=stop)

    with contextlib.ExitStack() as bulk:
        net = ThreadPoolExecutor(max_workers=1, thread_name_prefix="companion-prefetch")
        check = ThreadPoolExecutor(max_workers=1, thread_name_prefix="companion-check")

        def checked(data: Any, size: int) -> Checked:  # the next request goes out, then this is validated
            more = next_cursor(data)
            answer = net.submit(fetch, more, 0) if more is not None else None
            page = parse_pull_response(data)
            if page.has_more and answer is None:
                answer = net.submit(fetch, page.cursor, 0)
            return page, size, answer

        def check_next(answer: Future[tuple[Any, int]]) -> Checked:  # on the check thread, as page k is written
            return checked(*answer.result())

        try:
            ahead: Future[Checked] | None = None
            first, bulk_started = True, False
            if cursor is None:  # from the beginning: cyclic GC waits from its first page on (see the docstring)
                bulk.enter_context(_cyclic_gc_paused())
            while True:
                try:
                    page, size, answer = ahead.result() if ahead is not None else checked(
                        *fetch(cursor, wait if first else 0))
                except (OlderVaultCopy, CursorExpired) as restart:
                    if isinstance(restart, OlderVaultCopy):
                        _note_older_copy(vault, restart)
                        stats.restored_copy = True
                    elif resync:
                        raise ProtocolError("the server refused to send changes from the beginning") from None
                    _start_resync(vault)
                    resync, cursor, seen, stats.resynced, ahead = True, None, set(), True, None
                    continue
                first = False
                ahead = check.submit(check_next, answer) if answer is not None else None
                if page.has_more and not bulk_started:  # a long pull (a first sync): see the docstring
                    bulk.enter_context(vault.deferred_compaction())
                    if gc.isenabled():  # not yet paused: a resync that began with a cursor
                        bulk.enter_context(_cyclic_gc_paused())
                    bulk_started = True
                stats.pages += 1
                stats.changes += len(page.changes)
                stats.bytes_down += size
                stats.removed += page_apply.apply_page(vault, page, seen=seen, sweep=resync and not page.has_more)
                if cursor is None:  # a pull from the beginning: count from here
                    done, total = 0, (len(page.changes) + told[-1]) if told else None
                    told.clear()
                done += len(page.changes)
                if progress is not None and total is not None:
                    progress(done, max(done, total))
                cursor = page.cursor
                if not page.has_more:
                    return stats
        finally:  # a failed apply never waits for a fetch or a check
            check.shutdown(wait=False, cancel_futures=True)
            net.shutdown(wait=False, cancel_futures=True)


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a pull runs (reference counting frees as usual).

    A first sync adds ~10 tracked objects per record (the vault's documents, the parsed records),
    and each full collection walks all of them: at 100,000 records that was a fifth of the pull.
    Afterwards they go to the oldest generation without being walked (``freeze`` then ``unfreeze``,
    as the gc docs describe, ~10 ms saved at 10,000 records), where the next full collection finds
    any cyclic garbage the pull left; not when something froze objects on purpose (unfreeze would
    give them back). Left as found when already off.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def _note_older_copy(vault: Vault, older: OlderVaultCopy) -> None:
    """Move the vault's generation past what the server saw (so the check passes from now on) and say so."""
    with vault.lock:
        vault.advance_generation(older.seen + 1)
        vault.meta.set(RESTORED_COPY, {"at": iso(utcnow()), "generation": older.generation, "seen": older.seen})


def _start_resync(vault: Vault) -> None:
    """Forget the expired cursor and remember that a resync runs (so a crash restarts it)."""
    with vault.lock, vault.batch():
        vault.meta.set(RESYNC, True)
        vault.meta.delete(CURSOR)

