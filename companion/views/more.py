"""More (phone only): the destinations that do not fit the navigation bar, and lock now."""

from __future__ import annotations

import flet as ft

from ..state import DESTINATIONS, PHONE_DESTINATIONS, AppState, Route
from ..ui.kit import handler
from .common import header, icon, screen, tid

__all__ = ["MoreScreen"]


@ft.component
def MoreScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    """Renders only when shown (nothing it lists changes)."""
    on_bar = {d.route for d in PHONE_DESTINATIONS}
    tiles: list[ft.Control] = [
        tid(f"more-{d.route}", ft.ListTile(leading=ft.Icon(icon(d.icon)), title=ft.Text(d.label, size=17),
                                           on_click=lambda _e, r=d.route: state.nav.go(r), min_height=56))
        for d in DESTINATIONS if d.route not in on_bar
    ]
    tiles.append(tid("more-lock", ft.ListTile(leading=ft.Icon(ft.Icons.LOCK_OUTLINE),
                                              title=ft.Text("Lock now", size=17),
                                              on_click=handler(state.session.lock), min_height=56)))
    return screen(state, [header(state, "More"), *tiles])
