"""The seams the application state talks through, bundled for the composition root.

``companion/app.py`` builds one :class:`Services` (the real clinic link, the
notifier, the clock) and hands it to :class:`~companion.state.AppState`; tests
build one with a fake clock or a real server. Nothing here imports Flet.

:class:`ClinicLink` is the whole sync surface the state needs — pair, sync once,
run live — so the state never builds an HTTP client itself (STYLE #3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Protocol

from ..config import ClinicProfile
from ..core.fields import utcnow
from ..reminders import Notifier, local_zone
from ..vault import Vault
from .learn_library import LearnLibrary

__all__ = ["ClinicLink", "LiveHandle", "Services"]


class LiveHandle(Protocol):
    """A running live-sync loop: ``nudge()`` pushes queued commands now; ``stop()`` ends it."""

    def nudge(self) -> None: ...

    def stop(self) -> None: ...


class ClinicLink(Protocol):
    """Pairing and syncing of one vault with the clinic (see :mod:`companion.state.clinic_link`)."""

    def pair(self, vault: Vault, server_url: str, code: str, device_name: str) -> None:
        """Trade a pairing code for a device token stored in the vault; raises SyncError subclasses."""

    def sync_once(self, vault: Vault) -> None:
        """Push the outbox and pull until caught up; raises SyncError subclasses."""

    def start_live(self, vault: Vault, on_synced: Callable[[], None],
                   on_state: Callable[[str, str | None], None]) -> LiveHandle:
        """Keep ``vault`` in sync in the background; callbacks run on the live thread."""


@dataclass(slots=True)
class Services:
    """Everything the state needs from the outside world."""

    vault_dir: Path
    profile: ClinicProfile
    link: ClinicLink
    notifier: Notifier
    library: LearnLibrary = field(default_factory=LearnLibrary.builtin)
    clock: Callable[[], datetime] = utcnow
    tz: tzinfo = field(default_factory=local_zone)
    device_name: str = "Companion app"
    auto_lock_seconds: float | None = None  # overrides the setting (tests, demos)
    export_dir: Path | None = None  # where calendar/FHIR exports go (default: beside the vault)
