"""The Flet web app of a guarded surface: sessions bound to the browser, quiet logs.

    sub_app = guarded_flet_app(main, keep_seconds=0, app_name="Companion")
    asgi = WebGuard(sub_app, policy)       # the guard sets the browser digest this module keys on

It is ``flet_web.fastapi.app`` (no CDN; CanvasKit and fonts from the flet-web package) with
Flet's websocket handler changed in three ways:

- A session is registered under the page, its id *and the digest of the browser's cookie*
  (:data:`~.guard.BROWSER_COOKIE_SCOPE_KEY`), instead of Flet's address + User-Agent. A
  session id alone, read from a screen or an old log, resumes nothing in another browser.
- When the tab closes, the session is dropped at once (``keep_seconds=0``: the patient app, so a
  closed tab's unlocked screen never comes back) or kept for a short grace for a reload (the
  desk). Flet's default keeps it an hour.
- A connection that closes before it registered ends quietly (Flet raises on it).

:func:`quiet_flet_logging` keeps Flet's loggers at WARNING whatever the service's level (at
DEBUG Flet logs every frame: passwords and patient data) and strips ids and values from what
they still say.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flet as ft
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from flet_web import get_package_web_dir
from flet_web.fastapi.flet_app import FletApp
from flet_web.fastapi.flet_app_manager import app_manager
from flet_web.fastapi.flet_static_files import FletStaticFiles

from .guard import BROWSER_COOKIE_SCOPE_KEY

__all__ = ["flet_web_dir", "guarded_flet_app", "quiet_flet_logging"]

FLET_LOGGERS = ("flet", "flet_web", "flet_web.fastapi", "flet_transport", "flet_object_patch", "flet_controls")
_IDS = re.compile(r"[A-Za-z0-9_-]{12,}")


def flet_web_dir() -> Path:
    """The flet-web package's built web client (``main.dart.js``, CanvasKit, fonts)."""
    return Path(get_package_web_dir())


class _Redact(logging.Filter):
    """What Flet still logs at WARNING and above, without ids, values or exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = _IDS.sub("…", record.getMessage())[:200]
        if record.exc_info and record.exc_info[0] is not None:
            text += f" ({record.exc_info[0].__name__})"
        record.msg, record.args, record.exc_info, record.exc_text = text, None, None, None
        return True


def quiet_flet_logging() -> None:
    """See the module docstring; safe to call more than once."""
    for name in FLET_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING)
        if not any(isinstance(f, _Redact) for f in logger.filters):
            logger.addFilter(_Redact())


class _BrowserBoundApp(FletApp):  # type: ignore[misc]
    """Flet's websocket connection, with sessions keyed to the browser (see the module docstring)."""

    def __init__(self, *args: Any, browser: str, keep_seconds: int, **kwargs: Any) -> None:
        super().__init__(*args, session_timeout_seconds=keep_seconds, **kwargs)
        self._browser = browser
        self._keep_seconds = keep_seconds
        self._key: str | None = None  # the session this connection registered, once it has

    # Flet composes the session key in this (name-mangled) private method; it is pinned (flet==1.0.5).
    def _FletApp__get_unique_session_id(self, session_id: str) -> str:
        self._key = f"{self.page_name}_{session_id}_{self._browser}"  # remembered: Flet forgets its session
        return self._key

    async def _FletApp__receive_loop(self) -> None:
        await FletApp._FletApp__receive_loop(self)
        if self._FletApp__session is None:  # Flet ends its send loop only for a registered session
            await self._FletApp__send_queue.put(None)

    async def handle(self, websocket: WebSocket) -> None:
        try:
            await super().handle(websocket)
            disconnected = True
        except (AttributeError, WebSocketDisconnect):
            # Flet raises when a socket closes before it registered (no session), or while frames were
            # still going out; either way it skipped marking the session disconnected, which would
            # leave it attached to a dead socket for ever: never resumed, never evicted.
            disconnected = False
        if self._key is None:
            return  # never registered: there is no session to keep or drop
        if not disconnected:
            await app_manager.disconnect_session(self._key, self._keep_seconds)
        if self._keep_seconds == 0:
            await app_manager.delete_session(self._key)


def guarded_flet_app(main: Callable[[ft.Page], None], *, keep_seconds: int, app_name: str,
                     app_short_name: str, app_description: str, assets_dir: str | None = None) -> FastAPI:
    """The Flet sub-application to put behind a :class:`~.guard.WebGuard` (which must set the browser digest)."""
    quiet_flet_logging()
    app = FastAPI()

    @app.websocket("/ws")
    async def session_socket(websocket: WebSocket) -> None:
        browser = websocket.scope.get(BROWSER_COOKIE_SCOPE_KEY)
        if not browser:  # never mounted without the guard in front
            await websocket.close(code=1008)
            return
        await _BrowserBoundApp(loop=asyncio.get_running_loop(), executor=app_manager.executor, main=main,
                               before_main=None, browser=browser, keep_seconds=keep_seconds).handle(websocket)

    app.mount("/", FletStaticFiles(assets_dir=assets_dir, app_name=app_name, app_short_name=app_short_name,
                                   app_description=app_description, websocket_endpoint_path="ws", no_cdn=True))
    return app
