"""The desk's root component: the sign-in screen, or the navigation and the open screen.

The layout follows the window's width by the apps' one rule (:mod:`companion.core.layout`, kept in
``desk.navigation.wide``): from 840 px the NavigationRail beside the screen; on a phone a compact
top bar (desk, who is signed in, Sign out), the screen, and a NavigationBar under it whose last
destination is "More" when the role has more screens than fit (:func:`~..state.navigation.phone_bar`);
a role with one screen (an admin: Audit) has no bar.

Each piece subscribes to what it renders, so a change redraws only that piece::

    DeskApp        session, navigation  sign-in screen  or  rail + body  or  top bar + body + bar
    NavRail        navigation, inbox  the selected screen, the inbox badge "Inbox (N)"
    NavBar         navigation, inbox  the same on a phone's bottom bar ("More" holds the rest)
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

from ..state import DeskState, Screen
from ..state.navigation import MORE, phone_bar
from .common import act, button, handler, heading, muted, narrow, screen, section, tid, use_observable
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


RAIL_WIDTH = 120  # room for "Sign out" on one line


def _current(desk: DeskState) -> str:
    """The navigation destination the open screen belongs to (a patient's page: Patients)."""
    return "patients" if _open_screen(desk) == "patient" else _open_screen(desk)


def _label(desk: DeskState, s: Screen) -> str:
    unread = desk.inbox.unread
    return s.label + (f" ({unread})" if s.name == "inbox" and unread else "")


def _going(desk: DeskState, names: list[str]) -> Callable[[Any], None]:
    def change(e: Any) -> None:
        picked = int(getattr(e.control, "selected_index", 0) or 0)
        act(desk.navigation.go, names[picked])

    return change


def _who(desk: DeskState) -> tuple[str, str]:
    me = desk.session.me or {}
    return str(me.get("name", "")), ROLES.get(str(me.get("role")), "")


@ft.component
def NavRail(desk: DeskState) -> ft.Control:
    session = desk.session
    use_observable(desk.navigation)
    use_observable(desk.inbox)
    screens = session.screens()
    current = _current(desk)
    index = next((i for i, s in enumerate(screens) if s.name == current), None)
    destinations = [ft.NavigationRailDestination(icon=getattr(ft.Icons, s.icon), label=_label(desk, s),
                                                 selected_icon=getattr(ft.Icons, s.icon)) for s in screens]
    name, role = _who(desk)
    # the rail is as wide as its widest child: the footer's width keeps a long name inside it (two lines, then …)
    footer = ft.Column([
        ft.Text(name, size=14, weight=ft.FontWeight.W_600, text_align=ft.TextAlign.CENTER, max_lines=2,
                overflow=ft.TextOverflow.ELLIPSIS, width=RAIL_WIDTH - 8, tooltip=name),
        muted(role, 13),
        button("sign-out", "Sign out", handler(session.sign_out), kind="text", icon=ft.Icons.LOGOUT),
    ], horizontal_alignment=ft.CrossAxisAlignment.CENTER, spacing=2, tight=True)
    return tid("nav-rail", ft.NavigationRail(
        selected_index=index, label_type=ft.NavigationRailLabelType.ALL,
        on_change=_going(desk, [s.name for s in screens]), min_width=RAIL_WIDTH,
        group_alignment=-1.0, destinations=destinations, trailing=ft.Container(footer, padding=ft.Padding.only(top=24)),
        leading=ft.Container(heading("Desk", 20), padding=ft.Padding.only(top=8, bottom=8))))


@ft.component
def NavBar(desk: DeskState) -> ft.Control:
    """A phone's bottom bar: the role's screens, "More" for those that do not fit."""
    use_observable(desk.navigation)
    use_observable(desk.inbox)
    shown, rest = phone_bar(desk.session.screens())
    names = [s.name for s in shown] + ([MORE] if rest else [])
    current = _current(desk)
    if current in {s.name for s in rest}:
        current = MORE
    destinations = [ft.NavigationBarDestination(icon=getattr(ft.Icons, s.icon), label=_label(desk, s))
                    for s in shown]
    if rest:
        destinations.append(ft.NavigationBarDestination(icon=ft.Icons.MENU, label="More"))
    return tid("nav-bar", ft.NavigationBar(
        selected_index=names.index(current) if current in names else 0, destinations=destinations,
        on_change=_going(desk, names), label_behavior=ft.NavigationBarLabelBehavior.ALWAYS_SHOW))


def _top_bar(desk: DeskState) -> ft.Control:
    """A phone's top line: the desk, who is signed in (one line each, … when long) and Sign out."""
    name, role = _who(desk)
    me = ft.Column([ft.Text(name, size=14, weight=ft.FontWeight.W_600, max_lines=1,
                            overflow=ft.TextOverflow.ELLIPSIS, tooltip=name),
                    ft.Text(role, size=12, color=ft.Colors.ON_SURFACE_VARIANT, max_lines=1)], spacing=0, tight=True)
    return tid("desk-top-bar", ft.Container(ft.Row([
        heading("Desk", 18), ft.Container(me, expand=True),
        button("sign-out", "Sign out", handler(desk.session.sign_out), kind="text", icon=ft.Icons.LOGOUT),
    ], vertical_alignment=ft.CrossAxisAlignment.CENTER, spacing=12),
        padding=ft.Padding.only(left=12, right=4, top=4, bottom=4), bgcolor=ft.Colors.SURFACE_CONTAINER_LOW))


@ft.component
def MoreScreen(desk: DeskState) -> ft.Control:
    """A phone's "More": the screens the bottom bar has no room for."""
    _shown, rest = phone_bar(desk.session.screens())
    rows: list[ft.Control] = [tid(f"more-{s.name}", ft.ListTile(
        leading=ft.Icon(getattr(ft.Icons, s.icon)), title=ft.Text(s.label, size=17),
        on_click=handler(desk.navigation.go, s.name)), label=s.label) for s in rest]
    return screen([heading("More", 22), section("Other screens", rows, narrow=True, identifier="more-list")],
                  narrow=True)


@ft.component
def ScreenBody(desk: DeskState) -> ft.Control:
    use_observable(desk.navigation)
    if _open_screen(desk) == MORE and narrow(desk):  # widened on More: the rail lists them all, Today opens
        return MoreScreen(desk)
    return SCREENS.get(_open_screen(desk), TodayScreen)(desk)


@ft.component
def DeskApp(desk: DeskState) -> ft.Control:
    use_observable(desk.session)
    use_observable(desk.navigation)  # the layout: rail or bar
    ft.context.page.title = PAGE_TITLE
    if not desk.session.signed_in:
        return SignInScreen(desk)
    if narrow(desk):  # a role with one screen (an admin's Audit) needs no bar: a bar needs two destinations
        bar = [NavBar(desk)] if len(desk.session.screens()) > 1 else []
        return ft.Column([_top_bar(desk), ft.Divider(height=1), ft.Container(ScreenBody(desk), expand=True), *bar],
                         expand=True, spacing=0)
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

    def resized(e: Any) -> None:
        width = getattr(e, "width", None) or page.width
        if width:
            desk.navigation.set_width(float(width))

    page.on_keyboard_event = keys
    page.on_resize = resized
    if page.width:
        desk.navigation.set_width(float(page.width))
    page.render(DeskApp, desk)
