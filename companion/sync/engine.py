"""``synchronize``: one sync of a vault with the clinic, as a plain function over an injected client.

Like WatermelonDB's ``synchronize()``, it only orchestrates; each phase is a
helper in its own module::

    with sync_lock(vault):                  # one sync at a time per vault
        push_outbox(...)                    # push.py: send commands, settle each by the answer
        pull_changes(...)                   # pull.py: pages + cursor, one atomic write each
        record_status(...)                  # status.py: idle / offline / error / revoked

Usage (the composition root builds the client; see transport.build_client)::

    with client_for_vault(vault) as client:
        report = synchronize(vault, client)

Failures raise the :mod:`companion.core.errors` tree after recording the status;
nothing queued is ever lost by a failure (the outbox only shrinks on the
server's acknowledgement). The revoked answer (401 ``device_revoked``) removes
the token and the clinic's records (``vault.clear_clinic_data()``), marks
what was still queued as not sent, stores state ``revoked`` and raises
:class:`DeviceRevoked`.

Concurrency: a second ``synchronize`` of the same vault while one runs raises
:class:`SyncInProgress` at once (in-process, a non-blocking lock per vault).
Across processes the vault's exclusive file lock already keeps a second
process out (``VaultBusy`` at open; the CLI says a sync or the app is running).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

import httpx

from ..core.errors import (
    DeviceRevoked,
    NotPaired,
    RateLimited,
    ServerFailed,
    ServerUnreachable,
    SyncError,
    SyncInProgress,
)
from ..core.fields import utcnow
from ..core.models import OutboxEntry
from ..core.protocol import MAX_PAGE
from ..vault import Vault
from .pull import PullStats, pull_changes
from .push import PushStats, push_outbox
from .retry import Interrupted, RetryPolicy
from .status import record_status
from .store import credentials
from .transport import REVOKED_MESSAGE

__all__ = ["SyncReport", "forget_clinic", "state_for", "sync_lock", "synchronize"]

_locks: weakref.WeakKeyDictionary[Vault, threading.Lock] = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one sync did; ``finished_at`` is the exact time of this successful sync."""

    started_at: datetime
    finished_at: datetime
    push: PushStats
    pull: PullStats

    @property
    def requests(self) -> int:
        return self.push.requests + self.pull.requests

    @property
    def changed(self) -> bool:
        """Whether the vault's records or outbox changed (the app refreshes its views when True)."""
        return bool(self.pull.changes or self.push.sent or self.push.rejected or self.pull.removed)

    def summary(self) -> str:
        parts = [f"sent {self.push.applied + self.push.duplicate}"]
        if self.push.rejected:
            parts.append(f"{self.push.rejected} refused by the clinic (see `companion show outbox`)")
        parts.append(f"received {self.pull.changes} change{'s' if self.pull.changes != 1 else ''}")
        if self.pull.resynced:
            parts.append("full resync")
        return "Synced: " + ", ".join(parts) + "."


def _lock_of(vault: Vault) -> threading.Lock:
    with _locks_guard:
        lock = _locks.get(vault)
        if lock is None:
            lock = _locks[vault] = threading.Lock()
        return lock


@contextmanager
def sync_lock(vault: Vault) -> Iterator[None]:
    """Hold this vault's sync lock, or raise SyncInProgress at once (never wait behind another sync)."""
    lock = _lock_of(vault)
    if not lock.acquire(blocking=False):
        raise SyncInProgress(
            "another sync of this vault is already running: concurrent synchronization is not allowed"
        )
    try:
        yield
    finally:
        lock.release()


def state_for(exc: SyncError) -> str:
    """The stored state after a failed sync."""
    if isinstance(exc, DeviceRevoked):
        return "revoked"
    if isinstance(exc, ServerUnreachable | ServerFailed | RateLimited):
        return "offline"
    return "error"


def forget_clinic(vault: Vault, *, now: datetime) -> None:
    """The device was revoked: drop token and clinic records; keep queued items, marked as not sent.

    The queued items stay visible (the patient wrote them) but are never sent:
    after a new pairing they must not go out under whoever the device then belongs to.
    """
    with vault.lock, vault.batch():
        entries: list[OutboxEntry] = vault.outbox.all()
        for entry in entries:
            if entry.state == "pending":
                vault.outbox.upsert(replace(entry, state="rejected", last_error="not sent: this device was revoked"))
        vault.clear_clinic_data()
        record_status(vault, "revoked", now=now, error=REVOKED_MESSAGE, force=True)


def synchronize(
    vault: Vault,
    client: httpx.Client,
    *,
    wait: float = 0,
    policy: RetryPolicy | None = None,
    limit: int = MAX_PAGE,
    stop: threading.Event | None = None,
    now: Callable[[], datetime] = utcnow,
    progress: Callable[[int, int], None] | None = None,
) -> SyncReport:
    """Push the outbox, pull until caught up, record the status; returns a SyncReport.

    ``wait`` (seconds) long-polls the first pull when nothing is new (live mode).
    ``policy`` bounds retries of transient failures (default: ~8 s in all).
    ``stop`` ends retry waits early (raises the retry module's Interrupted).
    ``progress(done, total)``: records so far of the total, during a first sync or a resync
    (see :func:`~companion.sync.pull.pull_changes`).
    Raises NotPaired, SyncInProgress, DeviceRevoked, UpgradeRequired,
    ServerUnreachable, ServerFailed, RateLimited, ProtocolError, InsecureServer,
    RequestRejected — all after recording the status in the vault.
    """
    policy = policy or RetryPolicy()
    # A compaction the pull made due (a first sync's one new base) starts once the status is written:
    # started at the pull's end, it would take the vault's lock for its snapshot just as the status
    # write needs it.
    with sync_lock(vault), vault.deferred_compaction():
        started = now()
        try:
            _, token = credentials(vault)
            pushed = push_outbox(vault, client, token, policy=policy, stop=stop)
            pulled = pull_changes(vault, client, token, policy=policy, wait=wait, limit=limit, stop=stop,
                                  progress=progress)
        except (NotPaired, Interrupted):
            raise
        except DeviceRevoked:
            forget_clinic(vault, now=now())
            raise
        except SyncError as exc:
            record_status(vault, state_for(exc), now=now(), error=str(exc))
            raise
        finished = now()
        record_status(vault, "idle", now=finished)
        return SyncReport(started_at=started, finished_at=finished, push=pushed, pull=pulled)
