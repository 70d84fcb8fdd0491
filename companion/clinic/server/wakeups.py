"""Wake long-polling pulls when their patient's feed (or the clinic-wide feed) changes.

:class:`WakeupHub` lives on the server's event loop: a pull registers an ``asyncio.Event`` under
its patient id *before* it reads the feed (so a commit between the read and the wait is not
missed), then waits on it. Writers call :meth:`WakeupHub.wake_threadsafe` after commit from
whatever thread they ran in. The scope :data:`~companion.clinic.server.schema.CLINIC_SCOPE` wakes every
waiter (a new article concerns every patient).

A device holds at most :data:`POLLS_PER_DEVICE` waiting pulls (an app needs one; a second
covers a reconnect whose old request the server has not noticed is gone). A further pull from
the same device answers its *oldest* waiting pull at once — an empty page with its cursor, as a
timeout would — and waits in its place, so one device token cannot pile up waiting requests
(:meth:`WakeupHub.register_poll`). The count is per server process.

Across processes (several servers on one PostgreSQL database) each writer also sends
``NOTIFY companion_changes, '<origin> <scope>'`` inside its transaction (delivered at commit,
:meth:`.database.Tx.touch`) and every process runs a :class:`PgListener` thread on its own
autocommit connection. It skips its own process's notifications (that commit already woke this
hub, with the rows it hands over; the echo would take them back). After a (re)connect the
listener wakes everyone, because notifications sent while it was away are lost.

A waiting pull costs no database work until it is woken: it reads the feed once before it waits,
again after registering only when :meth:`WakeupHub.version` says a commit came in between, and
not at all when its wait runs out (an empty page with its cursor: the device's next pull reads).
Several processes on one SQLite file (not a supported set-up) still converge, at each device's
next pull that the memo cannot answer (at the latest :data:`.pull_memo.REMEMBER_FOR` later).
With 10,000 devices each re-polling every ~26 s that is ~385 pulls a second; most are
answered from memory (:mod:`.pull_memo`, stamped with :meth:`WakeupHub.scope_versions`) without a
database read, where a periodic re-check every 10 s was ~1,300 reads a second and saturated the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Iterable, Mapping

import anyio
import sqlalchemy as sa

from .database import CHANNEL, Database
from .feed import Page
from .handoff import Delivery, handed_page, prepare
from .pull_memo import PullMemo, Versions
from .schema import CLINIC_SCOPE

log = logging.getLogger("companion.clinic.server.wakeups")

POLLS_PER_DEVICE = 2
WOKEN_READS = 8  # worker threads a woken pull's re-read may use beside the pool's 40 (see WakeupHub.bind)


class Poll:
    """One waiting pull: ``event`` is set on a change (or to hand the slot over); ``superseded``
    says this one answers now with an empty page: a newer pull of the same device took the slot,
    or the device's own push changed the feed (see :meth:`WakeupHub.wake`)."""

    __slots__ = ("device_id", "event", "scope", "superseded")

    def __init__(self, device_id: str, scope: str, event: asyncio.Event) -> None:
        self.device_id = device_id
        self.scope = scope
        self.event = event
        self.superseded = False


