"""The seams the application state talks through, bundled for the composition root.

``companion/app.py`` builds one :class:`Services` (the real clinic link, the
notifier, the clock) and hands it to :class:`~companion.state.AppState`; tests
build one with a fake clock or a real server. Nothing here imports Flet.

:class:`ClinicLink` is the whole sync surface the state needs — pair, sync once,
run live — so the state never builds an HTTP client itself (STYLE #3).
:class:`SyncClinicLink` is the real one: it builds the ``httpx`` clients through
:mod:`companion.sync` (the pinned CA and the server address come from the vault).
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
from ..sync.engine import SyncReport, synchronize
from ..sync.live import LiveHooks, LiveSync
from ..sync.pairing import client_for_vault, pair
from ..vault import Vault
from .learn_library import LearnLibrary

__all__ = ["ClinicLink", "LiveHandle", "LiveLink", "Services", "SyncClinicLink"]


class LiveHandle(Protocol):
    """A running live-sync loop: ``nudge()`` pushes queued commands now; ``stop()`` ends it."""

    def nudge(self) -> None: ...

    def stop(self) -> None: ...


class ClinicLink(Protocol):
    """Pairing and syncing of one vault with the clinic (the real one: :class:`SyncClinicLink`)."""

    def pair(self, vault: Vault, server_url: str, code: str, device_name: str) -> None:
        """Trade a pairing code for a device token stored in the vault; raises SyncError subclasses."""

    def sync_once(self, vault: Vault, progress: Callable[[int, int], None] | None = None) -> None:
        """Push the outbox and pull until caught up; raises SyncError subclasses. ``progress(done,
        total)``: records so far of the total, during a first sync (when the clinic says its size)."""

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


class _Hooks(LiveHooks):
    def __init__(self, on_synced: Callable[[], None], on_state: Callable[[str, str | None], None]) -> None:
        self.on_synced = on_synced
        self.on_state = on_state

    def state_changed(self, state: str, error: str | None) -> None:
        self.on_state(state, error)

    def synced(self, report: SyncReport) -> None:
        self.on_synced()


class LiveLink:
    """A live loop plus the HTTP client it owns (closed on :meth:`stop`)."""

    def __init__(self, vault: Vault, on_synced: Callable[[], None],
                 on_state: Callable[[str, str | None], None], wait: float) -> None:
        self._client = client_for_vault(vault, timeout=wait + 15.0)
        self._live = LiveSync(vault, self._client, hooks=_Hooks(on_synced, on_state), wait=wait)
        self._live.start()

    def nudge(self) -> None:
        self._live.nudge()

    def stop(self) -> None:
        self._live.stop(timeout=2.0)
        self._client.close()


class SyncClinicLink:
    """Pairs and syncs through :mod:`companion.sync`; ``wait`` is the long-poll time of the live loop."""

    def __init__(self, *, ca_file: str | None = None, wait: float = 20.0) -> None:
        self.ca_file = ca_file
        self.wait = wait

    def pair(self, vault: Vault, server_url: str, code: str, device_name: str) -> None:
        pair(vault, server_url, code, device_name=device_name, ca_file=self.ca_file)

    def sync_once(self, vault: Vault, progress: Callable[[int, int], None] | None = None) -> None:
        with client_for_vault(vault) as client:
            synchronize(vault, client, progress=progress)

    def start_live(self, vault: Vault, on_synced: Callable[[], None],
                   on_state: Callable[[str, str | None], None]) -> LiveLink:
        return LiveLink(vault, on_synced, on_state, self.wait)
