"""The sync status the app shows (last successful sync, pending, state, last error), kept in the vault.

Meta keys (read by ``companion show status`` and the UI's status chip):

    status.state        idle | syncing | offline | error | revoked
    status.last_sync    ISO time of the last successful sync
    status.last_error   one line, never a message body or a token
    status.last_attempt ISO time of the last attempt

Every vault write is a durable commit (a journal frame and an fsync), so a
sync that changed nothing does not write just to move a timestamp: the status is written
when the state or the error changes, or when the stored time is more than
:data:`REFRESH_SECONDS` old (so ``last_sync`` is at most that stale). The exact
times of the last sync are in the :class:`~companion.sync.engine.SyncReport`
(and the live loop's hooks) for an app that shows seconds. ``syncing`` is
only ever reported through hooks, never stored: a process killed mid-sync
must not leave the vault saying "syncing" for ever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..core.fields import iso, parse_datetime
from ..core.models import OutboxEntry
from ..i18n import N_
from ..vault import Vault
from .store import CLINIC_NAME, DEVICE_ID, RESTORED_COPY, SERVER_URL, TOKEN
from .transport import one_line

__all__ = ["REFRESH_SECONDS", "STATES", "SyncStatus", "one_line", "read_status", "record_status",
           "take_restored_copy_notice"]

RESTORED_COPY_TITLE = N_("Your records were brought up to date")
RESTORED_COPY_BODY = N_("This device's data came from an older copy, so it was synced again from the clinic. "
                        "Anything you did on the older copy after it was made and that had not reached the clinic "
                        "is not on this device.")

STATES = ("idle", "syncing", "offline", "error", "revoked")
STATE = "status.state"
LAST_SYNC = "status.last_sync"
LAST_ERROR = "status.last_error"
LAST_ATTEMPT = "status.last_attempt"
REFRESH_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """What the status chip shows."""

    paired: bool
    state: str | None  # None: never synced
    last_sync: datetime | None
    last_attempt: datetime | None
    last_error: str | None
    pending: int
    rejected: int
    device_id: str | None
    clinic_name: str | None
    server_url: str | None


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value, "status")
    except Exception:  # a damaged status value must not break the status chip
        return None


def read_status(vault: Vault) -> SyncStatus:
    meta = vault.meta
    entries: list[OutboxEntry] = vault.outbox.all()
    state = meta.get(STATE)
    return SyncStatus(
        paired=meta.get(TOKEN) is not None,
        state=state if isinstance(state, str) else None,
        last_sync=_time(meta.get(LAST_SYNC)),
        last_attempt=_time(meta.get(LAST_ATTEMPT)),
        last_error=meta.get(LAST_ERROR),
        pending=sum(1 for e in entries if e.state == "pending"),
        rejected=sum(1 for e in entries if e.state == "rejected"),
        device_id=meta.get(DEVICE_ID),
        clinic_name=meta.get(CLINIC_NAME),
        server_url=meta.get(SERVER_URL),
    )


def _stale(value: object, now: datetime) -> bool:
    when = _time(value)
    return when is None or (now - when).total_seconds() >= REFRESH_SECONDS


def record_status(
    vault: Vault, state: str, *, now: datetime, error: str | None = None, force: bool = False
) -> bool:
    """Store the outcome of a sync attempt (see module docstring for when it writes); True if written."""
    if state not in STATES or state == "syncing":
        raise ValueError(f"not a stored sync state: {state}")
    error = one_line(error) if error else None
    meta = vault.meta
    with vault.lock:
        succeeded = state == "idle"
        changed = meta.get(STATE) != state or meta.get(LAST_ERROR) != error
        stale = _stale(meta.get(LAST_SYNC if succeeded else LAST_ATTEMPT), now)
        if not (force or changed or stale):
            return False
        with vault.batch():
            meta.set(STATE, state)
            meta.set(LAST_ATTEMPT, iso(now))
            if succeeded:
                meta.set(LAST_SYNC, iso(now))
            if error is None:
                meta.delete(LAST_ERROR)
            else:
                meta.set(LAST_ERROR, error)
    return True


def take_restored_copy_notice(vault: Vault) -> tuple[str, str] | None:
    """The (title, body) to show once after a sync found the vault to be an older copy (see ``pull``).

    Catalog messages, not yet translated: the banner words them in the language of the moment it is
    shown (a language switch while it shows rewords it)."""
    with vault.lock:
        if vault.meta.get(RESTORED_COPY) is None:
            return None
        vault.meta.delete(RESTORED_COPY)
    return RESTORED_COPY_TITLE, RESTORED_COPY_BODY
