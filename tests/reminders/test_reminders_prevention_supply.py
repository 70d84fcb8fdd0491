"""PrEP refills for 2-1-1 users (the count goes down by each course's doses) and the doxy-PEP check-up
3 months after the first dose since the last test, through the one planner, discreetly worded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from companion.core.care_records import Result
from companion.core.prevention import (
    DoxyDose,
    PreventionPlan,
    SexEvent,
    Supply,
    add_months,
    event_doses,
    event_supply,
    last_test,
)
from companion.reminders import RecordingNotifier, RecordSet, Reminder, deliver_due, plan_reminders, triage
from companion.reminders.prevention import save_plan
from companion.vault import ScryptParams, Vault
from tests.fixtures.vault import VAULT_PASSCODE
from tests.reminders.test_reminders_prevention import CLINIC, NINE, NO_QUIET, TELLING, TZ


def planned(prevention: PreventionPlan, now: datetime, *, test_due: date | None = None,
            results: Sequence[Result] = ()) -> dict[str, Reminder]:
    reminders = plan_reminders(RecordSet(prevention=prevention, test_due=test_due, results=tuple(results)), NO_QUIET,
                               now, frozenset(), tz=TZ, clinic=CLINIC)
    for r in reminders:
        assert not any(word in f"{r.title} {r.body}".lower() for word in TELLING), (r.title, r.body)
        assert r.discreet
    return {r.id: r for r in reminders if r.expires_at > now}


def result(sample: date | None, released: datetime) -> Result:
    return Result(id=f"r-{released:%j}", test="Chlamydia NAAT", interpretation="negative", released_at=released,
                  sample_taken=sample, acknowledged_at=released)


# --- refills for 2-1-1 ----------------------------------------------------------------------


def event_plan(pills: int, *sex: datetime, counted_at: datetime = NINE) -> PreventionPlan:
    events = tuple(SexEvent(f"e{i}", at, counted_at) for i, at in enumerate(sex))
    return PreventionPlan().with_prep(mode="event", since=counted_at, events=events,
                                      supply=Supply(pills, counted_at.astimezone(TZ).date(), counted_at))


def test_event_supply_counts_down_by_each_dose_due_after_the_count() -> None:
    sex = NINE + timedelta(days=2)
    prevention = event_plan(7, sex)
    doses = event_doses(prevention.prep.events)
    supply = prevention.prep.supply
    assert supply is not None
    before = event_supply(supply, doses, NINE)
    assert (before.left, before.after_planned, before.low_at) == (7, 3, sex + timedelta(hours=24))  # 7-2-1, then 3
    assert event_supply(supply, doses, sex + timedelta(hours=1)).left == 4
    # a dose due before the count was made is in the count already
    recount = Supply(5, sex.date(), sex - timedelta(hours=1))
    assert event_supply(recount, doses, sex).after_planned == 3


def test_event_refill_fires_when_the_count_falls_below_one_course() -> None:
    sex = NINE + timedelta(days=2)
    reminders = planned(event_plan(7, sex), NINE)
    refill = reminders["prep:refill:event:20261201T1400:7"]
    last = sex + timedelta(hours=24)
    assert refill.fire_at == last  # the dose that leaves 3: fewer than the 4 a next course needs
    assert refill.body == "Running low: time to plan a refill. The app has the details."
    assert [r.id for r in triage(list(planned(event_plan(7, sex), last).values()), last)[0]
            if "refill" in r.id] == ["prep:refill:event:20261201T1400:7"]
    assert not [rid for rid in planned(event_plan(8, sex), NINE) if "refill" in rid]  # 4 left: one more course
    paused = event_plan(7, sex).with_prep(paused=True)
    assert not [rid for rid in planned(paused, NINE) if "refill" in rid]


def test_an_event_count_already_below_a_course_says_so_at_once() -> None:
    reminders = planned(event_plan(3), NINE)
    assert reminders["prep:refill:event:20261201T1400:3"].fire_at == NINE
    counted_again = planned(event_plan(30), NINE)  # a new count: new ids, the old reminder is not planned
    assert not [rid for rid in counted_again if "refill" in rid]


def test_an_older_count_without_its_moment_counts_from_the_start_of_its_day() -> None:
    sex = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
    doses = event_doses([SexEvent("e", sex, datetime(2026, 11, 30, 0, 0, tzinfo=UTC))])
    assert doses[0].at == datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
    supply = Supply.from_dict({"pills": 6, "counted_on": "2026-12-01"}, "supply")
    assert supply.counted_at is None
    assert event_supply(supply, doses, sex + timedelta(days=2)).left == 4  # the two daily pills, not the first two


# --- doxy-PEP check-up ----------------------------------------------------------------------


def doxy_doses(*taken: datetime) -> PreventionPlan:
    return PreventionPlan().with_doxy(doses=tuple(DoxyDose(f"d{i}", at) for i, at in enumerate(taken)))


def test_add_months_keeps_the_day_or_takes_the_months_last() -> None:
    assert add_months(date(2026, 12, 1), 3) == date(2027, 3, 1)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2027, 3, 31), -3) == date(2026, 12, 31)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)


def test_last_test_is_the_latest_sample_or_the_clinics_date_once_passed() -> None:
    today = date(2026, 12, 1)
    assert last_test([], None, today) is None
    assert last_test([date(2026, 9, 1), date(2026, 10, 2)], None, today) == date(2026, 10, 2)
    assert last_test([date(2026, 9, 1)], date(2026, 11, 3), today) == date(2026, 11, 3)
    assert last_test([date(2026, 9, 1)], date(2026, 12, 1), today) == date(2026, 9, 1)  # due today: not yet a test


def test_doxy_check_up_three_months_after_the_first_dose_since_the_last_test() -> None:
    sample = date(2026, 10, 1)
    tested = [result(sample, datetime(2026, 10, 4, 15, 0, tzinfo=UTC))]
    doses = doxy_doses(datetime(2026, 9, 20, 15, 0, tzinfo=UTC),  # before the test: that test covered it
                       datetime(2026, 10, 12, 15, 0, tzinfo=UTC), datetime(2026, 11, 5, 15, 0, tzinfo=UTC))
    reminders = planned(doses, NINE, results=tested)
    check_up = reminders["doxy:checkup:2027-01-12"]
    assert check_up.fire_at == datetime(2027, 1, 12, 15, 0, tzinfo=UTC)  # 10:00 in New York
    assert check_up.expires_at == datetime(2027, 4, 12, 4, 0, tzinfo=UTC)  # 6 months after that dose
    assert check_up.body == "A check-up is due today. The app has the details."  # worded when it shows
    assert "doxy:checkup:2026-12-20" in planned(doses, NINE)  # no result in the vault: from the first dose
    # a newer result moves the clock to the first dose after it; none since: nothing is due
    assert not [rid for rid in planned(doses, NINE, results=[result(date(2026, 11, 20), NINE)]) if "checkup" in rid]
    released_only = [result(None, datetime(2026, 11, 1, 15, 0, tzinfo=UTC))]  # an older feed: the release day
    assert "doxy:checkup:2027-02-05" in planned(doses, NINE, results=released_only)


def test_the_clinics_date_ahead_replaces_the_doxy_check_up_and_once_passed_restarts_it() -> None:
    doses = doxy_doses(datetime(2026, 10, 12, 15, 0, tzinfo=UTC), datetime(2026, 11, 25, 15, 0, tzinfo=UTC))
    ahead = planned(doses, NINE, test_due=date(2026, 12, 20))
    assert [rid for rid in ahead if "checkup" in rid] == ["prep:checkup:2026-12-20:7d", "prep:checkup:2026-12-20:0d"]
    passed = planned(doses, NINE, test_due=date(2026, 11, 20))
    assert [rid for rid in passed if rid.startswith("doxy:checkup")] == ["doxy:checkup:2027-02-25"]
    assert not [rid for rid in planned(PreventionPlan(), NINE) if "checkup" in rid]  # no doxy-PEP: nothing


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    return Vault.create(tmp_path / "vault", VAULT_PASSCODE, kdf=ScryptParams.fast())


def test_the_doxy_check_up_shows_once_from_the_vault_and_catches_up(vault: Vault) -> None:
    save_plan(vault.meta, doxy_doses(datetime(2026, 9, 1, 15, 0, tzinfo=UTC)))
    vault.results.upsert(result(date(2026, 8, 20), datetime(2026, 8, 25, 15, 0, tzinfo=UTC)))
    rec = RecordingNotifier()
    deliver_due(vault, rec, datetime(2026, 11, 30, 15, 0, tzinfo=UTC), CLINIC, tz=TZ)
    assert rec.shown == []
    later = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # the app was closed on the day: it shows once, later
    deliver_due(vault, rec, later, CLINIC, tz=TZ)
    deliver_due(vault, rec, later + timedelta(hours=1), CLINIC, tz=TZ)
    assert [body for _, body in rec.shown
            if "check-up" in body] == ["A check-up is due today. The app has the details."]
    assert vault.outbox.all() == []
    vault.close()
