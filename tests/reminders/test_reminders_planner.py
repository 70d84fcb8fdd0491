"""Properties of the pure reminder planner (hypothesis): once, quiet, discreet, reschedule, cancel."""

from __future__ import annotations

import string
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from companion.config import ClinicProfile
from companion.core.models import Appointment, Bill, Message, PrepStep, Result
from companion.reminders import (
    RecordSet,
    Reminder,
    ReminderSettings,
    compose_notices,
    plan_reminders,
    triage,
)

CLINIC = ClinicProfile(name="Riverside Sexual Health Clinic", discreet_name="Riverside Clinic")
ZONES = [ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin"), ZoneInfo("Australia/Lord_Howe"), ZoneInfo("UTC")]
# Around the 2026 DST changes of New York and Berlin, and a quiet week.
ANCHORS = [datetime(2026, 3, 8, 5, tzinfo=UTC), datetime(2026, 3, 29, 0, tzinfo=UTC),
           datetime(2026, 10, 25, 0, tzinfo=UTC), datetime(2026, 11, 1, 5, tzinfo=UTC),
           datetime(2026, 6, 10, 12, tzinfo=UTC)]
STATUSES = ("requested", "scheduled", "confirmed", "checked_in", "completed", "cancelled", "no_show")

minutes = st.integers(min_value=-2 * 1440, max_value=5 * 1440)
clock_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@st.composite
def quiet_windows(draw: st.DrawFn) -> tuple[time, time] | None:
    if draw(st.booleans()) and draw(st.booleans()):
        return None
    start, end = draw(clock_times), draw(clock_times)
    return None if start == end else (start, end)


@st.composite
def reminder_settings(draw: st.DrawFn) -> ReminderSettings:
    leads = draw(st.lists(st.sampled_from([10, 30, 120, 720, 1440, 2880]), min_size=1, max_size=3, unique=True))
    return ReminderSettings(
        leads_minutes=tuple(sorted(leads, reverse=True)),
        bill_days_before=draw(st.integers(0, 5)),
        quiet_hours=draw(quiet_windows()),
        discreet=draw(st.booleans()),
    )


@st.composite
def records(draw: st.DrawFn, now: datetime, words: list[str] | None = None) -> RecordSet:
    """Records around ``now``; ``words`` (sentinels) go into every free-text field when given."""
    def text(default: str) -> str:
        return " ".join(words) if words else default

    force_sensitive = words is not None
    appts = []
    for i in range(draw(st.integers(0, 4))):
        appts.append(Appointment(
            id=f"a{i}", start=now + timedelta(minutes=draw(minutes)), minutes=30, visit_kind=text("Check-up"),
            status=draw(st.sampled_from(STATUSES)), location=text("Room 2"), provider=text("Dr Lee"),
            what_to_bring=text("ID"), note=text("note"), sensitive=force_sensitive or draw(st.booleans()),
            sequence=draw(st.integers(0, 3)),
        ))
    prep = [PrepStep(id=f"p{i}", appointment_id=a.id, title=text("Stop eating"), body=text("No food"),
                     before_minutes=draw(st.sampled_from([0, 60, 180, 720, 1440])))
            for i, a in enumerate(appts) if draw(st.booleans())]
    bills = [Bill(id=f"b{i}", description=text("Lab fee"), total_cents=5000, insurance_paid_cents=0,
                  patient_cents=draw(st.integers(0, 9000)), status=draw(st.sampled_from(["open", "paid", "open"])),
                  due=(now + timedelta(minutes=draw(minutes))).date())
             for i in range(draw(st.integers(0, 2)))]
    messages = [Message(id=f"m{i}", thread="general", author=draw(st.sampled_from(["clinic", "patient"])),
                        body=text("Hello"), sent_at=now + timedelta(minutes=draw(minutes)), author_name=text("Sam"))
                for i in range(draw(st.integers(0, 3)))]
    results = [Result(id=f"r{i}", test=text("Cholesterol"), interpretation=draw(st.sampled_from(
        ["negative", "positive", "indeterminate"])), released_at=now + timedelta(minutes=draw(minutes)),
        value=text("4.2"), note=text("fine"), sensitive=force_sensitive or draw(st.booleans()))
        for i in range(draw(st.integers(0, 3)))]
    return RecordSet(tuple(appts), tuple(prep), tuple(bills), tuple(results), tuple(messages))


def plan(recs: RecordSet, cfg: ReminderSettings, now: datetime, tz: tzinfo, delivered: Any = ()) -> list[Reminder]:
    return plan_reminders(recs, cfg, now, set(delivered), tz=tz, clinic=CLINIC)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[RecordSet, ReminderSettings, datetime, tzinfo]:
    now = draw(st.sampled_from(ANCHORS)) + timedelta(minutes=draw(st.integers(-1440, 1440)))
    return draw(records(now)), draw(reminder_settings()), now, draw(st.sampled_from(ZONES))


FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(scenarios())
def test_fire_times_respect_now_and_quiet_hours_unless_useless(scenario: Any) -> None:
    recs, cfg, now, tz = scenario
    quiet = cfg.quiet(tz)
    for r in plan(recs, cfg, now, tz):
        earliest = max(r.due_at, now)
        assert r.fire_at >= earliest
        if quiet is None:
            assert r.fire_at == earliest
            continue
        if quiet.is_quiet(r.fire_at):
            # allowed only when waiting for the end of quiet hours would make it useless
            assert r.fire_at == earliest and quiet.end_of_quiet(earliest) >= r.expires_at, r
        else:
            assert r.fire_at in (earliest, quiet.end_of_quiet(earliest))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.lists(st.integers(5, 240), min_size=10, max_size=60))
