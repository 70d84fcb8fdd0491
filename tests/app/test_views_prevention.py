"""The Prevention screen in a real in-process Flet session: reachable from the navigation, each PrEP
mode renders, the buttons reach the intents, a doxy-PEP refusal shows on the feedback strip."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import flet as ft
import pytest

from companion.reminders.prevention import load_plan
from companion.state import AppState
from tests.fixtures.flet_session import ViewHarness, run_isolated


async def pick(ui: ViewHarness, kind: type[Any], value: Any) -> None:
    """The patient takes ``value`` in the open picker of ``kind`` (what the client's answer decodes to)."""
    assert await ui.until(lambda: any(isinstance(c, kind) for c in ui.controls())), f"no {kind.__name__} open"
    picker = [c for c in ui.controls() if isinstance(c, kind)][-1]
    ui.session.apply_patch(picker._i, {"value": value})
    await ui.fire(picker, "change", None)


@pytest.mark.parametrize("width", [390, 1280])
def test_prevention_screen_modes_and_intents(empty_state: AppState, width: float) -> None:
    state = empty_state

    async def run() -> None:
        ui = await ViewHarness.start(state, width=width)
        try:
            if width < 840:  # on a phone it is under More
                state.nav.go("more")
                await ui.settle()
                assert "more-prevention" in ui.ids()
            state.nav.go("prevention")
            await ui.settle()
            assert {"prep-reminders", "doxy-log", "prep-mode-daily", "prep-missed-dose", "doxy-dose-log"} <= ui.ids()
            await ui.fire(ui.by_id("prep-mode-daily"), "select", True)
            assert await ui.until(lambda: "prep-daily-status" in ui.ids())
            assert ui.has_text("Every day at 09:00.")
            assert "field-prevention.time" not in ui.ids()  # a time is picked, not typed
            await ui.click("prep-daily-time")
            await pick(ui, ft.TimePicker, time(20, 15))
            assert await ui.until(lambda: ui.has_text("Every day at 20:15."))
            await ui.click("prep-pause")
            assert await ui.until(lambda: ui.has_text("Paused: no reminders until you resume."))
            await ui.fire(ui.by_id("prep-mode-event"), "select", True)
            assert await ui.until(lambda: "prep-event-tomorrow" in ui.ids())
            await ui.click("doxy-dose-log")
            assert await ui.until(lambda: ui.has_text("log when you had sex first"))
            await ui.click("prep-missed-dose")
            assert await ui.until(lambda: "article-body" in ui.ids())
        finally:
            ui.close()

    run_isolated(run())
    plan = load_plan(state.records.require_vault().meta)
    assert (plan.prep.mode, f"{plan.prep.dose_time:%H:%M}") == ("event", "20:15")


def test_a_daily_time_inside_quiet_hours_says_when_it_will_show(clocked_state: AppState) -> None:
    """In the patient's zone (New York here, whatever the machine's): the end of the quiet hours was
    shown in UTC, "waits until 12:00" for a 07:00 end (CI's machine runs in UTC and never showed it)."""
    state = clocked_state
    state.prefs.set_quiet_hours("22:00-07:00")
    state.prevention.set_daily("23:00")

    async def run() -> None:
        ui = await ViewHarness.start(state, width=390)
        try:
            state.nav.go("prevention")
            await ui.settle()
            assert ui.has_text("Every day at 23:00. That is inside your quiet hours, "
                               "so the reminder waits until 07:00.")
            state.prevention.set_daily("21:00")
            assert await ui.until(lambda: ui.has_text("Every day at 21:00."))
            assert not ui.has_text("quiet hours, so")
        finally:
            ui.close()

    run_isolated(run())


def test_the_2_1_1_count_and_the_doxy_check_up_show_on_the_screen(empty_state: AppState) -> None:
    state = empty_state
    p = state.prevention
    p.set_event_based()
    in_two_days = state.now().astimezone(state.services.tz).date() + timedelta(days=2)
    p.plan_event(f"{in_two_days.isoformat()} 20:00")  # a course of 4, its first 2 pills after the count
    p.record_supply("3")
    p.log_doxy_sex("")
    p.log_doxy_dose("")

    async def run() -> None:
        ui = await ViewHarness.start(state, width=390)
        try:
            state.nav.go("prevention")
            await ui.settle()
            assert {"prep-supply", "doxy-check-up", "prep-pause", "prep-event-day"} <= ui.ids()
            assert ui.has_text("About 3 pills left: not enough for the doses planned (1 pill short). "
                               "Ask the clinic for a refill.")
            assert ui.has_text("3 months after your first dose since your last test")
            p.record_supply("20")
            assert await ui.until(lambda: ui.has_text("About 20 pills left, 16 after the doses planned."))
        finally:
            ui.close()

    run_isolated(run())
