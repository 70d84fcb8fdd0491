"""Attach the app to a Flet page: neutral title, layout width, root component."""

from __future__ import annotations

from typing import Any

import flet as ft

from ..state import AppState
from .shell import PAGE_TITLE, App

__all__ = ["mount"]


def mount(page: ft.Page, state: AppState) -> None:
    """Render ``App(state)`` into ``page``; the layout follows the window width."""
    page.title = PAGE_TITLE
    page.padding = 0

    def resized(e: Any) -> None:
        width = getattr(e, "width", None) or page.width
        if width:
            state.nav.set_width(float(width))

    page.on_resize = resized
    if page.width:
        state.nav.set_width(float(page.width))
    page.render(App, state)
