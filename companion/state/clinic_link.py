"""The real :class:`~companion.state.services.ClinicLink`: pairing and live sync through :mod:`companion.sync`.

The state asks for three things — pair, sync once, run live — and this adapter
builds the ``httpx`` clients for them (the pinned CA and the server address
come from the vault), so views and the state never touch HTTP.
"""

from __future__ import annotations

from collections.abc import Callable

from ..sync.engine import SyncReport, synchronize
from ..sync.live import LiveHooks, LiveSync
from ..sync.pairing import client_for_vault, pair
from ..vault import Vault

__all__ = ["LiveLink", "SyncClinicLink"]


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

    def sync_once(self, vault: Vault) -> None:
        with client_for_vault(vault) as client:
            synchronize(vault, client)

    def start_live(self, vault: Vault, on_synced: Callable[[], None],
                   on_state: Callable[[str, str | None], None]) -> LiveLink:
        return LiveLink(vault, on_synced, on_state, self.wait)
