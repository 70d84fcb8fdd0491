"""PrEP and doxy-PEP reminders: the dosing limits, pausing, quiet hours, catch-up, fire-once, discretion."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from companion.config import ClinicProfile
from companion.core.errors import VaultError
from companion.core.models import Bill
from companion.core.prevention import (
    DoxyDose,
    DoxyPlan,
    PreventionPlan,
    SexEvent,
    Supply,
    doxy_refusal,
    event_doses,
)
from companion.reminders import RecordingNotifier, RecordSet, ReminderSettings, deliver_due, plan_reminders, triage
from companion.reminders.prevention import PREVENTION_KEY, load_plan, save_plan
from companion.vault import ScryptParams, Vault
from tests.fixtures.vault import VAULT_PASSCODE

TZ = ZoneInfo("America/New_York")
CLINIC = ClinicProfile(name="Riverside Sexual Health Clinic", discreet_name="Riverside Clinic")
# Tue 1 Dec 2026, 09:00 in New York
NINE = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
QUIET = ReminderSettings(quiet_hours=(time(22, 0), time(7, 0)))
NO_QUIET = ReminderSettings(quiet_hours=None)
# What a lock screen must never show for this care
TELLING = ("prep", "doxy", "hiv", "pill", "dose", "sex", "tablet", "antibiotic", "riverside sexual")


def daily(at: str = "09:00", *, since: datetime = NINE - timedelta(days=3), paused: bool = False) -> PreventionPlan:
    return PreventionPlan().with_prep(mode="daily", dose_time=time.fromisoformat(at), since=since, paused=paused)


def plan(prevention: PreventionPlan, now: datetime, settings: ReminderSettings = NO_QUIET,
         delivered: frozenset[str] = frozenset(), test_due: date | None = None) -> list[tuple[str, datetime]]:
    """``(id, fire_at)`` of what the one planner plans for the PrEP / doxy-PEP entries."""
    reminders = plan_reminders(RecordSet(prevention=prevention, test_due=test_due), settings, now, delivered,
                               tz=TZ, clinic=CLINIC)
    for r in reminders:
        assert not any(word in f"{r.title} {r.body}".lower() for word in TELLING), (r.title, r.body)
        assert r.discreet
    return [(r.id, r.fire_at) for r in reminders if r.expires_at > now]


def due_now(prevention: PreventionPlan, now: datetime, **kw: object) -> list[str]:
    reminders = plan_reminders(RecordSet(prevention=prevention), kw.get("settings", NO_QUIET),  # type: ignore[arg-type]
                               now, frozenset(), tz=TZ, clinic=CLINIC)
    return [r.id for r in triage(reminders, now)[0]]


# --- daily PrEP -----------------------------------------------------------------------------


def test_daily_reminder_is_due_at_the_patients_time_each_day() -> None:
    planned = plan(daily("09:00"), NINE - timedelta(hours=1))
    assert planned[:2] == [("prep:daily:2026-12-01:0900", NINE),
                           ("prep:daily:2026-12-02:0900", NINE + timedelta(days=1))]
    assert due_now(daily("09:00"), NINE - timedelta(minutes=1)) == []
    assert due_now(daily("09:00"), NINE) == ["prep:daily:2026-12-01:0900"]


def test_paused_reminders_plan_nothing_and_resume_the_next_time() -> None:
    assert plan(daily(paused=True), NINE) == []
    resumed = daily(since=NINE + timedelta(hours=2))  # resumed at 11:00: today's 09:00 is not owed any more
    assert [rid for rid, _ in plan(resumed, NINE + timedelta(hours=2))] == ["prep:daily:2026-12-02:0900"]


def test_a_time_set_just_after_it_passed_fires_now_and_one_set_later_waits_for_tomorrow() -> None:
    set_at = NINE + timedelta(minutes=10)
    assert due_now(daily(since=set_at), set_at) == ["prep:daily:2026-12-01:0900"]
    set_later = NINE + timedelta(minutes=16)
    assert due_now(daily(since=set_later), set_later) == []


def test_quiet_hours_hold_a_late_evening_time_until_the_morning() -> None:
    at_23 = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)  # 23:00 in New York on 1 Dec
    planned = dict(plan(daily("23:00"), at_23 - timedelta(hours=1), QUIET))
    assert planned["prep:daily:2026-12-01:2300"] == datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # 07:00 next morning
    assert due_now(daily("23:00"), at_23, settings=QUIET) == []
    assert due_now(daily("23:00"), at_23, settings=NO_QUIET) == ["prep:daily:2026-12-01:2300"]


def test_catch_up_after_the_app_was_closed_once_if_still_useful_else_dropped() -> None:
    four_hours_late = NINE + timedelta(hours=4)
    assert due_now(daily(), four_hours_late) == ["prep:daily:2026-12-01:0900"]
    reminders = plan_reminders(RecordSet(prevention=daily()), NO_QUIET, NINE + timedelta(hours=13), frozenset(),
                               tz=TZ, clinic=CLINIC)
    show, drop = triage(reminders, NINE + timedelta(hours=13))
    assert "prep:daily:2026-12-01:0900" in [r.id for r in drop]
    assert "prep:daily:2026-12-01:0900" not in [r.id for r in show]


def test_refill_reminders_from_the_supply_the_patient_counted() -> None:
    counted = daily(since=NINE).with_prep(supply=Supply(pills=30, counted_on=date(2026, 12, 1)))
    ids = [rid for rid, _ in plan(counted, NINE) if "refill" in rid]
    assert ids == ["prep:refill:2026-12-31:7d", "prep:refill:2026-12-31:2d"]
    almost_out = daily(since=NINE).with_prep(supply=Supply(pills=1, counted_on=date(2026, 12, 1)))
    assert "prep:refill:2026-12-02:2d" in due_now(almost_out, NINE)


def test_the_clinics_check_up_date_reminds_a_week_before_and_on_the_day() -> None:
    ids = [rid for rid, _ in plan(PreventionPlan(), NINE, test_due=date(2026, 12, 20))]
    assert ids == ["prep:checkup:2026-12-20:7d", "prep:checkup:2026-12-20:0d"]
    texts = plan_reminders(RecordSet(test_due=date(2026, 12, 20)), NO_QUIET, NINE, frozenset(), tz=TZ, clinic=CLINIC)
    assert texts[0].body == "A check-up is due on Sun 20 Dec. The app has the details."


# --- event-based PrEP (2-1-1) ---------------------------------------------------------------


def test_two_one_one_doses_around_one_event() -> None:
    sex = NINE + timedelta(days=2)
    doses = event_doses([SexEvent("e1", sex, NINE)])
    assert [(d.at - sex, d.pills) for d in doses] == [(timedelta(hours=-24), 2), (timedelta(0), 1),
                                                      (timedelta(hours=24), 1)]


def test_two_one_one_continues_while_sex_goes_on_and_restarts_after_a_break() -> None:
    sex = NINE + timedelta(days=2)
    again = [SexEvent("e1", sex, NINE), SexEvent("e2", sex + timedelta(hours=20), NINE)]
    assert [d.at - sex for d in event_doses(again)] == [timedelta(hours=h) for h in (-24, 0, 24, 48)]
    later = [SexEvent("e1", sex, NINE), SexEvent("e2", sex + timedelta(days=5), NINE)]
    doses = event_doses(later)
    assert [d.pills for d in doses] == [2, 1, 1, 2, 1, 1]


def test_two_one_one_logged_late_starts_at_once() -> None:
    sex = NINE + timedelta(hours=5)
    first = event_doses([SexEvent("e1", sex, NINE)])[0]
    assert (first.at, first.pills) == (NINE, 2)
    prevention = PreventionPlan().with_prep(mode="event", events=(SexEvent("e1", sex, NINE),), since=NINE)
    assert due_now(prevention, NINE) == [f"prep:event:{first.key}:0"]
    assert due_now(prevention.with_prep(paused=True), NINE) == []


# --- doxy-PEP -------------------------------------------------------------------------------


def test_doxy_dose_within_72_hours_after_sex_is_allowed() -> None:
    log = DoxyPlan(events=(SexEvent("s1", NINE, NINE),))
    assert doxy_refusal(log, NINE + timedelta(hours=71), NINE + timedelta(hours=71)) is None


def test_doxy_dose_later_than_72_hours_or_without_logged_sex_is_refused() -> None:
    log = DoxyPlan(events=(SexEvent("s1", NINE, NINE),))
    late = NINE + timedelta(hours=73)
    refusal = doxy_refusal(log, late, late)
    assert refusal is not None and refusal.rule == "late"
    alone = doxy_refusal(DoxyPlan(), NINE, NINE)
    assert alone is not None and alone.rule == "no_sex"
    ahead = doxy_refusal(log, NINE + timedelta(hours=1), NINE)
    assert ahead is not None and ahead.rule == "future"


def test_doxy_at_most_one_dose_in_24_hours() -> None:
    log = DoxyPlan(events=(SexEvent("s1", NINE, NINE), SexEvent("s2", NINE + timedelta(hours=10), NINE)),
                   doses=(DoxyDose("d1", NINE + timedelta(hours=2)),))
    second = NINE + timedelta(hours=12)
    refusal = doxy_refusal(log, second, second)
    assert refusal is not None and refusal.rule == "gap"
    assert refusal.next_from == NINE + timedelta(hours=26)
    assert doxy_refusal(log, NINE + timedelta(hours=26), NINE + timedelta(hours=26)) is None


def test_doxy_reminder_window_after_logged_sex_until_a_dose_covers_it() -> None:
    sex = NINE - timedelta(hours=1)
    log = PreventionPlan().with_doxy(events=(SexEvent("s1", sex, NINE),))
    assert plan(log, NINE) == [("doxy:s1:12h", sex + timedelta(hours=12)), ("doxy:s1:60h", sex + timedelta(hours=60))]
    assert plan(log, sex + timedelta(hours=72)) == []  # the window closed: nothing more to say
    dosed = log.with_doxy(doses=(DoxyDose("d1", NINE + timedelta(hours=1)),))
    assert [rid for rid, _ in plan(dosed, NINE + timedelta(hours=2))] == ["doxy:checkup:2027-03-01"]  # testing only


def test_doxy_reminder_never_asks_for_a_second_dose_within_24_hours() -> None:
    dose = NINE
    sex = NINE + timedelta(hours=2)  # after the last dose: that dose does not cover it
    log = PreventionPlan().with_doxy(events=(SexEvent("s1", sex, sex),), doses=(DoxyDose("d1", dose),))
    planned = dict(plan(log, sex))
    assert planned["doxy:s1:12h"] == dose + timedelta(hours=24)


# --- in the vault ---------------------------------------------------------------------------


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    return Vault.create(tmp_path / "vault", VAULT_PASSCODE, kdf=ScryptParams.fast())


def test_delivered_once_across_restarts_and_nothing_queued_for_the_clinic(vault: Vault, tmp_path: Path) -> None:
    rec = RecordingNotifier()
    save_plan(vault.meta, daily())
    deliver_due(vault, rec, NINE + timedelta(hours=1), CLINIC, tz=TZ)
    deliver_due(vault, rec, NINE + timedelta(hours=2), CLINIC, tz=TZ)
    assert rec.shown == [("Your daily reminder", "It's that time of day. The app has the details.")]
    assert vault.outbox.all() == []
    vault.close()
    with Vault.open(tmp_path / "vault", VAULT_PASSCODE) as again:
        deliver_due(again, rec, NINE + timedelta(hours=3), CLINIC, tz=TZ)
        assert load_plan(again.meta) == daily()
    assert len(rec.shown) == 1
    on_disk = b"".join(p.read_bytes() for p in (tmp_path / "vault").rglob("*") if p.is_file())
    assert b"dose_time" not in on_disk and b"daily" not in on_disk  # sealed in the vault like every record


def test_a_damaged_plan_does_not_silence_other_reminders(vault: Vault) -> None:
    vault.meta.set(PREVENTION_KEY, {"prep": {"mode": "weekly", "dose_time": "09:00"}})
    with pytest.raises(VaultError, match="prevention: the PrEP and doxy-PEP plan is damaged"):
        load_plan(vault.meta)
    vault.bills.upsert(Bill(id="b1", description="Lab fee", total_cents=4500, insurance_paid_cents=0,
                            patient_cents=4500, status="open", due=date(2026, 12, 1)))
    rec = RecordingNotifier()
    deliver_due(vault, rec, NINE, CLINIC, tz=TZ)
    assert [title for title, _ in rec.shown] == ["Reminder from Riverside Clinic"]
    vault.close()
