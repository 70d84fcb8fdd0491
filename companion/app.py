"""Composition root of the patient app: build the services, wire them, run Flet (nothing imports this).

    run_app(vault_dir, profile, web=True, port=8550)

One :class:`~companion.state.AppState` serves the process (one patient, one
device); each browser session renders it. A background clock ticks the state
once a second (auto-lock, lock-screen countdown). The live sync loop and the
reminder loop start when the vault is unlocked and stop when it locks.

Environment (tests and demos): ``COMPANION_AUTO_LOCK_SECONDS`` overrides the
auto-lock time; ``COMPANION_SYNC_WAIT`` the live long-poll (seconds).
"""

from __future__ import annotations

import importlib.util
import os
import platform
import threading
from pathlib import Path

import flet as ft

from .config import ClinicProfile
from .reminders import choose_notifier
from .state import AppState, LearnLibrary, Services, SyncClinicLink, assets_dir
from .views import mount

__all__ = ["build_state", "desktop_available", "run_app"]


def _env_float(name: str) -> float | None:
    raw = os.environ.get(name)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        return None


def build_state(vault_dir: Path, profile: ClinicProfile) -> AppState:
    """The real services around one state (see module docstring for the environment knobs)."""
    services = Services(
        vault_dir=vault_dir,
        profile=profile,
        link=SyncClinicLink(ca_file=str(profile.ca_file) if profile.ca_file else None,
                            wait=_env_float("COMPANION_SYNC_WAIT") or 20.0),
        notifier=choose_notifier(profile),
        library=LearnLibrary.builtin(),
        device_name=f"Companion on {platform.system() or 'this device'}"[:100],
        auto_lock_seconds=_env_float("COMPANION_AUTO_LOCK_SECONDS"),
    )
    state = AppState(services)
    state.start()
    return state


def _clock(state: AppState, stop: threading.Event) -> None:
    while not stop.wait(1.0):
        state.tick()


def desktop_available() -> bool:
    """A desktop window needs a display and the Flet desktop client package."""
    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or os.name == "nt"
    return has_display and importlib.util.find_spec("flet_desktop") is not None


def run_app(vault_dir: Path, profile: ClinicProfile, *, web: bool, port: int, host: str = "127.0.0.1",
            state: AppState | None = None, packaged: bool = False) -> None:
    """Run the app until its window closes or the process is stopped (web mode serves with no CDN).

    ``packaged``: started from a ``flet build`` package (``main.py``), where Flet's
    own embedding (phone, desktop bundle) hosts the app.
    """
    state = state or build_state(vault_dir, profile)
    stop = threading.Event()
    threading.Thread(target=_clock, args=(state, stop), name="companion-clock", daemon=True).start()

    def main(page: ft.Page) -> None:
        mount(page, state)

    try:
        if packaged:
            ft.run(main, assets_dir=str(assets_dir()))
        elif web or not desktop_available():
            ft.run(main, view=ft.AppView.WEB_BROWSER, host=host, port=port, no_cdn=True,
                   assets_dir=str(assets_dir()))
        else:
            ft.run(main, assets_dir=str(assets_dir()))
    finally:
        stop.set()
        state.shutdown()
