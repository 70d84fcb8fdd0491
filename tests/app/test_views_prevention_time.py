"""The Prevention screen's times, in a real in-process Flet session with a clock the test moves: each
"when" is picked with Flet's DatePicker/TimePicker (quick choices first), a refusal replaces the
card's last success line, and the open screen redraws as the minute turns — a countdown runs down,
a 72-hour window closes, "Today" becomes "Yesterday"."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import flet as ft

from companion.reminders.prevention import load_plan
from companion.state import AppState
from tests.app.test_views_prevention import pick
from tests.fixtures.app_state import CLOCK_NOW as NOW
from tests.fixtures.app_state import AppClock
from tests.fixtures.flet_session import ViewHarness, run_isolated


def test_sex_on_another_day_is_picked_and_its_countdown_follows_the_clock(clocked_state: AppState,
                                                                         app_clock: AppClock) -> None:
    async def run() -> None:
        ui = await ViewHarness.start(clocked_state, width=390)
        try:
            clocked_state.nav.go("prevention")
            await ui.settle()
            assert {"doxy-sex-log", "doxy-sex-today", "doxy-sex-yesterday", "doxy-sex-day"} <= ui.ids()
            assert not any(i.startswith("field-doxy") for i in ui.ids())  # nothing typed
            await ui.click("doxy-sex-day")  # 3 days ago, 10:00: the window closes in an hour
            await pick(ui, ft.DatePicker, datetime(2026, 11, 28))
            assert await ui.until(lambda: any(isinstance(c, ft.TimePicker) for c in ui.controls()))
            dial = [c for c in ui.controls() if isinstance(c, ft.TimePicker)][-1]
            assert dial.help_text == "When you had sex, Sat 28 Nov"  # the dial names the day picked
            await pick(ui, ft.TimePicker, time(10, 0))
            assert await ui.until(lambda: ui.has_text("take your dose by Today, 10:00 (in 1 h)."))
            app_clock.now = NOW + timedelta(minutes=2)
            clocked_state.tick()
            assert await ui.until(lambda: ui.has_text("(in 58 min)."))
            app_clock.now = NOW + timedelta(hours=1, minutes=1)  # the 72 hours are over
            clocked_state.tick()
            assert await ui.until(lambda: not ui.has_text("take your dose by"))
            assert any(t.startswith("Sex · ") and t.endswith(", 10:00") for t in ui.texts())  # still in the log
            await ui.click("doxy-dose-log")  # too late now: refused in the patient's words
            assert await ui.until(lambda: ui.has_text("more than 72 hours after sex"))
        finally:
            ui.close()

    run_isolated(run())
    [event] = load_plan(clocked_state.records.require_vault().meta).doxy.events
    assert event.sex_at == datetime(2026, 11, 28, 15, 0, tzinfo=UTC)


def test_today_becomes_yesterday_when_the_day_turns(clocked_state: AppState, app_clock: AppClock) -> None:
    clocked_state.prevention.set_daily("09:00")

    async def run() -> None:
        ui = await ViewHarness.start(clocked_state, width=390)
        try:
            clocked_state.nav.go("prevention")
            await ui.settle()
            await ui.click("doxy-sex-today")
            await pick(ui, ft.TimePicker, time(7, 30))
            assert await ui.until(lambda: ui.has_text("Sex · Today, 07:30"))
            await ui.type("field-prevention.pills", "12")  # half-typed when the minute turns
            app_clock.now = NOW + timedelta(days=1)
            clocked_state.tick()
            assert await ui.until(lambda: ui.has_text("Sex · Yesterday, 07:30"))
            assert ui.by_id("field-prevention.pills").value == "12"  # the redraw keeps what is typed
        finally:
            ui.close()

    run_isolated(run())


def test_a_refused_dose_replaces_the_dose_logged_line(clocked_state: AppState) -> None:
    clocked_state.prevention.log_doxy_sex("")

    async def run() -> None:
        ui = await ViewHarness.start(clocked_state, width=390)
        try:
            clocked_state.nav.go("prevention")
            await ui.settle()
            await ui.click("doxy-dose-log")
            assert await ui.until(lambda: ui.has_text("Dose logged."))
            await ui.click("doxy-dose-yesterday")  # yesterday 20:00, 13 hours before the one just logged
            await pick(ui, ft.TimePicker, time(20, 0))
            assert await ui.until(lambda: ui.has_text("only one dose in 24 hours"))
            assert not ui.has_text("Dose logged.")  # one card, one current outcome
        finally:
            ui.close()

    run_isolated(run())
    assert len(load_plan(clocked_state.records.require_vault().meta).doxy.doses) == 1


def test_2_1_1_sex_tomorrow_is_picked_and_its_doses_follow(clocked_state: AppState) -> None:
    clocked_state.prevention.set_event_based()

    async def run() -> None:
        ui = await ViewHarness.start(clocked_state, width=1280)
        try:
            clocked_state.nav.go("prevention")
            await ui.settle()
            assert {"prep-event-tonight", "prep-event-tomorrow", "prep-event-day"} <= ui.ids()
            await ui.click("prep-event-tomorrow")
            await pick(ui, ft.TimePicker, time(20, 0))
            assert await ui.until(lambda: {"prep-dose-0", "prep-dose-1", "prep-dose-2"} <= ui.ids())
            assert ui.has_text("Today, 20:00: 2 pills")  # 24 hours before sex
            await ui.click("prep-event-day")
            await pick(ui, ft.DatePicker, datetime.combine(date(2026, 12, 20), time()))
            await pick(ui, ft.TimePicker, time(22, 0))
            assert await ui.until(lambda: "prep-dose-3" in ui.ids())
        finally:
            ui.close()

    run_isolated(run())
    events = sorted(e.sex_at for e in load_plan(clocked_state.records.require_vault().meta).prep.events)
    assert events == [datetime(2026, 12, 3, 1, 0, tzinfo=UTC), datetime(2026, 12, 21, 3, 0, tzinfo=UTC)]
