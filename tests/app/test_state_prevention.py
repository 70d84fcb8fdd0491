"""The Prevention screen's intents on a real vault: PrEP schedules, pausing, supply, the doxy-PEP log's
limits in the patient's words, nothing queued for the clinic, and the reminders they lead to."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from companion.core.errors import RecordError
from companion.reminders import RecordingNotifier, deliver_due
from companion.reminders.prevention import load_plan
from companion.state import AppState
from companion.state.notices import inside_app
from companion.state.prevention import parse_when
from companion.vault import Vault
from tests.fixtures.app_state import CLOCK_NOW as NOW
from tests.fixtures.app_state import CLOCK_TZ as TZ
from tests.fixtures.app_state import PROFILE, AppClock


def vault_of(state: AppState) -> Vault:
    return state.records.require_vault()


def test_parse_when_reads_the_words_the_labels_offer() -> None:
    assert parse_when("", NOW, TZ, "when") == NOW
    assert parse_when("21:00", NOW, TZ, "when") == datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
    assert parse_when("Yesterday 23:30", NOW, TZ, "when") == datetime(2026, 12, 1, 4, 30, tzinfo=UTC)
    assert parse_when("tomorrow 9:30", NOW, TZ, "when") == datetime(2026, 12, 2, 14, 30, tzinfo=UTC)
    assert parse_when("2026-12-03 21:00", NOW, TZ, "when") == datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
    with pytest.raises(RecordError, match="write a time like 21:00"):
        parse_when("next friday", NOW, TZ, "when")


def test_daily_reminder_is_saved_in_the_vault_and_never_queued(clocked_state: AppState) -> None:
    clocked_state.prevention.set_daily("21:30")
    assert clocked_state.feedback.error is None and clocked_state.feedback.toast == "Daily reminder set for 21:30."
    plan = load_plan(vault_of(clocked_state).meta)
    assert (plan.prep.mode, plan.prep.dose_time, plan.prep.since) == ("daily", time(21, 30), NOW)
    assert vault_of(clocked_state).outbox.all() == []
    clocked_state.prevention.set_daily("9.30")
    assert clocked_state.feedback.error == "Time: expected a time like 09:00, got '9.30'."


def test_pause_and_resume(clocked_state: AppState, app_clock: AppClock) -> None:
    clocked_state.prevention.set_daily("09:00")
    rec = RecordingNotifier()
    clocked_state.prevention.pause()
    assert deliver_due(vault_of(clocked_state), rec, NOW + timedelta(days=1), PROFILE, tz=TZ).shown == []
    app_clock.now = NOW + timedelta(days=1, hours=1)
    clocked_state.prevention.resume()
    assert load_plan(vault_of(clocked_state).meta).prep.paused is False
    deliver_due(vault_of(clocked_state), rec, NOW + timedelta(days=2), PROFILE, tz=TZ)
    assert rec.shown == [("Your daily reminder", "It's that time of day. The app has the details.")]


def test_the_in_app_banner_of_a_prevention_reminder_opens_the_prevention_screen() -> None:
    banner = inside_app("Your daily reminder", "It's that time of day. The app has the details.", "prevention")
    assert (banner.body, banner.route) == ("It's that time of day. Tap for the details.", "prevention")


def test_doxy_log_refuses_past_72_hours_and_a_second_dose_in_24_in_plain_words(clocked_state: AppState,
                                                                                app_clock: AppClock) -> None:
    p = clocked_state.prevention
    p.log_doxy_dose("")
    assert clocked_state.feedback.error == \
        "Doxy-PEP: log when you had sex first: a dose counts within 72 hours after it."
    p.log_doxy_sex("yesterday 23:30")
    toast = clocked_state.feedback.toast
    assert toast is not None and toast.startswith("Logged. Take your dose as soon as")
    assert [e.sex_at for e in p.view().open_events] == [datetime(2026, 12, 1, 4, 30, tzinfo=UTC)]
    p.log_doxy_dose("")
    assert clocked_state.feedback.error is None and p.view().open_events == ()
    app_clock.now = NOW + timedelta(hours=10)
    p.log_doxy_sex("")
    p.log_doxy_dose("")
    assert clocked_state.feedback.error == (
        "Doxy-PEP: only one dose in 24 hours. Your last dose was Today, 09:00; the next "
        "can be from Tomorrow, 09:00. One dose covers all sex in the 72 hours before it.")
    app_clock.now = NOW + timedelta(days=5)
    p.log_doxy_dose("")
    assert clocked_state.feedback.error is not None and "more than 72 hours after sex" in clocked_state.feedback.error
    assert len(load_plan(vault_of(clocked_state).meta).doxy.doses) == 1
    assert vault_of(clocked_state).outbox.all() == []


def test_event_based_doses_follow_the_planned_time_and_supply_is_counted(clocked_state: AppState) -> None:
    p = clocked_state.prevention
    p.set_event_based()
    p.plan_event("tomorrow 20:00")
    doses = p.view().upcoming_doses
    assert [(d.at, d.pills) for d in doses] == [(datetime(2026, 12, 2, 1, 0, tzinfo=UTC), 2),
                                                (datetime(2026, 12, 3, 1, 0, tzinfo=UTC), 1),
                                                (datetime(2026, 12, 4, 1, 0, tzinfo=UTC), 1)]
    p.plan_event("yesterday 08:00")
    assert clocked_state.feedback.error == "When: that time has passed: add the next time you expect to have sex."
    p.set_daily("09:00")
    p.record_supply("12")
    runs_out = p.view().runs_out
    assert runs_out is not None and runs_out.isoformat() == "2026-12-13"
    p.record_supply("lots")
    assert clocked_state.feedback.error == "Pills: write how many pills you have left, as a number."


def test_what_an_intent_said_shows_in_its_own_card_and_nothing_else_does(clocked_state: AppState) -> None:
    p = clocked_state.prevention
    p.log_doxy_dose("")
    assert p.note_in("doxy") and not p.note_in("prep")
    p.set_daily("08:00")
    assert p.note_in("prep") and not p.note_in("doxy")
    clocked_state.feedback.toast = "Syncing with your clinic…"  # news from elsewhere (the sync chip) is not a card's
    assert not p.note_in("prep") and not p.note_in("doxy")


def test_a_refusal_replaces_the_last_success_line(clocked_state: AppState) -> None:
    p = clocked_state.prevention
    p.log_doxy_sex("")
    p.log_doxy_dose("")
    assert clocked_state.feedback.toast is not None and clocked_state.feedback.toast.startswith("Dose logged.")
    p.log_doxy_dose("")  # a second dose within 24 hours
    assert clocked_state.feedback.error is not None and "only one dose in 24 hours" in clocked_state.feedback.error
    assert clocked_state.feedback.toast is None and p.note_in("doxy")


def test_the_tick_tells_the_screen_once_each_minute(clocked_state: AppState, app_clock: AppClock) -> None:
    told: list[int] = []
    clocked_state.prevention.subscribe(lambda: told.append(1))
    clocked_state.tick()
    assert len(told) == 1  # the first tick: the minute is new
    app_clock.now = NOW + timedelta(seconds=59)
    clocked_state.tick()
    clocked_state.tick()
    assert len(told) == 1  # same minute: nothing redraws
    app_clock.now = NOW + timedelta(seconds=60)
    clocked_state.tick()
    assert len(told) == 2
    clocked_state.session.lock()
    app_clock.now = NOW + timedelta(minutes=5)
    clocked_state.tick()
    assert len(told) == 2  # locked: nothing to draw
