"""The desk's layout by width, through the in-process Flet session against a real server process: at
390 px a PSR gets the top bar and a bottom NavigationBar of their five screens (no rail), a clinician
three, an admin (one screen, Audit) the top bar only; at 1280 px the rail is there. More than five
screens would put the rest behind "More" (:func:`phone_bar`). The width rule is the patient app's
own (:mod:`companion.core.layout`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from companion.clinic.desk.state import DeskState, Navigation
from companion.clinic.desk.state.feedback import Feedback
from companion.clinic.desk.state.navigation import MORE, phone_bar
from companion.core.layout import WIDE_FROM, is_wide
from tests.fixtures.desk import DESK_USERS, sign_in_view
from tests.fixtures.flet_session import ViewHarness, drive
from tests.support.server_harness import ServerProcess

WAIT = 15.0


def test_the_desk_and_the_app_share_one_width_rule() -> None:
    from companion.state import navigation as app_navigation

    # the app asks the same function, not a copy of it (a name it imports, not one it exports)
    assert vars(app_navigation)["is_wide"] is is_wide
    nav = Navigation(Feedback())
    assert nav.wide  # a desk is wide until the page says otherwise
    seen: list[bool] = []
    nav.subscribe(lambda: seen.append(nav.wide))
    nav.set_width(WIDE_FROM - 1)
    nav.set_width(390)  # still a phone: no redraw for every pixel
    nav.set_width(WIDE_FROM)
    assert seen == [False, True]


def test_the_phone_bar_holds_five_and_more_holds_the_rest() -> None:
    assert phone_bar([1, 2, 3, 4, 5]) == ([1, 2, 3, 4, 5], [])
    assert phone_bar([1, 2, 3, 4, 5, 6]) == ([1, 2, 3, 4], [5, 6])


async def _tap(ui: ViewHarness, index: int) -> None:
    """Tap destination ``index`` of the bottom bar as the browser does (patch the selection, then change)."""
    bar: Any = ui.by_id("nav-bar")
    ui.session.apply_patch(bar._i, {"selected_index": index})
    await ui.fire(bar, "change", None)


def test_a_psr_on_a_phone_gets_the_bottom_bar_and_the_top_bar(desk_view_state: DeskState) -> None:
    async def scenario(ui: ViewHarness) -> None:
        await sign_in_view(ui, DESK_USERS["psr"], landmark="nav-bar")
        assert "nav-rail" not in ui.ids() and {"desk-top-bar", "sign-out"} <= ui.ids()
        bar: Any = ui.by_id("nav-bar")
        names = [s.name for s in ui.state.session.screens()]
        assert len(names) == 5 and len(bar.destinations) == 5 and MORE not in names
        await _tap(ui, names.index("inbox"))
        assert await ui.until(lambda: ui.state.navigation.route.name == "inbox" and "inbox-list" in ui.ids(), WAIT)
        assert ui.by_id("nav-bar").selected_index == names.index("inbox")
        filters: Any = ui.by_id("inbox-filters")  # one line that scrolls sideways, and each filter still works
        assert filters.wrap is False and filters.scroll is not None
        await ui.click("filter-bill-question")
        assert await ui.until(lambda: ui.state.inbox.filter == "bill.question", WAIT)
        assert all(i["kind"] == "bill.question" for i in ui.state.inbox.shown())

    drive(desk_view_state, scenario, desk=True, width=390)


def test_a_clinician_gets_three_destinations_and_an_admin_with_one_screen_no_bar(
        desk_server: ServerProcess, desk_factory: Callable[[ServerProcess], DeskState]) -> None:
    async def clinician(ui: ViewHarness) -> None:
        await sign_in_view(ui, DESK_USERS["clinician"], landmark="nav-bar")
        assert [d.label for d in ui.by_id("nav-bar").destinations] == ["Today", "Patients", "Articles"]

    async def admin(ui: ViewHarness) -> None:
        await sign_in_view(ui, DESK_USERS["admin"], landmark="audit-list")
        assert {"desk-top-bar", "sign-out"} <= ui.ids() and not {"nav-bar", "nav-rail"} & ui.ids()

    for scenario in (clinician, admin):
        drive(desk_factory(desk_server), scenario, desk=True, width=390)


def test_the_desktop_keeps_the_rail(desk_view_state: DeskState) -> None:
    async def scenario(ui: ViewHarness) -> None:
        await sign_in_view(ui, DESK_USERS["psr"])
        assert "nav-bar" not in ui.ids() and "desk-top-bar" not in ui.ids()

    drive(desk_view_state, scenario, desk=True, width=1280)
