"""The desk's root component: the sign-in screen, or the navigation rail and the open screen.

The page title is always "Clinic desk": a browser tab, a window list or a screen share never
shows a patient's name or anything about their care. Alt+1…5 switch screens from the keyboard.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from ....ui.kit import use_observable
from ..state import DeskState
from .common import act, button, handler, heading, muted, tid
from .patient import patient_screen, patients_screen
from .signin import signin_screen
from .work import articles_screen, audit_screen, inbox_screen, today_screen

__all__ = ["PAGE_TITLE", "DeskApp", "mount"]

PAGE_TITLE = "Clinic desk"
SCREENS: dict[str, Callable[[DeskState], ft.Control]] = {
    "today": today_screen, "patients": patients_screen, "patient": patient_screen, "inbox": inbox_screen,
    "articles": articles_screen, "audit": audit_screen,
}


def _rail(state: DeskState) -> ft.Control:
    screens = state.screens()
    current = "patients" if state.route.name == "patient" else state.route.name
    index = next((i for i, s in enumerate(screens) if s.name == current), None)

    def change(e: Any) -> None:
        picked = int(getattr(e.control, "selected_index", 0) or 0)
        act(state.go, screens[picked].name)

    destinations = []
    for s in screens:
        label = s.label + (f" ({state.inbox_unread})" if s.name == "inbox" and state.inbox_unread else "")
        destinations.append(ft.NavigationRailDestination(
            icon=getattr(ft.Icons, s.icon), label=label,
            selected_icon=getattr(ft.Icons, s.icon)))
    me = state.me or {}
    footer = ft.Column([
        ft.Text(str(me.get("name", "")), size=14, weight=ft.FontWeight.W_600, text_align=ft.TextAlign.CENTER),
        muted({"psr": "Front desk", "clinician": "Clinician", "admin": "Admin"}.get(str(me.get("role")), ""), 13),
        button("sign-out", "Sign out", handler(state.sign_out), kind="text", icon=ft.Icons.LOGOUT),
    ], horizontal_alignment=ft.CrossAxisAlignment.CENTER, spacing=2, tight=True)
    return tid("nav-rail", ft.NavigationRail(
        selected_index=index, label_type=ft.NavigationRailLabelType.ALL, on_change=change, min_width=110,
        group_alignment=-1.0, destinations=destinations, trailing=ft.Container(footer, padding=ft.Padding.only(top=24)),
        leading=ft.Container(heading("Desk", 20), padding=ft.Padding.only(top=8, bottom=8))))


@ft.component
def DeskApp(state: DeskState) -> ft.Control:
    use_observable(state)
    page = ft.context.page
    page.title = PAGE_TITLE
    if not state.signed_in:
        return signin_screen(state)
    body = SCREENS.get(state.route.name, today_screen)(state)
    return ft.Row([_rail(state), ft.VerticalDivider(width=1), ft.Container(body, expand=True)], expand=True,
                  spacing=0, vertical_alignment=ft.CrossAxisAlignment.STRETCH)


def mount(page: ft.Page, state: DeskState) -> None:
    """Render the desk into ``page`` (one :class:`DeskState` per browser session)."""
    page.title = PAGE_TITLE
    page.padding = 0
    page.theme = ft.Theme(color_scheme_seed=ft.Colors.TEAL, use_material3=True)
    page.theme_mode = ft.ThemeMode.LIGHT

    def keys(e: Any) -> None:
        if getattr(e, "alt", False) and str(getattr(e, "key", "")).isdigit() and state.signed_in:
            screens = state.screens()
            number = int(e.key) - 1
            if 0 <= number < len(screens):
                page.run_thread(state.go, screens[number].name)

    page.on_keyboard_event = keys
    page.render(DeskApp, state)
