"""The session's life cycle: create a passcode, pair, unlock, lock (on demand and after idle), wipe.

    session.start()                       # onboarding on a fresh device, else the lock screen
    session.unlock("correct horse 42")    # phase "unlocked"; the records are read
    session.tick()                        # once a second: auto-lock after idle, lock-screen countdown
    session.lock()

Each session (a browser tab of the local web app, or the desktop window) starts locked and
unlocks on its own through the process's :class:`~.vault_host.VaultHost`: :meth:`Session.lock`
drops everything this session read, and the host closes the vault (the keys are forgotten) and
stops the background work (live sync, reminders) when no session holds it any more. Failed
unlocks back off in the vault itself (``LockedOut.retry_after``), so the lock screen only shows
the countdown; quitting the app cannot reset it.

The shell subscribes: a phase change swaps onboarding, the lock screen and the app.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..core.errors import LockedOut, RecordError, SyncError, VaultBusy, VaultExists
from ..core.observable import Observable
from ..i18n import _
from ..vault import Vault
from .formatting import first_sync_text
from .notices import intent
from .passcode import SensitiveResults
from .preferences import Preferences, apply_language

if TYPE_CHECKING:
    from .context import IntentContext

__all__ = ["PHASES", "Session"]

PHASES = ("onboarding", "locked", "unlocked")


class Session(Observable):
    """Phase, onboarding step and lock-screen backoff of one session (see the module docstring)."""

    def __init__(self, ctx: IntentContext, prefs: Preferences) -> None:
        super().__init__()
        self.ctx = ctx
        self._prefs = prefs  # the auto-lock setting (one rule: Preferences.auto_lock_seconds)
        self.reveal = SensitiveResults(ctx, self.lock)
        self.phase = "onboarding"
        self.onboarding_step = "passcode"  # passcode | pair | syncing
        self.first_sync: tuple[int, int] | None = None  # records so far of the total, while syncing
        self.retry_at: float | None = None  # monotonic time the lock screen may try again

    def _vault_here(self) -> bool:
        return Vault.exists(self.ctx.services.vault_dir)

    def _show(self, phase: str, step: str = "passcode") -> None:
        self.phase, self.onboarding_step = phase, step
        self.notify()

    def start(self) -> None:
        """Decide the first screen: onboarding on a fresh device, else the lock screen (in the chosen language)."""
        if self._vault_here() and self.ctx.records.vault is None:
            apply_language(None, self.ctx.services.profile, self.ctx.services.vault_dir)
        self._show("locked" if self._vault_here() else "onboarding")

    # --- onboarding ------------------------------------------------------------------------

    @intent
    def create_passcode(self, passcode: str, confirm: str) -> None:
        feedback = self.ctx.feedback
        if passcode != confirm:
            feedback.error = _("The two passcodes are not the same.")
            return
        feedback.working(_("Creating your encrypted store…"))
        try:
            vault = self.ctx.host.create(self.ctx.member, passcode)
        except VaultExists:  # set up in another window (or tab) meanwhile: unlock it like any vault
            feedback.error = _("Your records were set up in another window. Type that passcode to unlock them.")
            self._show("locked")
            return
        finally:
            feedback.busy = None
        self.ctx.records.open(vault)
        self.reveal.remember(passcode)
        self.ctx.drafts.clear()
        self._show("onboarding", "pair")

    @intent
    def pair(self, server_url: str, code: str) -> None:
        ctx, feedback = self.ctx, self.ctx.feedback
        vault = ctx.records.require_vault()
        if not code.strip():
            feedback.error = _("Type the pairing code the clinic gave you.")
            return
        feedback.working(_("Connecting to your clinic…"))
        try:
            ctx.services.link.pair(vault, server_url.strip(), code.strip(), ctx.services.device_name)
            self._show("onboarding", "syncing")
            feedback.working(_("Downloading your records…"))
            try:
                ctx.services.link.sync_once(vault, progress=self._first_sync_progress)
            except SyncError as exc:
                feedback.toast = _("Paired. The first download did not finish (%(problem)s); it retries by itself.") % {
                    "problem": exc}
        finally:
            feedback.busy = None
            self.first_sync = None
        ctx.drafts.clear()
        self._enter_unlocked()

    def _first_sync_progress(self, done: int, total: int) -> None:
        """A page of the first download is in: the bar and the busy line say how far."""
        self.first_sync = (done, total)
        progress = first_sync_text(done, total)
        self.ctx.feedback.working(_("Downloading your records… %(progress)s") % {"progress": progress})
        self.notify()

    @intent
    def start_pairing(self) -> None:
        """Connect again (after the clinic disconnected this device): back to the pairing step."""
        self.ctx.records.require_vault()
        self._show("onboarding", "pair")

    # --- lock and unlock -----------------------------------------------------------------

    @intent
    def unlock(self, passcode: str) -> None:
        ctx, feedback = self.ctx, self.ctx.feedback
        if not passcode:  # never an attempt: wrong ones count toward the vault's lockout
            feedback.error = _("Type your passcode.")
            return
        if self.retry_at is not None and time.monotonic() < self.retry_at:
            feedback.error = _("Too many wrong passcodes. Try again in %(n)s s.") % {"n": self.seconds_to_retry()}
            return
        feedback.working(_("Unlocking…"))
        try:
            vault = ctx.host.unlock(ctx.member, passcode)
        except LockedOut as exc:
            self.retry_at = time.monotonic() + exc.retry_after
            self.notify()
            raise
        except VaultBusy:
            feedback.error = _("Your records are open in another Companion window or command. Close it and try again.")
            return
        finally:
            feedback.busy = None
        self.retry_at = None
        self.reveal.remember(passcode)
        ctx.drafts.clear()
        if vault.recovered:
            feedback.toast = _("Your records were repaired from their previous copy; the last change may be missing.")
        ctx.records.open(vault)
        self._enter_unlocked()

    def seconds_to_retry(self) -> int:
        if self.retry_at is None:
            return 0
        return max(0, int(self.retry_at - time.monotonic() + 0.999))

    def _enter_unlocked(self) -> None:
        ctx = self.ctx
        apply_language(ctx.records.vault, ctx.services.profile, ctx.services.vault_dir)
        ctx.records.refresh()
        status = ctx.records.snapshot.status
        if not status.paired and status.state != "revoked":
            self._show("onboarding", "pair")
            return
        ctx.nav.reset()
        ctx.touch()
        ctx.sync.set_live(ctx.host.live_state, ctx.host.live_error)
        self._show("unlocked")
        ctx.host.start_background(paired=status.paired)

    @intent
    def lock(self) -> None:
        """Lock this session now: forget what was read; the vault closes when no session holds it."""
        if self.ctx.records.vault is not None:
            self.ctx.host.release(self.ctx.member)
        self.forget()

    def forget(self) -> None:
        """Drop everything this session read or was typed into it; back to the lock screen (or onboarding)."""
        ctx = self.ctx
        ctx.records.forget()
        self.reveal.forget()
        ctx.drafts.clear()
        ctx.banners.clear()
        ctx.sync.set_live(None, None)
        ctx.nav.reset()
        self._show("locked" if self._vault_here() else "onboarding")

    def tick(self) -> None:
        """Called about once a second by the app: auto-lock after idle, lock-screen countdown."""
        if self.phase == "unlocked":
            limit = self._prefs.auto_lock_seconds()
            if limit > 0 and time.monotonic() - self.ctx.last_activity >= limit:
                self.lock()
                self.ctx.feedback.toast = _("Locked after a period of no use.")
                self.ctx.feedback.notify()
        elif self.phase == "locked" and self.retry_at is not None:
            if time.monotonic() >= self.retry_at:
                self.retry_at = None
                self.ctx.feedback.error = None
                self.ctx.feedback.notify()
            self.notify()

    def shutdown(self) -> None:
        """This session ends (its tab closed, or the app quits): it no longer holds the vault."""
        if self.ctx.records.vault is not None:
            self.ctx.host.release(self.ctx.member)
            self.ctx.records.vault = None

    # --- the passcode and the device -----------------------------------------------------

    @intent
    def change_passcode(self, old: str, new: str, confirm: str) -> None:
        feedback = self.ctx.feedback
        if new != confirm:
            raise RecordError("new passcode", _("the two new passcodes are not the same"))
        feedback.working(_("Changing your passcode…"))
        try:
            self.ctx.records.require_vault().change_passcode(old, new)
        finally:
            feedback.busy = None
        self.reveal.remember(new)  # the check for sensitive results follows the new passcode
        self.ctx.drafts.pop("passcode.old", "passcode.new", "passcode.confirm")
        feedback.toast = _("Passcode changed.")
        self.notify()  # the settings screen clears its passcode fields

    @intent
    def unpair_and_wipe(self, confirm_text: str) -> None:
        """Remove every record and the passcode from this device (typed confirmation required)."""
        if confirm_text.strip().upper() != "WIPE":
            raise RecordError("confirmation", _("type WIPE to confirm"))
        self.ctx.host.wipe(self.ctx.member)
        self.forget()
        self.ctx.feedback.toast = _("This device no longer holds any of your records.")
