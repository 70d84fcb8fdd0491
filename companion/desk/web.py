"""Serve the desk from the clinic server's own process: ``mount_desk(app, own_base_url)``.

Called by ``companion-server serve`` (the composition root) after the port is bound. It mounts
a Flet web app (``flet_web.fastapi``, no CDN: CanvasKit and fonts come from the flet-web
package, so the desk works with the internet down) at ``/desk``, redirects ``/`` there, runs
Flet's session manager in the server's lifespan, and gives every browser session its own
:class:`~.state.DeskState` talking to the staff API at ``own_base_url`` over loopback.

The per-process ``desk_key`` lets the desk tell the server which browser address is signing in
(see ``companion.server.routes_sessions``); it never leaves this process.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import flet as ft
import flet_web.fastapi as flet_fastapi
from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from .api import DeskApi
from .state import DeskState
from .views import mount

__all__ = ["DESK_PATH", "mount_desk"]

DESK_PATH = "/desk"


def mount_desk(app: FastAPI, own_base_url: str) -> None:
    # httpx logs every URL at INFO, and a patient search puts a name in the query string.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    key = secrets.token_urlsafe(32)
    app.state.desk_key = key

    def main(page: ft.Page) -> None:
        api = DeskApi(own_base_url, desk_key=key, client_address=getattr(page, "client_ip", None) or "unknown")
        state = DeskState(api)
        state.start_poller()

        def closed(*_e: Any) -> None:
            state.stop()
            with contextlib.suppress(Exception):  # the server may be shutting down
                api.sign_out()
            api.close()

        page.on_close = closed
        mount(page, state)

    desk = flet_fastapi.app(main, no_cdn=True, app_name="Clinic desk", app_short_name="Desk",
                            app_description="Clinic front desk")
    app.mount(DESK_PATH, desk)

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