def test_each_reminder_fires_at_most_once_and_only_while_useful(scenario: Any, steps: list[int]) -> None:
    """Run the app's loop over days with random wake-ups: no id shows twice, nothing shows expired."""
    recs, cfg, now, tz = scenario
    delivered: dict[str, str] = {}
    for step in steps:
        show, drop = triage(plan(recs, cfg, now, tz, delivered), now)
        for r in show:
            assert r.id not in delivered
            assert r.fire_at <= now < r.expires_at
            delivered[r.id] = "shown"
        for r in drop:
            assert r.id not in delivered
            delivered[r.id] = "dropped"
        assert len({n for notice in compose_notices(show, CLINIC) for n in notice.reminder_ids}) == len(show)
        now += timedelta(minutes=step)


sentinels = st.lists(st.text(string.ascii_uppercase, min_size=5, max_size=10).map(lambda s: f"QX{s}"),
                     min_size=1, max_size=3, unique=True)


@FAST
@given(st.data(), sentinels, reminder_settings(), st.sampled_from(ZONES))
def test_discreet_text_of_sensitive_records_never_contains_their_words(
    data: st.DataObject, words: list[str], cfg: ReminderSettings, tz: tzinfo
) -> None:
    now = data.draw(st.sampled_from(ANCHORS))
    recs = data.draw(records(now, words))
    cfg = replace(cfg, discreet=False)  # sensitive records stay discreet even with discreet mode off
    reminders = plan(recs, cfg, now, tz)
    notices = compose_notices(reminders, CLINIC)
    texts = [(r.kind, f"{r.title} {r.body}") for r in reminders] + [(n.kind, f"{n.title} {n.body}") for n in notices]
    for kind, shown in texts:
        for word in words:
            assert word.lower() not in shown.lower()
        if kind != "bill":  # bills carry no sensitivity flag; their free text is never shown anyway
            assert "Sexual Health" not in shown, "the clinic's full name is not used for sensitive records"


