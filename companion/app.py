"""Composition root of the patient app: build the services, wire them, run Flet (nothing imports this).

    run_app(vault_dir, profile, web=True, port=8550)

One :class:`~companion.state.VaultHost` serves the process (one patient, one vault); each
Flet session (a browser tab of the web app, or the desktop window) gets an
:class:`~companion.state.AppState` of its own, which starts locked and unlocks on its own.
A background clock ticks every session once a second (auto-lock, lock-screen countdown).
Live sync and reminders run while at least one session is unlocked.

Web mode is the local web app, guarded like Jupyter's local server (:mod:`companion.web`):
it listens on 127.0.0.1 only, prints ``http://127.0.0.1:PORT/?key=SECRET`` (a fresh secret
per launch) as a line of its own on stdout and opens it where a browser can be opened; the
key is exchanged for an HttpOnly cookie, and every request and websocket must carry that
cookie, a loopback Host and this origin. A closed tab's session is dropped at once.

Environment (tests and demos): ``COMPANION_AUTO_LOCK_SECONDS`` overrides the
auto-lock time; ``COMPANION_SYNC_WAIT`` the live long-poll (seconds).
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import platform
import secrets
import socket
import threading
import webbrowser
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import flet as ft

from .config import ClinicProfile
from .core.errors import ConfigError
from .reminders import choose_notifier
from .state import AppState, LearnLibrary, Services, SyncClinicLink, VaultHost, assets_dir
from .state.preferences import apply_language
from .ui.kit import when_closed
from .views import mount

__all__ = ["build_services", "desktop_available", "run_app"]


def _env_float(name: str) -> float | None:
    raw = os.environ.get(name)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        return None


def build_services(vault_dir: Path, profile: ClinicProfile) -> Services:
    """The real services (see module docstring for the environment knobs)."""
    return Services(
        vault_dir=vault_dir,
        profile=profile,
        link=SyncClinicLink(ca_file=str(profile.ca_file) if profile.ca_file else None,
                            wait=_env_float("COMPANION_SYNC_WAIT") or 20.0),
        notifier=choose_notifier(profile),
        library=LearnLibrary.builtin(),
        device_name=f"Companion on {platform.system() or 'this device'}"[:100],
        auto_lock_seconds=_env_float("COMPANION_AUTO_LOCK_SECONDS"),
    )


class _Sessions:
    """The open sessions of the process, ticked by one clock thread."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.host = VaultHost(services)
        self._open: set[AppState] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        threading.Thread(target=self._clock, name="companion-clock", daemon=True).start()

    def attach(self, page: ft.Page) -> None:
        """A new session: its own state, locked; dropped (and its hold on the vault released) when it closes."""
        state = AppState(self.services, self.host)
        state.start()
        with self._lock:
            self._open.add(state)

        def closed() -> None:
            with self._lock:
                self._open.discard(state)
            state.shutdown()  # joins the live loop and closes the vault: off the loop every tab shares

        when_closed(page, closed)
        mount(page, state)

    def _clock(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                states = list(self._open)
            for state in states:
                state.tick()

    def shutdown(self) -> None:
        self._stop.set()
        with self._lock:
            states, self._open = list(self._open), set()
        for state in states:
            state.shutdown()
        self.host.shutdown()


def desktop_available() -> bool:
    """A desktop window needs a display and the Flet desktop client package."""
    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or os.name == "nt"
    return has_display and importlib.util.find_spec("flet_desktop") is not None


def run_app(vault_dir: Path, profile: ClinicProfile, *, web: bool, port: int, host: str = "127.0.0.1",
            packaged: bool = False, key: str | None = None) -> None:
    """Run the app until its window closes or the process is stopped.

    ``packaged``: started from a ``flet build`` package (``main.py``), where Flet's
    own embedding (phone, desktop bundle) hosts the app. ``key``: the web app's secret
    for this launch (default: a fresh one).
    """
    apply_language(None, profile, vault_dir)  # the lock screen's: the chosen code kept beside the vault
    sessions = _Sessions(build_services(vault_dir, profile))
    try:
        if packaged or not (web or not desktop_available()):
            ft.run(sessions.attach, assets_dir=str(assets_dir()))
        else:
            serve_web(sessions.attach, host=host, port=port, key=key or secrets.token_urlsafe(32))
    finally:
        sessions.shutdown()


def serve_web(main: Any, *, host: str, port: int, key: str) -> None:
    """The guarded local web app (see the module docstring); returns when the server stops."""
    import uvicorn
    from fastapi import FastAPI
    from flet_web.fastapi.flet_app_manager import app_manager

    from .web import GuardPolicy, WebGuard, guarded_flet_app, loopback_hosts, loopback_origins
    from .web.flet_host import flet_web_dir

    if not ipaddress.ip_address(host).is_loopback:
        raise ConfigError(f"the local web app listens on loopback only (127.0.0.1), not {host}")
    flet_app = guarded_flet_app(main, keep_seconds=0, app_name="Companion", app_short_name="Companion",
                                app_description="Your clinic on this device", assets_dir=str(assets_dir()))
    policy = GuardPolicy(name="app", cookie_tag=f"app{port}", origins=loopback_origins(port),
                         hosts=loopback_hosts(port), access_key=key, max_sockets=8, flet_web_dir=flet_web_dir(),
                         refusal_hint="Open the address that 'companion app --web' printed when it started: "
                                      "it carries this launch's key.")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await app_manager.start()
        try:
            yield
        finally:
            await app_manager.shutdown()

    root = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    root.mount("/", WebGuard(flet_app, policy))
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    if os.name != "nt":  # a restart right after a stop must not wait for TIME_WAIT (as uvicorn's own bind)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:  # bound before the address is printed: a busy port must not send the patient to another program
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror or exc}): is Companion already open? "
                          "Use --port to pick another port") from None
    url = f"http://127.0.0.1:{port}/?key={key}"
    print(url, flush=True)
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.name == "nt":
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    config = uvicorn.Config(root, log_config=None, access_log=False, proxy_headers=False, server_header=False,
                            ws="websockets-sansio", log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])
