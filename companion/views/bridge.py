"""The one place Flet meets the state's change notifications and threads.

``use_app_state(state)`` (a hook for the root component) re-renders when the
state notifies — from any thread: the live sync loop, the reminder loop and
the idle clock all change state off the UI loop, so the re-render is posted to
the page's loop with ``page.run_task``.

``act(fn, *args)`` runs an intent in Flet's thread pool (``page.run_thread``):
intents may block (the KDF at unlock, a sync), and a blocked UI loop would
freeze every screen. The state notifies when the intent finishes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import flet as ft

from ..state import AppState

__all__ = ["act", "handler", "use_app_state"]


def use_app_state(state: AppState) -> int:
    """Subscribe the calling component to ``state``; returns the version it rendered."""
    version, set_version = ft.use_state(state.version)

    def subscribe() -> Callable[[], None]:
        page = ft.context.page

        async def rerender() -> None:
            set_version(state.version)

        def on_change() -> None:
            with contextlib.suppress(RuntimeError):  # the session is closing; nothing to draw on
                page.run_task(rerender)

        return state.subscribe(on_change)

    ft.use_effect(subscribe, [])
    return int(version)


def act(fn: Callable[..., Any], *args: Any) -> None:
    """Run intent ``fn(*args)`` off the UI loop (see module docstring)."""
    ft.context.page.run_thread(fn, *args)


def handler(fn: Callable[..., Any], *args: Any) -> Callable[[], None]:
    """An ``on_click`` that runs ``fn(*args)`` through :func:`act` (arguments fixed now)."""

    def run() -> None:
        act(fn, *args)

    return run
