"""The records this session shows: the open vault and an immutable :class:`~.snapshot.Snapshot` of it.

    records.open(vault)     # after an unlock: read everything once
    records.refresh()       # after a change or a sync page: read again; notify only if a record changed
    records.forget()        # at lock: nothing read stays in memory

Subscribers (the screens that list records) hear of a change only when a record a screen shows
changed: a sync that brought nothing new moves the sync status (:class:`~.sync_state.SyncState`,
which :meth:`Records.refresh` keeps up to date) and leaves every list alone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..core.errors import VaultError
from ..core.observable import Observable
from ..sync.status import SyncStatus
from ..vault import Vault
from .snapshot import Snapshot, build_snapshot, empty_snapshot

__all__ = ["Records"]


def _content(snapshot: Snapshot) -> tuple[Any, ...]:
    """What screens list: everything but when it was read and the sync status."""
    s = snapshot
    return (s.profile, s.upcoming, s.past, s.appointments, s.prep, s.bills, s.results, s.threads, s.articles,
            s.outbox)


class Records(Observable):
    """The open vault (``None`` while locked) and what was read from it (see the module docstring)."""

    def __init__(self, clock: Callable[[], datetime], on_status: Callable[[SyncStatus], None]) -> None:
        super().__init__()
        self._clock = clock
        self._on_status = on_status  # the sync status travels with every read, to its own observable
        self.vault: Vault | None = None
        self.snapshot: Snapshot = empty_snapshot(clock())

    def require_vault(self) -> Vault:
        if self.vault is None:
            raise VaultError("the app is locked: unlock it first")
        return self.vault

    def open(self, vault: Vault) -> None:
        self.vault = vault
        self.refresh()

    def refresh(self) -> None:
        """Re-read the vault into a new snapshot (after a change or a sync)."""
        if self.vault is None:
            return
        try:
            snapshot = build_snapshot(self.vault, self._clock())
        except VaultError:
            return  # closed underneath us by a lock; the next unlock reads it again
        changed = _content(snapshot) != _content(self.snapshot)
        self.snapshot = snapshot
        self._on_status(snapshot.status)
        if changed:
            self.notify()

    def forget(self) -> None:
        """Drop the vault and everything read from it (the lock)."""
        self.vault = None
        self.snapshot = empty_snapshot(self._clock())
        self._on_status(self.snapshot.status)
        self.notify()
