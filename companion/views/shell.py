"""The root component: picks onboarding, lock or the app; navigation bar (phone) or rail (desktop).

``App(state)`` is rendered once per browser session by :mod:`companion.app`;
it re-renders whenever the state notifies (:func:`companion.ui.kit.use_observable`). The page title
stays "Companion" on every screen — nothing about the clinic or a record in it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from ..state import DESTINATIONS, PHONE_DESTINATIONS, AppState
from ..state.formatting import sync_summary
from ..ui.kit import handler, use_observable
from .appointments import appointment_screen, appointments_screen, checkin_screen, request_screen
from .bills import bill_screen, bills_screen
from .common import icon, tid
from .home import home_screen
from .learn import article_screen, learn_screen
from .lock import lock_screen
from .messages import messages_screen, thread_screen
from .more import more_screen
from .onboarding import onboarding_screen
from .prep import prep_screen
from .results import result_screen, results_screen
from .settings import settings_screen
from .theme import apply_theme

__all__ = ["App", "PAGE_TITLE"]

PAGE_TITLE = "Companion"

SCREENS: dict[str, Callable[[AppState], ft.Control]] = {
    "home": home_screen, "appointments": appointments_screen, "appointment": appointment_screen,
    "request": request_screen, "checkin": checkin_screen, "prep": prep_screen, "bills": bills_screen,
    "bill": bill_screen, "results": results_screen, "result": result_screen, "messages": messages_screen,
    "thread": thread_screen, "learn": learn_screen, "article": article_screen, "settings": settings_screen,
    "more": more_screen,
}
TONES = {"ok": (ft.Icons.CLOUD_DONE_OUTLINED, ft.Colors.PRIMARY), "busy": (ft.Icons.SYNC, ft.Colors.PRIMARY),
         "offline": (ft.Icons.CLOUD_OFF_OUTLINED, ft.Colors.ON_SURFACE_VARIANT),
         "problem": (ft.Icons.SYNC_PROBLEM, ft.Colors.ERROR)}


def sync_chip(state: AppState) -> ft.Control:
    """Always visible: last synced, waiting to send, offline."""
    st = state.snapshot.status
    text, tone = sync_summary(st.paired, st.state, state.live_state, st.last_sync, st.pending, state.now())
    glyph, color = TONES[tone]
    chip = ft.Container(
        ft.Row([ft.Icon(glyph, size=18, color=color), ft.Text(text, size=13, color=color)], spacing=6, tight=True),
        padding=ft.Padding.symmetric(horizontal=12, vertical=6), border_radius=20,
        border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT), on_click=handler(state.sync_now),
        tooltip="Sync now",
    )
    return tid("sync-chip", chip, label=f"Sync status: {text}")


def _top_bar(state: AppState) -> ft.Control:
    lock = tid("lock-now", ft.IconButton(ft.Icons.LOCK_OUTLINE, tooltip="Lock now", on_click=handler(state.lock)))
    return ft.Container(
        ft.Row([ft.Container(sync_chip(state), expand=True), lock], vertical_alignment=ft.CrossAxisAlignment.CENTER),
        padding=ft.Padding.only(left=12, right=4, top=6, bottom=2),
    )


def _banners(state: AppState) -> list[ft.Control]:
    """The newest in-app reminder (the fallback is never silent), compact, with how many more wait.

    It sits *below* the screen, above the navigation: a reminder that arrives while the patient
    aims at a field or a button moves nothing under their finger (above the screen, it pushed
    everything down mid-tap). Always one slot (empty without a reminder), so the screen keeps its
    place among its parent's children (see :func:`companion.ui.kit.feedback`).
    """
    if not state.banners:
        return [ft.Container()]
    last = len(state.banners) - 1
    b = state.banners[last]
    more = f"  (+{last} more)" if last else ""
    return [tid("banner", ft.Container(
        ft.Row([ft.Icon(ft.Icons.NOTIFICATIONS_OUTLINED, size=20),
                ft.Column([ft.Text(b.title + more, weight=ft.FontWeight.W_600, size=14), ft.Text(b.body, size=14)],
                          spacing=0, expand=True),
                ft.IconButton(ft.Icons.CLOSE, tooltip="Dismiss reminder",
                              on_click=lambda: state.dismiss_banner(last))]),
        bgcolor=ft.Colors.TERTIARY_CONTAINER, padding=ft.Padding.only(left=12, right=4, top=6, bottom=6),
        border_radius=12, margin=ft.Margin.symmetric(horizontal=12, vertical=4)))]


def _navigate(state: AppState, phone: bool) -> Callable[[Any], None]:
    items = PHONE_DESTINATIONS if phone else DESTINATIONS

    def go(e: Any) -> None:
        index = int(getattr(e.control, "selected_index", 0) or 0)
        state.go(items[index].route)

    return go


def _unlocked(state: AppState) -> ft.Control:
    body = SCREENS.get(state.route.name, home_screen)(state)
    column = ft.Column([_top_bar(state), ft.Container(body, expand=True), *_banners(state)], spacing=0, expand=True)
    if state.wide:
        rail = tid("nav-rail", ft.NavigationRail(
            selected_index=state.nav_index(phone=False), label_type=ft.NavigationRailLabelType.ALL,
            on_change=_navigate(state, phone=False), min_width=96,
            destinations=[ft.NavigationRailDestination(icon=icon(d.icon), label=d.label) for d in DESTINATIONS]))
        return ft.Row([rail, ft.VerticalDivider(width=1), column], expand=True, spacing=0)
    bar = tid("nav-bar", ft.NavigationBar(
        selected_index=state.nav_index(phone=True), on_change=_navigate(state, phone=True),
        destinations=[ft.NavigationBarDestination(icon=icon(d.icon), label=d.label) for d in PHONE_DESTINATIONS]))
    return ft.Column([column, bar], spacing=0, expand=True)


@ft.component
def App(state: AppState) -> ft.Control:
    use_observable(state)
    page = ft.context.page
    page.title = PAGE_TITLE
    apply_theme(page, state.services.profile.accent_color, state.theme())
    if state.phase == "onboarding":
        body = onboarding_screen(state)
    elif state.phase == "locked":
        body = lock_screen(state)
    else:
        body = _unlocked(state)
    return ft.SafeArea(body, expand=True)
