"""The desk's root component: the sign-in screen, or the navigation rail and the open screen.

Each piece subscribes to what it renders, so a change redraws only that piece::

    DeskApp        session            sign-in screen  or  rail + body
    NavRail        navigation, inbox  the selected screen, the inbox badge "Inbox (N)"
    ScreenBody     navigation         which screen component is open
    <Screen>       its own concern    TodayScreen (today, inbox), InboxScreen (inbox), PatientsScreen
                                      (search), PatientScreen (the open patient), ArticlesScreen, AuditScreen
    FeedbackStrip  feedback           busy / error / toast

The page title is always "Clinic desk": a browser tab, a window list or a screen share never
shows a patient's name or anything about their care. Alt+1…5 switch screens from the keyboard.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from ..state import DeskState
from .common import act, button, handler, heading, muted, tid, use_observable
from .patient import PatientScreen, PatientsScreen
from .schedule import ScheduleScreen
from .signin import SignInScreen
from .work import ArticlesScreen, AuditScreen, InboxScreen, TodayScreen

__all__ = ["PAGE_TITLE", "DeskApp", "mount"]

PAGE_TITLE = "Clinic desk"
SCREENS: dict[str, Callable[[DeskState], ft.Control]] = {
    "today": TodayScreen, "patients": PatientsScreen, "patient": PatientScreen, "inbox": InboxScreen,
    "articles": ArticlesScreen, "audit": AuditScreen, "schedule": ScheduleScreen,
}
ROLES = {"psr": "Front desk", "clinician": "Clinician", "admin": "Admin"}


def _open_screen(desk: DeskState) -> str:
    """The route's screen; before the first screen loads, the first the role has."""
    return desk.navigation.route.name or desk.session.first_screen()


@ft.component
def NavRail(desk: DeskState) -> ft.Control:
    session, inbox = desk.session, desk.inbox
    use_observable(desk.navigation)
    use_observable(inbox)
    screens = session.screens()
    current = "patients" if _open_screen(desk) == "patient" else _open_screen(desk)
    index = next((i for i, s in enumerate(screens) if s.name == current), None)

    def change(e: Any) -> None:
        picked = int(getattr(e.control, "selected_index", 0) or 0)
        act(desk.navigation.go, screens[picked].name)

    destinations = []
    for s in screens:
        label = s.label + (f" ({inbox.unread})" if s.name == "inbox" and inbox.unread else "")
        destinations.append(ft.NavigationRailDestination(
            icon=getattr(ft.Icons, s.icon), label=label, selected_icon=getattr(ft.Icons, s.icon)))
    me = session.me or {}
    footer = ft.Column([
        ft.Text(str(me.get("name", "")), size=14, weight=ft.FontWeight.W_600, text_align=ft.TextAlign.CENTER),
        muted(ROLES.get(str(me.get("role")), ""), 13),
        button("sign-out", "Sign out", handler(session.sign_out), kind="text", icon=ft.Icons.LOGOUT),
    ], horizontal_alignment=ft.CrossAxisAlignment.CENTER, spacing=2, tight=True)
    return tid("nav-rail", ft.NavigationRail(
        selected_index=index, label_type=ft.NavigationRailLabelType.ALL, on_change=change, min_width=110,
        group_alignment=-1.0, destinations=destinations, trailing=ft.Container(footer, padding=ft.Padding.only(top=24)),
        leading=ft.Container(heading("Desk", 20), padding=ft.Padding.only(top=8, bottom=8))))


@ft.component
def ScreenBody(desk: DeskState) -> ft.Control:
    use_observable(desk.navigation)
    return SCREENS.get(_open_screen(desk), TodayScreen)(desk)


@ft.component
def DeskApp(desk: DeskState) -> ft.Control:
    use_observable(desk.session)
    ft.context.page.title = PAGE_TITLE
    if not desk.session.signed_in:
        return SignInScreen(desk)
    return ft.Row([NavRail(desk), ft.VerticalDivider(width=1), ft.Container(ScreenBody(desk), expand=True)],
                  expand=True, spacing=0, vertical_alignment=ft.CrossAxisAlignment.STRETCH)


def mount(page: ft.Page, desk: DeskState) -> None:
    """Render the desk into ``page`` (one :class:`DeskState` per browser session)."""
    page.title = PAGE_TITLE
    page.padding = 0
    page.theme = ft.Theme(color_scheme_seed=ft.Colors.TEAL, use_material3=True)
    page.theme_mode = ft.ThemeMode.LIGHT

    def keys(e: Any) -> None:
        if getattr(e, "alt", False) and str(getattr(e, "key", "")).isdigit() and desk.session.signed_in:
            screens = desk.session.screens()
            number = int(e.key) - 1
            if 0 <= number < len(screens):
                page.run_thread(desk.navigation.go, screens[number].name)

    page.on_keyboard_event = keys
    page.render(DeskApp, desk)
