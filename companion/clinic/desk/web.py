"""Serve the desk from the clinic server's own process: ``mount_desk(app, own_base_url)``.

Called by ``companion-server serve`` (the composition root) after the port is bound. It mounts
a Flet web app (no CDN: CanvasKit and fonts come from the flet-web package, so the desk works
with the internet down) behind the web guard (:mod:`companion.web`: websockets from the
server's own origin or ``COMPANION_ALLOWED_ORIGINS`` only, sessions bound to the browser's
cookie, security headers) at ``/desk``, redirects ``/`` there, runs
Flet's session manager in the server's lifespan, and gives every browser session its own
:class:`~.state.DeskState` talking to the staff API at ``own_base_url`` over loopback. Its inbox
poller runs only while someone is signed in; closing the tab stops it and ends the sign-in.

The per-process ``desk_key`` lets the desk tell the server which browser address is signing in
(see ``companion.clinic.server.routes_sessions``); it never leaves this process.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import flet as ft
import flet_web.fastapi as flet_fastapi
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.datastructures import Headers
from starlette.types import Scope

from ...ui.kit import when_closed
from ...web import GuardPolicy, WebGuard, guarded_flet_app, loopback_hosts
from ...web.flet_host import flet_web_dir
from ..server.context import client_address_from
from .api import DeskApi
from .state import DeskState
from .views import mount

__all__ = ["DESK_PATH", "mount_desk"]

DESK_PATH = "/desk"


MAX_DESK_SOCKETS = 32  # open desk connections per address (a front desk shares one computer and NAT)


def _own_hosts(own_base_url: str, allowed_origins: tuple[str, ...]) -> frozenset[str] | None:
    """Host names the desk answers to: on a loopback-only server, loopback names and allowed origins' hosts."""
    host = urlsplit(own_base_url).hostname or ""
    if host not in ("127.0.0.1", "::1", "localhost"):
        return None  # reachable under names only clinic IT knows; Origin is still checked
    port = urlsplit(own_base_url).port or 80
    return loopback_hosts(port) | {urlsplit(o).netloc for o in allowed_origins}


def mount_desk(app: FastAPI, own_base_url: str) -> None:
    # httpx logs every URL at INFO, and a patient search puts a name in the query string.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    key = secrets.token_urlsafe(32)
    app.state.desk_key = key
    settings = app.state.ctx.settings

    def main(page: ft.Page) -> None:
        api = DeskApi(own_base_url, desk_key=key, client_address=getattr(page, "client_ip", None) or "unknown")
        state = DeskState(api)
        state.poll_when_signed_in()  # the poller thread starts at each sign-in, ends at its sign-out

        def closed() -> None:
            state.stop()
            with contextlib.suppress(Exception):  # the server may be shutting down
                api.sign_out()
            api.close()

        when_closed(page, closed)
        mount(page, state)

    desk = guarded_flet_app(main, keep_seconds=settings.desk_reload, app_name="Clinic desk", app_short_name="Desk",
                            app_description="Clinic front desk")
    origins = settings.allowed_origins

    def address_of(scope: Scope) -> str:  # behind a trusted proxy, the forwarded address
        client = scope.get("client")
        return client_address_from(client[0] if client else None, Headers(scope=scope), settings.trusted_proxies)

    policy = GuardPolicy(name="desk", origins=frozenset(origins), hosts=_own_hosts(own_base_url, origins),
                         same_origin=True, max_sockets=MAX_DESK_SOCKETS, address_of=address_of,
                         flet_web_dir=flet_web_dir(), refusal_hint="Open the desk from the clinic's own address.")
    app.mount(DESK_PATH, WebGuard(desk, policy))

    @app.get("/", include_in_schema=False)
    def to_desk() -> RedirectResponse:
        return RedirectResponse(DESK_PATH + "/")

    served = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(inner: Any) -> AsyncIterator[Any]:
        await flet_fastapi.app_manager.start()
        try:
            async with served(inner) as value:
                yield value
        finally:
            await flet_fastapi.app_manager.shutdown()

    app.router.lifespan_context = lifespan
