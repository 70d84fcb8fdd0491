"""One open vault per app process, shared by the sessions that each proved the passcode.

    host = VaultHost(services)
    vault = host.unlock(state, passcode)   # opens the vault, or proves the passcode against it
    host.start_background()                # live sync + reminders, once for the whole process
    host.release(state)                    # this session locks; the last one out closes the vault

A vault folder has one writer (its file lock), while the local web app may serve several
browser sessions (tabs, windows). Each session starts locked and unlocks on its own: the first
to unlock opens the vault; the next ones prove the passcode against the open vault
(:meth:`~companion.vault.Vault.verify_passcode`, counted toward the vault's lockout like any
failed unlock). What one session unlocked, no other session sees until it too typed the
passcode. The work that belongs to the vault rather than to a tab — live sync and reminders —
runs once while at least one session is unlocked, and reports to every unlocked session. When
the last session locks (or its tab closes), the vault closes and its keys are forgotten.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from ..core.errors import VaultExists
from ..i18n import _
from ..reminders import InAppNotifier, ReminderLoop
from ..reminders.notifier import Reword
from ..sync.status import take_restored_copy_notice
from ..vault import Vault
from .services import LiveHandle, Services

__all__ = ["HostMember", "VaultHost"]


class HostMember(Protocol):
    """A session holding the vault: told what the shared background work found (any thread)."""

    def vault_synced(self) -> None: ...

    def vault_live_state(self, state: str, error: str | None) -> None: ...

    def vault_banner(self, title: str, body: str, about: str = "", *, reword: Reword | None = None) -> None:
        """A notice for the banner slot; ``reword``: its words again in the language of the moment (see ``Banner``)."""

    def vault_closed(self, reason: str) -> None:
        """The vault was closed underneath this session (wiped from another window)."""


class _WakeableStop:
    """The loop's stop signal that a change of the patient's own reminders can also wake early
    (a PrEP time set for now shows now, not at the loop's next 30-second tick)."""

    def __init__(self) -> None:
        self._stopped = False
        self._event = threading.Event()

    def is_set(self) -> bool:
        return self._stopped

    def wait(self, timeout: float | None = None) -> bool:
        self._event.wait(timeout)
        self._event.clear()
        return self._stopped

    def wake(self) -> None:
        self._event.set()

    def set(self) -> None:
        self._stopped = True
        self._event.set()


class _ReminderThread:
    """Runs the reminder loop in a background thread while the vault is open."""

    def __init__(self, loop: ReminderLoop) -> None:
        self.stop_event = _WakeableStop()
        self.thread = threading.Thread(target=loop.run, args=(self.stop_event,), kwargs={"interval": 30.0},
                                       name="companion-reminders", daemon=True)
        self.thread.start()

    def wake(self) -> None:
        self.stop_event.wake()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=5.0)


class VaultHost:
    """See the module docstring. Thread-safe: Flet runs handlers in threads."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.vault: Vault | None = None
        self.live_state: str | None = None
        self.live_error: str | None = None
        self._members: dict[int, HostMember] = {}
        self._lock = threading.RLock()
        self._live: LiveHandle | None = None
        self._reminders: _ReminderThread | None = None

    # --- joining and leaving -----------------------------------------------------------

    def create(self, member: HostMember, passcode: str) -> Vault:
        """A new vault (onboarding), held by ``member``; :class:`VaultExists` when one is open already
        (another window set it up meanwhile: this one must unlock it with that passcode)."""
        with self._lock:
            if self.vault is not None:
                raise VaultExists("your records were set up in another window meanwhile")
            self.vault = Vault.create(self.services.vault_dir, passcode)
            self._members[id(member)] = member
            return self.vault

    def unlock(self, member: HostMember, passcode: str) -> Vault:
        """Open the vault for ``member``, or prove ``passcode`` against the one already open.

        Raises what :meth:`Vault.open` raises (LockedOut, WrongPasscode, VaultBusy, …).
        """
        with self._lock:
            if self.vault is None:
                self.vault = Vault.open(self.services.vault_dir, passcode)
            else:
                self.vault.verify_passcode(passcode)
            self._members[id(member)] = member
            return self.vault

    def release(self, member: HostMember) -> None:
        """``member`` locks: when nobody holds the vault any more, stop the background work and close it."""
        with self._lock:
            if self._members.pop(id(member), None) is None or self._members:
                return
            self._close()

    def wipe(self, member: HostMember) -> None:
        """Remove every vault file; every other session holding the vault is told and locks."""
        with self._lock:
            others = [m for key, m in self._members.items() if key != id(member)]
            self._members.clear()
            self._close()
            Vault.wipe(self.services.vault_dir)
        for other in others:
            other.vault_closed(_("The records on this device were removed from another window."))

    def shutdown(self) -> None:
        """The app is closing: stop the background work and close the vault."""
        with self._lock:
            self._members.clear()
            self._close()

    def _close(self) -> None:
        self._stop_background()
        if self.vault is not None:
            self.vault.close()
            self.vault = None

    # --- shared background work --------------------------------------------------------

    def start_background(self, *, paired: bool) -> None:
        """Live sync (when ``paired``) and reminders, once per open vault; idempotent."""
        with self._lock:
            vault = self.vault
            if vault is None:
                return
            if self._live is None and paired:
                self._live = self.services.link.start_live(vault, self._synced, self._state_changed)
            if self._reminders is None:
                self._reminders = _ReminderThread(self._reminder_loop(vault))

    def nudge(self) -> None:
        """Push what is queued now (when live sync runs)."""
        live = self._live
        if live is not None:
            live.nudge()

    def wake_reminders(self) -> None:
        """Plan and deliver reminders now (the patient changed one of their own)."""
        reminders = self._reminders
        if reminders is not None:
            reminders.wake()

    @property
    def live(self) -> bool:
        return self._live is not None

    def _reminder_loop(self, vault: Vault) -> ReminderLoop:
        notifier = self.services.notifier
        fallback = notifier if isinstance(notifier, InAppNotifier) else InAppNotifier("the system notification failed")
        fallback.subscribe(lambda banner: self._each(
            lambda m: m.vault_banner(banner.title, banner.body, banner.about, reword=banner.reword)))
        return ReminderLoop(vault, notifier, self.services.profile, tz=self.services.tz, fallback=fallback,
                            clock=self.services.clock)

    def _stop_background(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        if self._reminders is not None:
            self._reminders.stop()
            self._reminders = None
        self.live_state = self.live_error = None

    def _synced(self) -> None:
        self._each(lambda m: m.vault_synced())
        vault = self.vault
        notice = take_restored_copy_notice(vault) if vault is not None else None
        if notice is not None:  # the sync found an older copy of the vault and resynced it
            title, body = notice  # catalog messages: translated where the banner is drawn, in the language of then
            self._each(lambda m: m.vault_banner(_(title), _(body), reword=lambda: (_(title), _(body))))

    def _state_changed(self, state: str, error: str | None) -> None:
        self.live_state, self.live_error = state, error
        self._each(lambda m: m.vault_live_state(state, error))

    def _each(self, tell: Callable[[HostMember], None]) -> None:
        with self._lock:
            members = list(self._members.values())
        for member in members:
            tell(member)