@FAST
@given(scenarios(), st.integers(60, 3 * 1440))
def test_reschedule_replaces_and_cancel_drops(scenario: Any, shift: int) -> None:
    recs, cfg, now, tz = scenario
    if not recs.appointments:
        return
    target = recs.appointments[0]
    before = plan(recs, cfg, now, tz)
    old_ids = {r.id for r in before if target.id in r.id or _prep_of(recs, target, r)}
    show, _ = triage(before, now)
    delivered = {r.id for r in show}

    moved = replace(target, start=target.start + timedelta(minutes=shift), sequence=target.sequence + 1,
                    status="scheduled")
    after = plan(replace(recs, appointments=(moved, *recs.appointments[1:])), cfg, now, tz, delivered)
    new_ids = {r.id for r in after if r.record_id == moved.id or _prep_of(recs, moved, r)}
    assert not old_ids & new_ids, "a reschedule must give new reminder ids"
    if moved.start - timedelta(minutes=max(cfg.leads_minutes)) > now:
        assert any(r.record_id == moved.id for r in after), "the moved appointment must remind"

    cancelled = replace(target, status="cancelled")
    left = plan(replace(recs, appointments=(cancelled, *recs.appointments[1:])), cfg, now, tz)
    assert not [r for r in left if r.record_id == target.id or _prep_of(recs, target, r)]


def _prep_of(recs: RecordSet, appt: Appointment, r: Reminder) -> bool:
    return r.kind == "prep" and any(p.id == r.record_id and p.appointment_id == appt.id for p in recs.prep)


def test_example_wording_in_local_time() -> None:
    tz = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # 10:00 CEST, the day after the spring change
    appt = Appointment(id="a", start=start, minutes=30, visit_kind="HIV test", sensitive=True)
    cfg = ReminderSettings(leads_minutes=(1440, 120), quiet_hours=None)
    out = plan(RecordSet(appointments=(appt,)), cfg, start - timedelta(days=3), tz)
    assert [(r.title, r.body) for r in out] == [
        ("Reminder from Riverside Clinic", "Appointment tomorrow at 10:00."),
        ("Reminder from Riverside Clinic", "Appointment today at 10:00."),
    ]
    assert out[0].fire_at == start - timedelta(hours=24)


def test_missed_reminder_fires_once_at_next_start_if_useful_else_dropped() -> None:
    tz = ZoneInfo("UTC")
    start = datetime(2026, 6, 10, 15, 0, tzinfo=UTC)
    appt = Appointment(id="a", start=start, minutes=30, visit_kind="Check-up")
    cfg = ReminderSettings(leads_minutes=(1440, 120), quiet_hours=None)
    recs = RecordSet(appointments=(appt,))
    opened = start - timedelta(hours=1)  # app closed through both lead times
    show, drop = triage(plan(recs, cfg, opened, tz), opened)
    assert [r.id.split(":")[2] for r in show] == ["lead120m"]
    assert [r.id.split(":")[2] for r in drop] == ["lead1440m"]


def test_new_messages_and_results_fold_into_one_notice_each() -> None:
    now = datetime(2026, 6, 10, 12, tzinfo=UTC)
    msgs = tuple(Message(id=f"m{i}", thread="general", author="clinic", body="x", sent_at=now) for i in range(3))
    res = tuple(Result(id=f"r{i}", test="HIV", interpretation="negative", released_at=now, sensitive=i == 0)
                for i in range(2))
    cfg = ReminderSettings(quiet_hours=None, discreet=False)
    show, _ = triage(plan(RecordSet(messages=msgs, results=res), cfg, now, ZoneInfo("UTC")), now)
    notices = compose_notices(show, CLINIC)
    assert [(n.kind, n.body, len(n.reminder_ids)) for n in notices] == [
        ("message", "You have 3 new messages. Open the app to read them.", 3),
        ("result", "There are 2 updates for you in the app.", 2),
    ]


def test_bills_remind_before_and_on_the_due_day_at_ten_local() -> None:
    tz = ZoneInfo("America/New_York")
    bill = Bill(id="b", description="HIV panel", total_cents=100, insurance_paid_cents=0, patient_cents=4500,
                due=date(2026, 3, 10))
    cfg = ReminderSettings(bill_days_before=3, quiet_hours=None, discreet=False)
    out = plan(RecordSet(bills=(bill,)), cfg, datetime(2026, 3, 1, tzinfo=UTC), tz)
    assert [r.fire_at.astimezone(tz).strftime("%d %H:%M %Z") for r in out] == ["07 10:00 EST", "10 10:00 EDT"]
    assert [r.body for r in out] == ["A payment of $45.00 is due in 3 days (Tue 10 Mar).",
                                     "A payment of $45.00 is due today."]
    assert all("HIV" not in r.body for r in out)
