"""What the sync chip shows: the vault's sync status and what the live loop last said.

    sync.show(status)                    # Records.refresh passes each new read here
    sync.set_live("offline", "cannot reach the clinic server")
    sync.sync_now()                      # the chip's tap, Settings' "Sync now"

Only a change of what the chip shows notifies, so a live sync that brought nothing new redraws
the chip alone (nothing else subscribes to this object but the screens that show the status).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.errors import SyncError
from ..core.observable import Observable
from ..sync.status import SyncStatus
from .feedback import intent
from .snapshot import empty_status

if TYPE_CHECKING:
    from .context import IntentContext

__all__ = ["SyncState"]

ONLINE = ("idle", "syncing")


class SyncState(Observable):
    """The sync status of this session (see the module docstring); ``ctx`` is set by the composition root."""

    ctx: IntentContext

    def __init__(self) -> None:
        super().__init__()
        self.status: SyncStatus = empty_status()
        self.live_state: str | None = None  # from the live loop: idle | syncing | offline | error | revoked
        self.live_error: str | None = None

    @property
    def online(self) -> bool:
        return self.live_state in ONLINE

    def show(self, status: SyncStatus) -> None:
        if status != self.status:
            self.status = status
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
            ctx.feedback.toast = "Syncing with your clinic…"
            return
        ctx.feedback.working("Syncing…")
        try:
            ctx.services.link.sync_once(vault)
            ctx.feedback.toast = "Up to date."
        except SyncError as exc:
            ctx.feedback.error = str(exc)
        finally:
            ctx.feedback.busy = None
            ctx.records.refresh()

