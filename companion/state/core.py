"""The shared core of the application state: phase, route, snapshot, feedback, and the intent wrapper.

:class:`StateCore` holds what every group of intents needs; the intents live in
:mod:`.session` (passcode, unlock, lock, pairing), :mod:`.care` (appointments,
prep, results, bills, messages) and :mod:`.preferences` (settings), and
:class:`~companion.state.app_state.AppState` combines them.

Every public intent is wrapped by :func:`intent`: it counts as activity for the
auto-lock, turns a :class:`~companion.core.errors.CompanionError` into a one-line
``error`` the screen shows (never a traceback), and notifies subscribers.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Concatenate, ParamSpec, TypeVar

from ..core.errors import CompanionError, VaultError
from ..core.observable import Observable
from ..sync.outbox import queue_mutation
from ..vault import Vault
from .services import Services
from .snapshot import Snapshot, build_snapshot, empty_snapshot
from .vault_host import VaultHost

__all__ = ["Banner", "Route", "StateCore", "intent"]

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound="StateCore")

PHASES = ("onboarding", "locked", "unlocked")
WIDE_FROM = 840.0


@dataclass(frozen=True, slots=True)
class Route:
    """Where the patient is: a screen name and, for detail screens, the record id."""

    name: str = "home"
    arg: str | None = None


# detail screen -> the list it returns to
PARENTS = {
    "appointment": "appointments", "request": "appointments", "checkin": "appointments",
    "bill": "bills", "result": "results", "thread": "messages", "compose": "messages",
    "article": "learn", "prep": "home",
}


@dataclass(frozen=True, slots=True)
class Banner:
    """A notice shown inside the app (in-app reminders, sync news)."""

    title: str
    body: str


def intent(fn: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R | None]:
    """Wrap an intent: activity for auto-lock, expected failures become ``state.error``, then notify."""

    def run(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R | None:
        self.touch()
        self.error = None
        try:
            return fn(self, *args, **kwargs)
        except CompanionError as exc:
            self.error = str(exc)
            return None
        finally:
            self.notify()

    functools.update_wrapper(run, fn)
    return run


class StateCore(Observable):
    """Data every screen reads; see the module docstring."""

    def __init__(self, services: Services, host: VaultHost | None = None) -> None:
        super().__init__()
        self.services = services
        # The process's one open vault, shared with the other sessions that proved the passcode.
        self.host = host or VaultHost(services)
        self.vault: Vault | None = None  # set while THIS session is unlocked
        self.phase = "onboarding"
        self.onboarding_step = "passcode"  # passcode | pair | syncing
        self.route = Route()
        self.snapshot: Snapshot = empty_snapshot(services.clock())
        self.error: str | None = None  # one line for the current screen
        self.toast: str | None = None  # one line of good news ("Queued: goes out when you are online")
        self.busy: str | None = None  # what is running ("Unlocking…"); the screen shows a progress indicator
        self.drafts: dict[str, str] = {}
        self.banners: list[Banner] = []
        self.wide = False  # desktop layout (NavigationRail) vs phone (NavigationBar)
        self.page_width = 390.0
        self.live_state: str | None = None  # from the live loop: idle | syncing | offline | error | revoked
        self.live_error: str | None = None
        self.retry_at: float | None = None  # monotonic time the lock screen may try again
        self.revealed: set[str] = set()  # sensitive results shown after the passcode was asked again
        self.last_activity = time.monotonic()

    # --- plumbing shared by intents ------------------------------------------------------

    def touch(self) -> None:
        """The patient did something: the auto-lock countdown starts again."""
        self.last_activity = time.monotonic()

    def now(self) -> datetime:
        return self.services.clock()

    def require_vault(self) -> Vault:
        if self.vault is None:
            raise VaultError("the app is locked: unlock it first")
        return self.vault

    def refresh(self) -> None:
        """Re-read the vault into a new snapshot (after a change or a sync)."""
        if self.vault is not None:
            try:
                self.snapshot = build_snapshot(self.vault, self.now())
            except VaultError:
                return  # closed underneath us by a lock; the next unlock reads it again

    def queue(self, mutation_type: str, payload: dict[str, object], done: str) -> str:
        """Queue a command for the clinic (works offline), show ``done``, and push at once if online."""
        entry = queue_mutation(self.require_vault(), mutation_type, payload, now=self.now())
        self.refresh()
        online = self.live_state in ("idle", "syncing")
        self.toast = done if online else "Saved on this device. It goes to the clinic when you are back online."
        self.host.nudge()
        return entry.id

    def go(self, name: str, arg: str | None = None) -> None:
        """Navigate; leaving a result hides a sensitive result again."""
        self.touch()
        if self.route.name == "result" and (name, arg) != ("result", self.route.arg):
            self.revealed.clear()
        self.route = Route(name, arg)
        self.error = None
        self.toast = None
        self.notify()

    def back(self) -> None:
        self.go(PARENTS.get(self.route.name, "home"))

    def set_draft(self, key: str, text: str) -> None:
        """Remember what is typed (no re-render: the field already shows it)."""
        self.touch()
        self.drafts[key] = text

    def draft(self, key: str, default: str = "") -> str:
        return self.drafts.get(key, default)

    def clear_feedback(self) -> None:
        self.error = None
        self.toast = None
        self.notify()

    def dismiss_banner(self, index: int) -> None:
        if 0 <= index < len(self.banners):
            del self.banners[index]
        self.notify()

    def add_banner(self, title: str, body: str) -> None:
        """An in-app notice (the reminder fallback is never silent); the newest 5 are kept."""
        self.banners = [*self.banners, Banner(title, body)][-5:]
        self.notify()

    def set_width(self, width: float) -> None:
        """The window's width: 840 px and more gets the desktop layout."""
        wide = width >= WIDE_FROM
        changed = wide != self.wide or (wide and abs(width - self.page_width) > 1)
        self.page_width, self.wide = width, wide
        if changed:
            self.notify()
