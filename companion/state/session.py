"""Session intents: create a passcode, pair, unlock, lock (on demand and after idle), re-ask the passcode.

The vault is open only while the app is unlocked: :meth:`SessionIntents.lock`
stops the background work (live sync, reminders), closes the vault (the keys
are forgotten) and drops everything read from it. Failed unlocks back off in
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
import threading
import time

from ..errors import LockedOut, SyncError, VaultBusy, WeakPasscode
from ..reminders import InAppNotifier, ReminderLoop
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


class _ReminderThread:
    """Runs the reminder loop in a background thread while the vault is open."""

    def __init__(self, loop: ReminderLoop) -> None:
        self.loop = loop
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=loop.run, args=(self.stop_event,), kwargs={"interval": 30.0},
                                       name="companion-reminders", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=5.0)


class SessionIntents(StateCore):
    """Life cycle of the unlocked session (see module docstring)."""

    _verifier: _Verifier | None = None
    _reveal_failures = 0
    _reminders: _ReminderThread | None = None

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
            self.vault = Vault.create(self.services.vault_dir, passcode)
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
            self.vault = Vault.open(self.services.vault_dir, passcode)
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
        vault = self.require_vault()
        self.refresh()
        status = self.snapshot.status
        if not status.paired and status.state != "revoked":
            self.phase = "onboarding"
            self.onboarding_step = "pair"
            return
        self.phase = "unlocked"
        self.route = Route()
        self.touch()
        if status.paired:
            self._live = self.services.link.start_live(vault, self._on_synced, self._on_live_state)
        self._start_reminders(vault)

    def _start_reminders(self, vault: Vault) -> None:
        notifier = self.services.notifier
        fallback = notifier if isinstance(notifier, InAppNotifier) else InAppNotifier("the system notification failed")
        fallback.subscribe(lambda banner: self.add_banner(banner.title, banner.body))
        loop = ReminderLoop(vault, notifier, self.services.profile, tz=self.services.tz, fallback=fallback,
                            clock=self.services.clock)
        self._reminders = _ReminderThread(loop)

    def _on_synced(self) -> None:
        self.refresh()
        self.notify()

    def _on_live_state(self, state: str, error: str | None) -> None:
        self.live_state, self.live_error = state, error
        if state == "revoked":
            self.refresh()
        self.notify()

    @intent
    def lock(self) -> None:
        """Lock now: stop background work, close the vault, forget what was read."""
        self._stop_background()
        if self.vault is not None:
            self.vault.close()
        self.vault = None
        self._verifier = None
        self.snapshot = empty_snapshot(self.now())
        self.drafts.clear()
        self.revealed.clear()
        self.route = Route()
        self.phase = "locked" if Vault.exists(self.services.vault_dir) else "onboarding"
        self.onboarding_step = "passcode"

    def _stop_background(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        if self._reminders is not None:
            self._reminders.stop()
            self._reminders = None
        self.live_state = None

    def auto_lock_seconds(self) -> float:
        """Idle time before the app locks itself (0 = never); tests may override it."""
        if self.services.auto_lock_seconds is not None:
            return self.services.auto_lock_seconds
        minutes = self.services.profile.auto_lock_minutes
        if self.vault is not None:
            stored = self.vault.meta.get(PRIVACY_KEY, {}) or {}
            if isinstance(stored, dict) and isinstance(stored.get("auto_lock_minutes"), int):
                minutes = stored["auto_lock_minutes"]
        return float(minutes) * 60.0

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
        """The app is closing: stop threads and close the vault."""
        self._stop_background()
        if self.vault is not None:
            self.vault.close()
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