class WakeupHub:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._polls: dict[str, list[Poll]] = {}  # device id -> its waiting pulls, oldest first
        self._scope_polls: dict[str, set[Poll]] = {}  # scope -> its waiting pulls (see waiting_devices)
        self._handed: dict[str, tuple[Versions, Delivery]] = {}  # patient -> its newest commit's rows (handoff)
        self._committed: dict[str, float] = {}  # scope -> perf_counter() of its last commit's wake call
        self._commits = 0  # how many commits (or notifications) called wake_threadsafe, in all
        self._commits_lock = threading.Lock()
        self._scope_commits: dict[str, int] = {}  # scope -> how many commits woke it (see scope_versions)
        self.memo = PullMemo()  # what a no-op pull is answered from (see routes_device)
        self.woken_reads: anyio.CapacityLimiter | None = None  # set by bind
        self.draining = False

    def attach(self, db: Database) -> None:
        """Let ``db``'s writes wake this hub and hand their rows over (:mod:`.handoff`)."""
        db.on_commit = self.wake_threadsafe
        db.watched = self.watched
        db.before_commit = lambda tx: prepare(tx, self.waiting_devices)

    def drain(self) -> None:
        """Shutting down: answer every waiting pull now (an empty page) instead of cutting it off."""
        self.draining = True
        self.wake_all()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Call on ``loop``. Woken pulls re-read through a limiter of their own (:data:`WOKEN_READS`
        threads) so that they never wait behind a queue of first reads for the default one."""
        self._loop = loop
        self.woken_reads = anyio.CapacityLimiter(WOKEN_READS)

    @property
    def waiting(self) -> int:
        return sum(len(v) for v in self._waiters.values())

    @property
    def waiting_pulls(self) -> int:
        """Device pulls registered and waiting: from registration on, a commit wakes them."""
        return sum(len(v) for v in self._polls.values())

    def register(self, scope: str) -> asyncio.Event:
        """Call on the event loop; pair with :meth:`unregister` in a ``finally``."""
        event = asyncio.Event()
        self._waiters.setdefault(scope, set()).add(event)
        return event

    def register_poll(self, device_id: str, scope: str) -> Poll:
        """A waiting pull of ``device_id`` (call on the event loop; pair with :meth:`unregister_poll`).
        Beyond :data:`POLLS_PER_DEVICE` the device's oldest waiting pull is superseded and woken."""
        poll = Poll(device_id, scope, self.register(scope))
        self._scope_polls.setdefault(scope, set()).add(poll)
        polls = self._polls.setdefault(device_id, [])
        polls.append(poll)
        while len(polls) > POLLS_PER_DEVICE:
            oldest = polls.pop(0)
            oldest.superseded = True
            oldest.event.set()
        return poll

    def unregister_poll(self, poll: Poll) -> None:
        self.unregister(poll.scope, poll.event)
        waiting = self._scope_polls.get(poll.scope)
        if waiting is not None:
            waiting.discard(poll)
            if not waiting:
                del self._scope_polls[poll.scope]
                self._handed.pop(poll.scope, None)  # nobody left to hand it to
        polls = self._polls.get(poll.device_id)
        if polls is not None:
            if poll in polls:
                polls.remove(poll)
            if not polls:
                del self._polls[poll.device_id]

    def unregister(self, scope: str, event: asyncio.Event) -> None:
        events = self._waiters.get(scope)
        if events is not None:
            events.discard(event)
            if not events:
                del self._waiters[scope]

    def watched(self, scope: str) -> bool:
        """Does a device pull wait on ``scope``? (From any thread: one dict load.)"""
        return scope in self._scope_polls

    def waiting_devices(self, scope: str) -> tuple[str, ...]:
        """The devices whose pulls wait on ``scope`` (from any thread: the copy is one C-level step
        under the GIL, so the event loop changing the set meanwhile cannot break it)."""
        return tuple({poll.device_id for poll in tuple(self._scope_polls.get(scope, ()))})

    def handed_page(self, patient_id: str, device_id: str, after: int, limit: int) -> Page | None:
        """The page the newest commit to the patient's scope handed over (:mod:`.handoff`), when no
        commit to the patient or the clinic-wide scope came after it and it fits this pull; else None."""
        with self._commits_lock:
            entry = self._handed.get(patient_id)
            if entry is None or entry[0] != self.scope_versions(patient_id):
                return None
        return handed_page(entry[1], device_id, after, limit)

    def wake(self, scopes: Iterable[str], pusher: str | None = None) -> None:
        """Call on the event loop. ``pusher``: the commit applied this device's push. Its own waiting
        pulls end empty rather than take the push's echo: the device drops a page that predates its
        own acknowledged push (:mod:`companion.sync.live`, it could undo the push's effect) and pulls
        right after the answer. Rendered, sent and decoded for nothing, that page also raced the
        push's own answer on both sides (a push of 100 took 3-5 ms longer with the device's poll waiting)."""
        scopes = set(scopes)
        if pusher is not None:
            for poll in self._polls.get(pusher, ()):
                if poll.scope in scopes or CLINIC_SCOPE in scopes:
                    poll.superseded = True  # its event is set below, with the scope's others
        for scope in scopes:
            if scope == CLINIC_SCOPE:
                self.wake_all()
                return
            for event in self._waiters.get(scope, ()):
                event.set()

    def wake_all(self) -> None:
        for events in self._waiters.values():
            for event in events:
                event.set()

    def version(self) -> int:
        """Counts up (from any thread, in :meth:`wake_threadsafe`) after every commit that wakes anyone.
        Read it before a pull's first snapshot begins: if it has not moved by the time the pull is
        registered, no commit that snapshot missed can have happened (its count comes after its commit,
        so after the snapshot began, and its wake-up after that finds the pull registered); if it
        moved, a commit may have been missed and the pull reads again before it waits."""
        return self._commits

    def scope_versions(self, patient_id: str) -> Versions:
        """How many commits woke the patient's scope and the clinic-wide scope, counted in
        :meth:`wake_threadsafe` before it returns (so before the committing request is answered):
        what :class:`.pull_memo.PullMemo` stamps what it remembers with."""
        return self._scope_commits.get(patient_id, 0), self._scope_commits.get(CLINIC_SCOPE, 0)

    def versions_since(self, patient_id: str, version: int) -> Versions | None:
        """:meth:`scope_versions`, when no commit has woken anyone since :meth:`version` said
        ``version`` (else None: a read that began after that may have missed one). Under the lock
        :meth:`wake_threadsafe` counts in, so the two counts are read as one."""
        with self._commits_lock:
            return self.scope_versions(patient_id) if self._commits == version else None

    def committed_at(self, scope: str) -> float | None:
        """When the last commit that woke ``scope`` (or everyone) called :meth:`wake_threadsafe`
        (``time.perf_counter()``): what a woken pull measures its wake-up from."""
        mine, everyone = self._committed.get(scope), self._committed.get(CLINIC_SCOPE)
        return max((t for t in (mine, everyone) if t is not None), default=None)

    def wake_threadsafe(self, scopes: Iterable[str], handed: Mapping[str, Delivery] | None = None,
                        pusher: str | None = None) -> None:
        """Call from any thread (writers run in the thread pool, the listener in its own thread). The
        counts move before this returns, bound to a loop or not: what the memo remembered is stale.
        ``handed``: the rows the commit hands to the patients' waiting pulls (:mod:`.handoff`); a
        scope without any forgets what an earlier commit handed over. ``pusher``: see :meth:`wake`."""
        scopes = tuple(scopes)
        now = time.perf_counter()
        for scope in scopes:  # one store per scope (a dict store is atomic under the GIL)
            self._committed[scope] = now
        with self._commits_lock:  # writers call this after commit, outside the write lock: never lose a count
            for scope in scopes:
                self._scope_commits[scope] = self._scope_commits.get(scope, 0) + 1
            self._commits += 1
            for scope in scopes:
                delivery = handed.get(scope) if handed else None
                if delivery is None:
                    self._handed.pop(scope, None)
                elif scope in self._scope_polls:
                    self._handed[scope] = (self.scope_versions(scope), delivery)
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # loop closing during shutdown
            loop.call_soon_threadsafe(self.wake, scopes, pusher)


class PgListener:
    """``LISTEN companion_changes`` on a dedicated autocommit connection, feeding the hub."""

    def __init__(self, sqlalchemy_url: str, hub: WakeupHub, origin: str) -> None:
        url = sa.make_url(sqlalchemy_url).set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._hub = hub
        self._origin = origin  # this process's writers' tag: their commits woke the hub already
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pg-listen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg

        backoff = 0.5
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.connected.set()
                    backoff = 0.5
                    self._hub.wake_threadsafe([CLINIC_SCOPE])  # anything may have been missed meanwhile
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):  # yields each one as it arrives
                            origin, _, scope = note.payload.rpartition(" ")
                            if origin != self._origin:
                                self._hub.wake_threadsafe([scope])
            except psycopg.Error as exc:
                self.connected.clear()
                log.warning("change listener lost its database connection (%s); reconnecting", type(exc).__name__)
                time.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
