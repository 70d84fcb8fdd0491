"""The Prevention screen's state across sessions and syncs: a change in one session (browser tab) is
seen by the others holding the vault, not by a locked one; what a sync brings (a released result)
reaches it through the records; 2-1-1 supply and the doxy-PEP check-up as the screen reads them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from companion.core.care_records import Result
from companion.core.models import Profile
from companion.reminders.prevention import load_plan
from companion.state import AppState
from tests.fixtures.app_state import CLOCK_NOW as NOW
from tests.fixtures.app_state import PASSCODE, AppClock


def second_session(first: AppState, unlock: bool = True) -> AppState:
    other = AppState(first.services, first.host)
    other.start()
    if unlock:
        other.session.unlock(PASSCODE)
        assert other.session.phase == "unlocked"
    return other


def test_a_change_in_one_session_notifies_the_prevention_of_the_others(clocked_state: AppState) -> None:
    other, locked = second_session(clocked_state), second_session(clocked_state, unlock=False)
    try:
        seen, seen_locked = other.prevention.version, locked.prevention.version
        clocked_state.prevention.set_daily("07:45")
        assert other.prevention.version == seen + 1
        assert f"{other.prevention.view().plan.prep.dose_time:%H:%M}" == "07:45"
        assert locked.prevention.version == seen_locked  # locked: told nothing, reads nothing
        other.prevention.log_doxy_sex("")  # and back: the first tab follows the second
        assert clocked_state.prevention.version > 0 and len(clocked_state.prevention.view().plan.doxy.events) == 1
        assert other.feedback.toast is not None and clocked_state.feedback.toast != other.feedback.toast  # its own line
    finally:
        other.shutdown()
        locked.shutdown()


def test_a_closed_tab_is_no_longer_told(clocked_state: AppState) -> None:
    other = second_session(clocked_state)
    other.shutdown()
    before = other.prevention.version
    clocked_state.prevention.set_daily("08:00")
    assert other.prevention.version == before


def test_a_released_result_from_a_sync_moves_the_doxy_check_up_and_redraws(clocked_state: AppState,
                                                                           app_clock: AppClock) -> None:
    p = clocked_state.prevention
    p.log_doxy_sex("yesterday 23:30")
    p.log_doxy_dose("")
    assert p.view().doxy_check_up == date(2027, 3, 1)  # no test in the vault: 3 months after the dose
    redraws = clocked_state.records.version
    vault = clocked_state.records.require_vault()
    vault.results.upsert(Result(id="r1", test="Syphilis RPR", interpretation="negative", released_at=NOW,
                                sample_taken=date(2026, 12, 2)))
    clocked_state.vault_synced()  # what the live sync tells every session after a pull
    assert clocked_state.records.version == redraws + 1  # the screen subscribes to the records: it redraws
    assert p.view().doxy_check_up is None  # tested after the dose: nothing due until the next one
    app_clock.now = NOW + timedelta(days=3)
    p.log_doxy_sex("")
    p.log_doxy_dose("")
    assert p.view().doxy_check_up == date(2027, 3, 4)


def test_the_clinics_date_ahead_stands_for_the_doxy_check_up(clocked_state: AppState) -> None:
    p = clocked_state.prevention
    p.log_doxy_sex("")
    p.log_doxy_dose("")
    clocked_state.records.require_vault().profile.set(
        Profile(id="p1", name="Alex Rivera", prep_test_due=date(2027, 1, 15)))
    clocked_state.records.refresh()
    view = p.view()
    assert (view.test_due, view.doxy_check_up) == (date(2027, 1, 15), None)


def test_a_2_1_1_count_goes_down_by_the_doses_and_says_when_it_is_short(clocked_state: AppState,
                                                                        app_clock: AppClock) -> None:
    p = clocked_state.prevention
    p.set_event_based()
    p.plan_event("tomorrow 20:00")  # 2 + 1 + 1
    p.record_supply("6")
    assert clocked_state.feedback.toast == ("Saved. That is less than one 2-1-1 course (4 pills): ask the clinic for a "
                                            "refill.")  # 2 left once the course is done
    supply = p.view().event_supply
    assert supply is not None and (supply.left, supply.after_planned) == (6, 2)
    app_clock.now = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # after the first 2 pills
    supply = p.view().event_supply
    assert supply is not None and supply.left == 4
    p.record_supply("12")
    assert clocked_state.feedback.toast == ("Saved. The app takes off each dose and reminds you to refill before a "
                                            "course runs short.")
    stored = load_plan(clocked_state.records.require_vault().meta).prep.supply
    assert stored is not None and stored.counted_at == app_clock.now
    assert clocked_state.records.require_vault().outbox.all() == []


def test_sex_logged_after_earlier_uncovered_sex_gives_the_earlier_deadline(clocked_state: AppState,
                                                                           app_clock: AppClock) -> None:
    p = clocked_state.prevention
    p.log_doxy_sex("yesterday 06:00")  # 06:00 on 30 Nov in New York: its 72 hours end on 3 Dec
    p.log_doxy_sex("")
    assert clocked_state.feedback.toast == ("Logged. Take your dose as soon as you can, by Thu 3 Dec, 06:00: one dose "
                                            "covers this and the earlier sex.")
    assert len(p.view().open_events) == 2
    p.log_doxy_dose("")
    app_clock.now = NOW + timedelta(hours=2)
    p.log_doxy_sex("")  # sex the dose covers does not count: only this one is open
    assert clocked_state.feedback.toast == "Logged. Take your dose as soon as you can, by Fri 4 Dec, 11:00."
