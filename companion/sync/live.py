"""Live mode: keep a vault in sync while the app runs (and for ``companion sync --watch``).

    live = LiveSync(vault, client, hooks=MyHooks())
    live.start()          # a background thread
    ...                   # after queue_mutation(...): live.nudge() pushes at once
    live.stop()

Each round: a full :func:`~companion.sync.engine.synchronize` when needed (at
start, after a nudge, after a failure, when a page said ``has_more``), then a
long poll (``wait`` seconds, 25 by default) from the stored cursor. A page the
long poll brings is applied at once with its cursor (one atomic write), so a
PSR's message lands in the vault within a second — no second request.

The long poll runs in a helper thread so a nudge or a stop never waits behind
it: the loop stops waiting and the poll's late answer is dropped (pages are
only applied when the vault's cursor is still the one they were asked from).
An abandoned poll still in flight from the same cursor is reused rather than
doubled, so at most a couple of connections are ever held. The helper applies
its page itself, under the same locks and checks (a hand-over to the loop
thread first was ~0.2 ms of every live change: waking a thread), and never
once the loop was asked to stop; the loop thread then reports it (state, hooks).

Offline and back: transient failures (network, 5xx, 429) switch the state to
``offline`` and back off quietly (capped exponential with jitter, 1 s … 60 s;
a nudge retries at once); the first success switches it back to ``idle``. A
revoked device, an app too old, an unpaired vault or a certificate failure stop
the loop: retrying cannot help. Hooks (:class:`LiveHooks`) are called from the
live thread; keep them short (e.g. schedule a UI refresh).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from ..core.errors import (
    CompanionError,
    DeviceRevoked,
    InsecureServer,
    NotPaired,
    RateLimited,
    SyncError,
    SyncInProgress,
    UpgradeRequired,
)
from ..core.fields import utcnow
from ..core.protocol import MAX_PAGE, MAX_WAIT, PullPage
from ..i18n import language
from ..vault import Vault
from .engine import SyncReport, forget_clinic, state_for, sync_lock, synchronize
from .page_apply import apply_page
from .pull import PullStats, fetch_page
from .push import PushStats
from .retry import Interrupted, RetryPolicy, backoff_delay
from .status import one_line, record_status
from .store import CURSOR, RESYNC, credentials, pushes
from .transport import CursorExpired

__all__ = ["LiveHooks", "LiveSync", "FATAL"]

FATAL: tuple[type[SyncError], ...] = (DeviceRevoked, UpgradeRequired, NotPaired, InsecureServer)


class LiveHooks:
    """Callbacks of the live loop (override what you need; all run on the live thread)."""

    def state_changed(self, state: str, error: str | None) -> None:
        """``idle`` (online, caught up), ``syncing``, ``offline``, ``error`` or ``revoked``."""

    def synced(self, report: SyncReport) -> None:
        """A sync or a live page finished; refresh views when ``report.changed``."""

    def stopped(self, error: SyncError | None) -> None:
        """The loop ended: ``None`` after :meth:`LiveSync.stop`, else the error that ended it."""

    def progress(self, done: int, total: int) -> None:
        """A first sync or a resync applied a page: ``done`` records of ``total`` so far."""


@dataclass(slots=True)
class _Poll:
    cursor: str | None
    pushes: int = 0  # the vault's push count when the poll was sent (see _apply)
    done: threading.Event = field(default_factory=threading.Event)
    page: PullPage | None = None
    error: BaseException | None = None
    timing: dict[str, float] = field(default_factory=dict)
    need_sync: bool = True  # what applying the page said (see LiveSync._apply); True when it was not applied
    report: SyncReport | None = None  # the page went into the vault: what the loop thread reports


class LiveSync:
    """The live loop of one vault (see module docstring). Owns the thread, not the vault or the client."""

    def __init__(
        self,
        vault: Vault,
        client: httpx.Client,
        *,
        hooks: LiveHooks | None = None,
        wait: float = 25.0,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        policy: RetryPolicy | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.vault = vault
        self.client = client
        self.hooks = hooks or LiveHooks()
        self.wait = max(0.0, min(float(wait), float(MAX_WAIT)))
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.policy = policy or RetryPolicy(attempts=3, deadline=6.0)
        self.rng = rng
        self.state = "syncing"
        self.error: SyncError | None = None
        self._last_error: str | None = None
        self._stop = threading.Event()
        self._nudged = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._poll: _Poll | None = None
        self.last_timing: dict[str, float] = {}  # of the last live page applied, see _apply

    # -- control ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("this live loop was already started")
        self._thread = threading.Thread(target=self.run, name="companion-live-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the loop to end and wait up to ``timeout`` s; an in-flight long poll is abandoned."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def nudge(self) -> None:
        """Something was queued (or the user asked): sync now instead of at the next change."""
        self._nudged.set()
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- the loop ----------------------------------------------------------------------------

    def run(self) -> SyncError | None:
        """Run the loop in the calling thread until stopped or a fatal error (returned)."""
        failures = 0
        need_sync = True
        error: SyncError | None = None
        while not self._stop.is_set():
            try:
                if need_sync or self._nudged.is_set():
                    self._nudged.clear()
                    self._set_state("syncing", None)
                    report = synchronize(self.vault, self.client, policy=self.policy, stop=self._stop,
                                         progress=self.hooks.progress)
                    need_sync = False
                    failures = 0
                    self._set_state("idle", None)
                    self.hooks.synced(report)
                need_sync = self._long_poll()
            except Interrupted:
                break
            except FATAL as exc:
                error = exc
                self._set_state(state_for(exc), str(exc))
                break
            except CompanionError as exc:  # network, server, or the vault refusing a write (disk full…)
                failures += 1
                need_sync = True
                transient = isinstance(exc, SyncError) and not isinstance(exc, SyncInProgress)
                self._set_state(state_for(exc) if isinstance(exc, SyncError) and transient else "error", str(exc))
                delay = backoff_delay(failures - 1, base=self.backoff_base, factor=2.0, cap=self.backoff_cap,
                                      rng=self.rng)
                if isinstance(exc, RateLimited):
                    delay = max(delay, exc.retry_after)
                self._sleep(delay)
        self.error = error
        self.hooks.stopped(error)
        return error

    def _set_state(self, state: str, error: str | None) -> None:
        error = one_line(error) if error else None
        if (state, error) != (self.state, self._last_error):
            self.state = state
            self._last_error = error
            self.hooks.state_changed(state, error)

    def _sleep(self, delay: float) -> None:
        """Back off quietly; a nudge or a stop ends the wait early."""
        self._wake.clear()
        if not (self._stop.is_set() or self._nudged.is_set()):
            self._wake.wait(delay)

    def _long_poll(self) -> bool:
        """Wait for news from the stored cursor; apply a page that comes. True when a full sync is needed."""
        with self.vault.lock:
            _, token = credentials(self.vault)
            cursor = None if self.vault.meta.get(RESYNC) else self.vault.meta.get(CURSOR)
        if cursor is None:
            return True
        poll = self._poll
        if poll is None or poll.cursor != cursor or poll.pushes != pushes(self.vault) or (
                poll.done.is_set() and poll.error is not None):
            poll = self._poll = self._start_poll(token, cursor)
        while not poll.done.is_set():
            if self._stop.is_set() or self._nudged.is_set():
                return True  # abandon the wait; a later round may reuse this poll
            self._wake.wait()
            self._wake.clear()
        self._poll = None
        if isinstance(poll.error, CursorExpired):
            return True  # the full sync starts the resync
        if poll.error is not None:
            self._record_failure(poll.error)
            raise poll.error
        if poll.report is not None:
            self._set_state("idle", None)
            self.hooks.synced(poll.report)
        return poll.need_sync

    def _record_failure(self, exc: BaseException) -> None:
        """What synchronize does on failure, for a failed long poll (revoked: forget the clinic's data)."""
        if isinstance(exc, DeviceRevoked):
            forget_clinic(self.vault, now=utcnow())
        elif isinstance(exc, SyncError):
            record_status(self.vault, state_for(exc), now=utcnow(), error=str(exc))

    def _start_poll(self, token: str, cursor: str) -> _Poll:
        with self.vault.lock:
            poll = _Poll(cursor=cursor, pushes=pushes(self.vault))

        def fetch() -> None:
            try:
                poll.page, _ = fetch_page(self.client, token, cursor, limit=MAX_PAGE, wait=self.wait, timeout=10.0,
                                          generation=lambda: self.vault.durable_generation, language=language(),
                                          timing=poll.timing)
                poll.need_sync = self._apply(poll, cursor)
            except BaseException as exc:  # handed to the loop thread, which raises or drops it
                poll.error = exc
            finally:
                poll.done.set()
                self._wake.set()

        threading.Thread(target=fetch, name="companion-long-poll", daemon=True).start()
        return poll

    def _apply(self, poll: _Poll, cursor: str) -> bool:
        """In the poll's thread: apply its page with its cursor, unless the loop was asked to stop or
        the page is stale: the vault's cursor moved on, or one of our own pushes was acknowledged since
        the poll was sent (``poll.pushes``: the page may show the server from before it and undo its
        effect). True when a full sync is needed next. ``last_timing`` then holds the poll's ``timing``
        (see :func:`fetch_page`) plus ``picked`` (the page is decoded, the vault write starts) and
        ``applied`` (the vault write done), for the bench's breakdown of a live change."""
        page, timing = poll.page, poll.timing
        assert page is not None
        if not page.changes and page.cursor == cursor:
            return page.has_more
        timing["picked"] = time.perf_counter()
        started = utcnow()
        try:
            with sync_lock(self.vault), self.vault.lock:
                if (self._stop.is_set() or self.vault.meta.get(CURSOR) != cursor or self.vault.meta.get(RESYNC)
                        or pushes(self.vault) != poll.pushes):
                    return True  # stopping, or someone synced or pushed meanwhile: this page is stale
                apply_page(self.vault, page)
                timing["applied"] = time.perf_counter()
                finished = utcnow()
                record_status(self.vault, "idle", now=finished)
        except SyncInProgress:
            return True
        self.last_timing = timing
        pulled = PullStats(pages=1, changes=len(page.changes), requests=1)
        poll.report = SyncReport(started_at=started, finished_at=finished, push=PushStats(), pull=pulled)
        return page.has_more
