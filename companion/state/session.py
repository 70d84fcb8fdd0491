"""Session intents: create a passcode, pair, unlock, lock (on demand and after idle), re-ask the passcode.

Each session (a browser tab of the local web app, or the desktop window) starts
locked and unlocks on its own through the process's :class:`~.vault_host.VaultHost`:
:meth:`SessionIntents.lock` drops everything this session read, and the host
closes the vault (the keys are forgotten) and stops the background work (live
sync, reminders) when no session holds it any more. Failed unlocks back off in
the vault itself (``LockedOut.retry_after``), so the lock screen only shows the
countdown; quitting the app cannot reset it.

A sensitive result asks for the passcode again. The vault is already open then
(and holds its file lock), so the passcode is checked against a verifier made
at unlock — a salted scrypt hash kept in memory only, forgotten at lock. Five
wrong answers lock the app, which puts the vault's own backoff in charge.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

from ..core.errors import LockedOut, SyncError, VaultBusy, VaultExists, WeakPasscode
from ..vault import Vault
from ..vault.passcode import check_new_passcode
from .core import Route, StateCore, intent
from .snapshot import empty_snapshot

__all__ = ["SessionIntents", "passcode_strength"]

PRIVACY_KEY = "settings.privacy"
MAX_REVEAL_FAILURES = 5


def passcode_strength(passcode: str) -> tuple[int, str, str | None]:
    """``(score 0-4, label, problem)`` for the strength meter; ``problem`` is why the vault would refuse it."""
    if not passcode:
        return 0, "Enter a passcode", None
    try:
        check_new_passcode(passcode)
    except WeakPasscode as exc:
        return 0, "Too weak", str(exc)
    classes = sum(any(f(c) for c in passcode) for f in (str.islower, str.isupper, str.isdigit,
                                                      lambda c: not c.isalnum()))
    score = 1 + (len(passcode) >= 10) + (len(passcode) >= 14) + (classes >= 3)
    return min(score, 4), ("Fair", "Good", "Strong", "Very strong")[min(score, 4) - 1], None


class _Verifier:
    """A salted scrypt hash of the passcode, in memory only (see module docstring)."""

    def __init__(self, passcode: str) -> None:
        self.salt = secrets.token_bytes(16)
        self.digest = self._hash(passcode)

    def _hash(self, passcode: str) -> bytes:
        return hashlib.scrypt(passcode.encode(), salt=self.salt, n=2**14, r=8, p=1, dklen=32)

    def check(self, passcode: str) -> bool:
        return hmac.compare_digest(self.digest, self._hash(passcode))


class SessionIntents(StateCore):
    """Life cycle of the unlocked session (see module docstring)."""

    _verifier: _Verifier | None = None
    _reveal_failures = 0

    def start(self) -> None:
        """Decide the first screen: onboarding on a fresh device, else the lock screen."""
        self.phase = "locked" if Vault.exists(self.services.vault_dir) else "onboarding"
        self.onboarding_step = "passcode"
        self.notify()

    # --- onboarding ------------------------------------------------------------------------

    @intent
    def create_passcode(self, passcode: str, confirm: str) -> None:
        if passcode != confirm:
            self.error = "The two passcodes are not the same."
            return
        self.busy = "Creating your encrypted store…"
        self.notify()
        try:
            self.vault = self.host.create(self, passcode)
        except VaultExists:  # set up in another window (or tab) meanwhile: unlock it like any vault
            self.phase = "locked"
            self.error = "Your records were set up in another window. Type that passcode to unlock them."
            return
        finally:
            self.busy = None
        self._verifier = _Verifier(passcode)
        self.drafts.clear()
        self.onboarding_step = "pair"

    @intent
    def pair(self, server_url: str, code: str) -> None:
        vault = self.require_vault()
        if not code.strip():
            self.error = "Type the pairing code the clinic gave you."
            return
        self.busy = "Connecting to your clinic…"
        self.notify()
        try:
            self.services.link.pair(vault, server_url.strip(), code.strip(), self.services.device_name)
            self.onboarding_step = "syncing"
            self.busy = "Downloading your records…"
            self.notify()
            try:
                self.services.link.sync_once(vault)
            except SyncError as exc:
                self.toast = f"Paired. The first download did not finish ({exc}); it retries by itself."
        finally:
            self.busy = None
        self.drafts.clear()
        self._enter_unlocked()

    # --- lock and unlock -----------------------------------------------------------------

    @intent
    def unlock(self, passcode: str) -> None:
        if not passcode:  # never an attempt: wrong ones count toward the vault's lockout
            self.error = "Type your passcode."
            return
        if self.retry_at is not None and time.monotonic() < self.retry_at:
            self.error = f"Too many wrong passcodes. Try again in {self.seconds_to_retry()} s."
            return
        self.busy = "Unlocking…"
        self.notify()
        try:
            self.vault = self.host.unlock(self, passcode)
        except LockedOut as exc:
            self.retry_at = time.monotonic() + exc.retry_after
            raise
        except VaultBusy:
            self.error = "Your records are open in another Companion window or command. Close it and try again."
            return
        finally:
            self.busy = None
        self.retry_at = None
        self._verifier = _Verifier(passcode)
        self._reveal_failures = 0
        self.drafts.clear()
        if self.vault.recovered:
            self.toast = "Your records were repaired from their previous copy; the last change may be missing."
        self._enter_unlocked()

    def seconds_to_retry(self) -> int:
        if self.retry_at is None:
            return 0
        return max(0, int(self.retry_at - time.monotonic() + 0.999))

    def _enter_unlocked(self) -> None:
        self.refresh()
        status = self.snapshot.status
        if not status.paired and status.state != "revoked":
            self.phase = "onboarding"
            self.onboarding_step = "pair"
            return
        self.phase = "unlocked"
        self.route = Route()
        self.touch()
        self.live_state, self.live_error = self.host.live_state, self.host.live_error
        self.host.start_background(paired=status.paired)

    # --- what the shared vault's background work reports (see VaultHost) -----------------

    def vault_synced(self) -> None:
        self.refresh()
        self.notify()

    def vault_live_state(self, state: str, error: str | None) -> None:
        self.live_state, self.live_error = state, error
        if state == "revoked":
            self.refresh()
        self.notify()

    def vault_banner(self, title: str, body: str) -> None:
        self.add_banner(title, body)

    def vault_closed(self, reason: str) -> None:
        self._forget()
        self.toast = reason
        self.notify()

    @intent
    def lock(self) -> None:
        """Lock this session now: forget what was read; the vault closes when no session holds it."""
        if self.vault is not None:
            self.host.release(self)
        self._forget()

    def _forget(self) -> None:
        self.vault = None
        self._verifier = None
        self.snapshot = empty_snapshot(self.now())
        self.drafts.clear()
        self.revealed.clear()
        self.banners = []
        self.live_state = self.live_error = None
        self.route = Route()
        self.phase = "locked" if Vault.exists(self.services.vault_dir) else "onboarding"
        self.onboarding_step = "passcode"

    def auto_lock_seconds(self) -> float:
        """Idle time before the app locks itself (0 = never); tests may override it."""
        if self.services.auto_lock_seconds is not None:
            return self.services.auto_lock_seconds
        return float(self.auto_lock_minutes()) * 60.0

    def auto_lock_minutes(self) -> int:
        """The patient's auto-lock setting (the clinic profile's default until they chose one)."""
        stored: Any = self.vault.meta.get(PRIVACY_KEY, {}) if self.vault is not None else {}
        value = stored.get("auto_lock_minutes") if isinstance(stored, dict) else None
        return value if isinstance(value, int) else self.services.profile.auto_lock_minutes

    def tick(self) -> None:
        """Called about once a second by the app: auto-lock after idle, lock-screen countdown."""
        if self.phase == "unlocked":
            limit = self.auto_lock_seconds()
            if limit > 0 and time.monotonic() - self.last_activity >= limit:
                self.lock()
                self.toast = "Locked after a period of no use."
                self.notify()
        elif self.phase == "locked" and self.retry_at is not None:
            if time.monotonic() >= self.retry_at:
                self.retry_at = None
                self.error = None
            self.notify()

    def shutdown(self) -> None:
        """This session ends (its tab closed, or the app quits): it no longer holds the vault."""
        if self.vault is not None:
            self.host.release(self)
            self.vault = None

    # --- sensitive results -------------------------------------------------------------

    @intent
    def reveal_result(self, result_id: str, passcode: str) -> None:
        """Show a sensitive result once the passcode is typed again (until the patient leaves it)."""
        if not passcode:  # an empty field is not a wrong try
            self.error = "Type your passcode."
            return
        if self._verifier is None or not self._verifier.check(passcode):
            self._reveal_failures += 1
            if self._reveal_failures >= MAX_REVEAL_FAILURES:
                self.lock()
                self.error = "Too many wrong passcodes: the app locked itself."
                return
            self.error = "That passcode is not right."
            return
        self._reveal_failures = 0
        self.drafts.pop("reveal", None)
        self.revealed.add(result_id)
