"""The records this session shows: the open vault and an immutable :class:`~.snapshot.Snapshot` of it.

    records.open(vault)     # after an unlock: read everything once
    records.refresh()       # after a change or a sync page: read again; notify only if a record changed
    records.forget()        # at lock: nothing read stays in memory

Subscribers (the screens that list records) hear of a change only when a record a screen shows
changed: a sync that brought nothing new moves the sync status (:class:`SyncState`, which
:meth:`Records.refresh` keeps up to date) and leaves every list alone.

:class:`SyncState` is what the sync chip shows: the vault's sync status and what the live loop
last said. Only a change of what the chip shows notifies, so a live sync that brought nothing new
redraws the chip alone.

    sync.show(status)                    # Records.refresh passes each new read here
    sync.set_live("offline", "cannot reach the clinic server")
    sync.sync_now()                      # the chip's tap, Settings' "Sync now"
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..core.errors import SyncError, VaultError
from ..core.observable import Observable
from ..i18n import _
from ..sync.status import SyncStatus
from ..vault import Vault
from .notices import intent, sentence
from .snapshot import Snapshot, build_snapshot, empty_snapshot, empty_status

if TYPE_CHECKING:
    from .context import IntentContext

__all__ = ["Records", "SyncState"]


def _content(snapshot: Snapshot) -> tuple[Any, ...]:
    """What screens show: everything but when it was read and the sync status; of the outbox, only
    whether each command is waiting or was refused (a failed push counts attempts: nothing to redraw)."""
    s = snapshot
    return (s.profile, s.upcoming, s.past, s.appointments, s.prep, s.bills, s.results, s.threads, s.articles,
            {key: entry.state for key, entry in s.outbox.items()})


class Records(Observable):
    """The open vault (``None`` while locked) and what was read from it (see the module docstring)."""

    def __init__(self, clock: Callable[[], datetime], sync: SyncState) -> None:
        super().__init__()
        self._clock = clock
        self._sync = sync  # the sync status travels with every read, to its own observable
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
        vault = self.vault
        if vault is None:
            return
        # Reads run on several threads (intents, the live loop): under the vault's lock, the read
        # kept is always the newest; listeners are told outside it.
        with vault.lock:
            try:
                snapshot = build_snapshot(vault, self._clock())
            except VaultError:
                return  # closed underneath us by a lock; the next unlock reads it again
            changed = _content(snapshot) != _content(self.snapshot)
            self.snapshot = snapshot
            status_changed = self._sync.take(snapshot.status)
        if status_changed:
            self._sync.notify()
        if changed:
            self.notify()

    def forget(self) -> None:
        """Drop the vault and everything read from it (the lock)."""
        self.vault = None
        self.snapshot = empty_snapshot(self._clock())
        self._sync.show(self.snapshot.status)
        self.notify()


ONLINE = ("idle", "syncing")


class SyncState(Observable):
    """The sync status of this session (see the module docstring)."""

    def __init__(self, ctx: IntentContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.status: SyncStatus = empty_status()
        self.live_state: str | None = None  # from the live loop: idle | syncing | offline | error | revoked
        self.live_error: str | None = None

    @property
    def online(self) -> bool:
        return self.live_state in ONLINE

    def take(self, status: SyncStatus) -> bool:
        """Keep ``status``; whether it differs from the last one (the caller notifies)."""
        if status == self.status:
            return False
        self.status = status
        return True

    def show(self, status: SyncStatus) -> None:
        if self.take(status):
            self.notify()

    def set_live(self, state: str | None, error: str | None) -> None:
        if (state, error) != (self.live_state, self.live_error):
            self.live_state, self.live_error = state, error
            self.notify()

    @intent
    def sync_now(self) -> None:
        """Sync at once (also pushes what is queued); reports the outcome in one line."""
        ctx = self.ctx
        vault = ctx.records.require_vault()
        if ctx.host.live:
            ctx.host.nudge()
            ctx.feedback.toast = _("Syncing with your clinic…")
            return
        ctx.feedback.working(_("Syncing…"))
        try:
            ctx.services.link.sync_once(vault)
            ctx.feedback.toast = _("Up to date.")
        except SyncError as exc:
            ctx.feedback.error = sentence(str(exc))
        finally:
            ctx.feedback.busy = None
            ctx.records.refresh()

