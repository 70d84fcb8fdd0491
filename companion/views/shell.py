"""The root component: picks onboarding, lock or the app; navigation bar (phone) or rail (desktop).

``App(state)`` is rendered once per browser session by :mod:`companion.app`. Each piece renders
for what it shows, and only then (:func:`companion.ui.kit.use_observable`):

- ``App`` (the shell) follows ``state.session`` (the phase), ``state.nav`` (route, layout) and
  ``state.prefs.appearance`` (the theme, which only Settings changes);
- :func:`SyncChip` follows ``state.sync`` alone, so a live sync redraws the chip and nothing else;
- :func:`BannerSlot` follows ``state.banners`` alone;
- each screen (``companion/views/*.py``) is a memoised component of ``(state, route, frame_width)``
  that follows the observables it renders (the records, mostly), so the shell drawing again for a
  phase or route change never redraws a screen whose route stayed, and a field in it keeps its text.

The page title stays "Companion" on every screen — nothing about the clinic or a record in it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from ..i18n import LANGUAGES, _
from ..state import DESTINATIONS, PHONE_DESTINATIONS, AppState, Route
from ..state.formatting import sync_summary
from ..ui.kit import handler, memo, use_observable
from .appointments import AppointmentScreen, AppointmentsScreen, CheckinScreen, RequestScreen
from .bills import BillScreen, BillsScreen
from .booking import BookScreen
from .common import header, icon, screen, tid
from .entry import LockScreen, OnboardingScreen
from .guidance import ArticleScreen, LearnScreen, PrepScreen
from .home import HomeScreen
from .messages import MessagesScreen, ThreadScreen
from .partner import PartnerScreen
from .prevention import PreventionScreen
from .results import ResultScreen, ResultsScreen
from .settings import SettingsScreen

__all__ = ["App", "BannerSlot", "MoreScreen", "PAGE_TITLE", "SyncChip", "apply_theme", "mount"]

PAGE_TITLE = "Companion"

@ft.component
def MoreScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    """More (phone only): the destinations that do not fit the navigation bar, and lock now.

    Renders only when shown (nothing it lists changes)."""
    on_bar = {d.route for d in PHONE_DESTINATIONS}
    tiles: list[ft.Control] = [
        tid(f"more-{d.route}", ft.ListTile(leading=ft.Icon(icon(d.icon)), title=ft.Text(_(d.label), size=17),
                                           on_click=lambda _e, r=d.route: state.nav.go(r), min_height=56))
        for d in DESTINATIONS if d.route not in on_bar
    ]
    tiles.append(tid("more-lock", ft.ListTile(leading=ft.Icon(ft.Icons.LOCK_OUTLINE),
                                              title=ft.Text(_("Lock now"), size=17),
                                              on_click=handler(state.session.lock), min_height=56)))
    return screen(state, [header(state, _("More")), *tiles])


Screen = Callable[[AppState, Route, float | None], ft.Control]
SCREENS: dict[str, Screen] = {name: memo(component) for name, component in {
    "home": HomeScreen, "appointments": AppointmentsScreen, "appointment": AppointmentScreen,
    "request": RequestScreen, "book": BookScreen, "partner": PartnerScreen,
    "checkin": CheckinScreen, "prep": PrepScreen, "bills": BillsScreen,
    "bill": BillScreen, "results": ResultsScreen, "result": ResultScreen, "messages": MessagesScreen,
    "thread": ThreadScreen, "learn": LearnScreen, "article": ArticleScreen, "settings": SettingsScreen,
    "more": MoreScreen, "prevention": PreventionScreen,
}.items()}
TONES = {"ok": (ft.Icons.CLOUD_DONE_OUTLINED, ft.Colors.PRIMARY), "busy": (ft.Icons.SYNC, ft.Colors.PRIMARY),
         "offline": (ft.Icons.CLOUD_OFF_OUTLINED, ft.Colors.ON_SURFACE_VARIANT),
         "problem": (ft.Icons.SYNC_PROBLEM, ft.Colors.ERROR)}


@ft.component
def SyncChip(state: AppState) -> ft.Control:
    """Always visible: last synced, waiting to send, offline. Renders for the sync status alone."""
    use_observable(state.sync)
    use_observable(state.prefs.appearance)  # the language
    sync = state.sync
    st = sync.status
    text, tone = sync_summary(st.paired, st.state, sync.live_state, st.last_sync, st.pending, state.now())
    glyph, color = TONES[tone]
    chip = ft.Container(
        ft.Row([ft.Icon(glyph, size=18, color=color), ft.Text(text, size=13, color=color)], spacing=6, tight=True),
        padding=ft.Padding.symmetric(horizontal=12, vertical=6), border_radius=20,
        border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT), on_click=handler(sync.sync_now),
        tooltip=_("Sync now"),
    )
    return tid("sync-chip", chip, label=_("Sync status: %(status)s") % {"status": text})


@ft.component
def BannerSlot(state: AppState) -> ft.Control:
    """The newest in-app reminder (the fallback is never silent), compact, with how many more wait.

    It sits *below* the screen, above the navigation: a reminder that arrives while the patient
    aims at a field or a button moves nothing under their finger (above the screen, it pushed
    everything down mid-tap). Always one slot (empty without a reminder), so the screen keeps its
    place among its parent's children (see :func:`companion.ui.kit.feedback`). Renders for the
    banners alone.
    """
    use_observable(state.banners)
    use_observable(state.prefs.appearance)  # the language
    banners = state.banners.items
    if not banners:
        return ft.Container()
    last = len(banners) - 1
    b = banners[last]
    title, body = b.words()  # in the language of now (a switch redraws the slot: the appearance)
    more = "  " + _("(+%(n)s more)") % {"n": last} if last else ""

    def open_it() -> None:  # a tap goes to what the reminder is about, and the reminder is done
        state.banners.dismiss(last)
        state.nav.go(b.route)

    return tid("banner", ft.Container(
        ft.Row([ft.Icon(ft.Icons.NOTIFICATIONS_OUTLINED, size=20),
                ft.Column([ft.Text(title + more, weight=ft.FontWeight.W_600, size=14), ft.Text(body, size=14)],
                          spacing=0, expand=True),
                ft.IconButton(ft.Icons.CLOSE, tooltip=_("Dismiss reminder"),
                              on_click=lambda: state.banners.dismiss(last))]),
        bgcolor=ft.Colors.TERTIARY_CONTAINER, padding=ft.Padding.only(left=12, right=4, top=6, bottom=6),
        border_radius=12, margin=ft.Margin.symmetric(horizontal=12, vertical=4), on_click=open_it, ink=True),
        label=f"{title}. {body}")


_sync_chip = memo(SyncChip)
_banner_slot = memo(BannerSlot)


def _top_bar(state: AppState) -> ft.Control:
    lock = tid("lock-now", ft.IconButton(ft.Icons.LOCK_OUTLINE, tooltip=_("Lock now"),
                                         on_click=handler(state.session.lock)))
    return ft.Container(
        ft.Row([ft.Container(_sync_chip(state), expand=True), lock], vertical_alignment=ft.CrossAxisAlignment.CENTER),
        padding=ft.Padding.only(left=12, right=4, top=6, bottom=2),
    )


def _navigate(state: AppState, phone: bool) -> Callable[[Any], None]:
    items = PHONE_DESTINATIONS if phone else DESTINATIONS

    def go(e: Any) -> None:
        index = int(getattr(e.control, "selected_index", 0) or 0)
        state.nav.go(items[index].route)

    return go


def _unlocked(state: AppState) -> ft.Control:
    nav = state.nav
    route = nav.route
    body = SCREENS.get(route.name, SCREENS["home"])(state, route, nav.page_width if nav.wide else None)
    column = ft.Column([_top_bar(state), ft.Container(body, expand=True), _banner_slot(state)], spacing=0,
                       expand=True)
    if nav.wide:
        rail = tid("nav-rail", ft.NavigationRail(
            selected_index=nav.nav_index(phone=False), label_type=ft.NavigationRailLabelType.ALL,
            on_change=_navigate(state, phone=False), min_width=96,
            destinations=[ft.NavigationRailDestination(icon=icon(d.icon), label=_(d.label)) for d in DESTINATIONS]))
        return ft.Row([rail, ft.VerticalDivider(width=1), column], expand=True, spacing=0)
    bar = tid("nav-bar", ft.NavigationBar(
        selected_index=nav.nav_index(phone=True), on_change=_navigate(state, phone=True),
        destinations=[ft.NavigationBarDestination(icon=icon(d.icon), label=_(d.label)) for d in PHONE_DESTINATIONS]))
    return ft.Column([column, bar], spacing=0, expand=True)


_onboarding_screen = memo(OnboardingScreen)
_lock_screen = memo(LockScreen)


@ft.component
def App(state: AppState) -> ft.Control:
    """The shell: renders for the phase, the route, the layout and the theme (see the module docstring)."""
    use_observable(state.session)
    use_observable(state.nav)
    use_observable(state.prefs.appearance)
    page = ft.context.page
    page.title = PAGE_TITLE
    apply_theme(page, state.services.profile.accent_color, state.prefs.theme())
    apply_language(page, state.prefs.language())
    phase = state.session.phase
    if phase == "onboarding":
        body = _onboarding_screen(state)
    elif phase == "locked":
        body = _lock_screen(state)
    else:
        body = _unlocked(state)
    return ft.SafeArea(body, expand=True)


def _theme(accent: str) -> ft.Theme:
    return ft.Theme(color_scheme_seed=accent, use_material3=True)


def apply_theme(page: ft.Page, accent: str, mode: str) -> None:
    """Light and dark themes from the clinic's accent colour; the mode is ``system``, ``light`` or ``dark``."""
    page.theme = _theme(accent)
    page.dark_theme = _theme(accent)
    page.theme_mode = {"light": ft.ThemeMode.LIGHT, "dark": ft.ThemeMode.DARK}.get(mode, ft.ThemeMode.SYSTEM)


LOCALES = {code: ft.Locale(code, "US") for code in LANGUAGES}  # a US clinic: en_US, es_US


def apply_language(page: ft.Page, code: str) -> None:
    """Flutter's own words (a tab's "Tab 1 of 8", a field's menus) in the app's language."""
    page.locale_configuration = ft.LocaleConfiguration(supported_locales=list(LOCALES.values()),
                                                       current_locale=LOCALES.get(code, LOCALES["en"]))


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
