"""The PrEP and doxy-PEP reminder rules, and where the patient's plan is kept in the vault.

The plan (:class:`~companion.core.prevention.PreventionPlan`) is the vault meta key
``prevention``: the patient's own entries, never queued to the clinic. The clinic's part is one
date on the patient's profile, ``prep_test_due`` (set on the desk, synced like the profile).

:func:`prevention_occasions` turns them into :class:`~.rules.Occasion` values for the one
planner (:func:`~.planner.plan_reminders` applies quiet hours, snoozes, catch-up and
fire-once to them as to every other reminder):

=============  ==========================================  ====================================
occasion       due                                         useful until
=============  ==========================================  ====================================
daily dose     the patient's time, each local day (not     12 h later (a dose taken late the
               paused); a day whose time was more than     same day still counts: the app
               15 min before the schedule was set is not   says so)
               owed
event dose     each 2-1-1 dose (core ``event_doses``)      4 h later
refill         10:00 local, 7 and 2 days before a daily    the end of the last day with a pill
               supply runs out
refill (2-1-1) when the count falls below one course (4    14 days later
               pills): at the count, or at the dose that
               takes it there (core ``event_supply``)
check-up       10:00 local, 7 days before the clinic's     the end of that day
               ``prep_test_due`` and on the day
doxy check-up  10:00 local, 3 months after the first       6 months after that dose (CDC: test
               doxy-PEP dose since the last test, when     every 3 to 6 months)
               the clinic set no date still ahead (core
               ``last_test``, ``doxy_test_due``)
doxy window    12 h and 60 h after logged sex no dose      72 h after the sex (never before 24
               covers yet, never before 24 h after the     h after the last dose: one dose in
               last dose                                   24 hours)
=============  ==========================================  ====================================

Ids carry what makes the schedule (the day and time, the course, the run-out day, the due date,
the event), so a changed schedule gets new ids and the old reminders stop being planned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import partial
from typing import TYPE_CHECKING

from ..config import ClinicProfile
from ..core.care_records import Result
from ..core.errors import RecordError, VaultError
from ..core.prevention import (
    DOXY_MIN_GAP,
    DOXY_TEST_AFTER,
    DOXY_TEST_UNTIL,
    DOXY_WINDOW,
    PreventionPlan,
    add_months,
    doxy_test_due,
    event_doses,
    event_supply,
    last_test,
    runs_out_on,
    uncovered_events,
)
from .prevention_wording import (
    check_up_text,
    daily_dose_text,
    doxy_window_text,
    event_dose_text,
    refill_low_text,
    refill_text,
)
from .rules import Occasion
from .settings import MetaStore
from .wording import Wording

if TYPE_CHECKING:
    from ..vault import Vault

__all__ = [
    "DAILY_GRACE",
    "EVENT_GRACE",
    "EVENT_REFILL_GRACE",
    "PREVENTION_KEY",
    "SET_GRACE",
    "doxy_check_up_of",
    "load_plan",
    "prevention_occasions",
    "sample_day",
    "save_plan",
    "test_due_of",
]

PREVENTION_KEY = "prevention"
DAILY_GRACE = timedelta(hours=12)
EVENT_GRACE = timedelta(hours=4)
SET_GRACE = timedelta(minutes=15)
EVENT_REFILL_GRACE = timedelta(days=14)
REFILL_DAYS = (7, 2)
CHECK_UP_DAYS = (7, 0)
DOXY_NUDGES = (timedelta(hours=12), timedelta(hours=60))
MORNING = time(10, 0)


def load_plan(meta: MetaStore) -> PreventionPlan:
    """The patient's plan (empty when never set); VaultError when the stored one is damaged."""
    try:
        return PreventionPlan.from_dict(meta.get(PREVENTION_KEY))
    except RecordError as exc:
        raise VaultError(f"{PREVENTION_KEY}: the PrEP and doxy-PEP plan is damaged ({exc})") from None


def save_plan(meta: MetaStore, plan: PreventionPlan) -> None:
    """Store the plan (validated by reading it back before it is written)."""
    data = plan.to_dict()
    PreventionPlan.from_dict(data)
    meta.set(PREVENTION_KEY, data)


def test_due_of(vault: Vault) -> date | None:
    """The clinic's next test date for this patient (profile ``prep_test_due``), if it set one."""
    profile = vault.profile.get()
    return profile.prep_test_due if profile is not None else None


def sample_day(result: Result, tz: tzinfo) -> date:
    """The day a result's sample was taken; older feeds lack it: the day it was released (tested then or before)."""
    return result.sample_taken or result.released_at.astimezone(tz).date()


def doxy_check_up_of(plan: PreventionPlan, test_due: date | None, results: Iterable[Result], today: date,
                     tz: tzinfo) -> date | None:
    """The doxy-PEP check-up day when the clinic set no test date still ahead (its own reminders cover
    that one), else None; see :func:`~companion.core.prevention.last_test` for what counts as the last test."""
    if test_due is not None and test_due >= today:
        return None
    return doxy_test_due(plan.doxy, last_test((sample_day(r, tz) for r in results), test_due, today), tz)


def _at(day: date, moment: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, moment, tzinfo=tz).astimezone(UTC)


def _fixed(word: Callable[[], Wording]) -> Callable[[datetime], Wording]:
    """A wording that does not depend on when it shows (worded when asked: in the language of then)."""
    return lambda _shown_at: word()


def _daily(plan: PreventionPlan, now: datetime, tz: tzinfo) -> Iterator[Occasion]:
    prep = plan.prep
    today = now.astimezone(tz).date()
    for offset in (-1, 0, 1):
        day = today + timedelta(days=offset)
        due = _at(day, prep.dose_time, tz)
        if prep.since is not None and due < prep.since - SET_GRACE:
            continue
        yield Occasion(id=f"prep:daily:{day.isoformat()}:{prep.dose_time:%H%M}", kind="prevention",
                       record_id="prep", due_at=due, expires_at=due + DAILY_GRACE, word=_fixed(daily_dose_text))


def _events(plan: PreventionPlan) -> Iterator[Occasion]:
    for dose in event_doses(plan.prep.events):
        yield Occasion(id=f"prep:event:{dose.key}:{dose.ordinal}", kind="prevention", record_id="prep",
                       due_at=dose.at, expires_at=dose.at + EVENT_GRACE, word=_fixed(event_dose_text))


def _refills(plan: PreventionPlan, tz: tzinfo) -> Iterator[Occasion]:
    supply = plan.prep.supply
    if supply is None or supply.pills <= 0:
        return
    out = runs_out_on(supply)
    counted = _at(supply.counted_on, time(0, 0), tz)
    until = _at(out, time(0, 0), tz)
    for days in REFILL_DAYS:
        due = _at(out - timedelta(days=days), MORNING, tz)
        if due < counted:
            if days != REFILL_DAYS[-1]:
                continue
            due = counted  # counted with less than the last lead left: say so at once
        yield Occasion(id=f"prep:refill:{out.isoformat()}:{days}d", kind="prevention", record_id="prep",
                       due_at=due, expires_at=until, word=_fixed(partial(refill_text, max(1, days))))


def _event_refill(plan: PreventionPlan, now: datetime) -> Iterator[Occasion]:
    supply = plan.prep.supply
    if supply is None:
        return
    low = event_supply(supply, event_doses(plan.prep.events), now)
    if low.low_at is None:
        return
    yield Occasion(id=f"prep:refill:event:{supply.counted_from:%Y%m%dT%H%M}:{supply.pills}", kind="prevention",
                   record_id="prep", due_at=low.low_at, expires_at=low.low_at + EVENT_REFILL_GRACE,
                   word=_fixed(refill_low_text))


def _doxy_check_up(due: date, tz: tzinfo, clinic: ClinicProfile) -> Iterator[Occasion]:
    first = add_months(due, -DOXY_TEST_AFTER)

    def word(shown_at: datetime) -> Wording:
        return check_up_text(due, shown_at.astimezone(tz).date(), clinic)

    yield Occasion(id=f"doxy:checkup:{due.isoformat()}", kind="prevention", record_id="checkup",
                   due_at=_at(due, MORNING, tz), expires_at=_at(add_months(first, DOXY_TEST_UNTIL), time(0, 0), tz),
                   word=word)


def _check_ups(test_due: date, tz: tzinfo, clinic: ClinicProfile) -> Iterator[Occasion]:
    end = _at(test_due + timedelta(days=1), time(0, 0), tz)
    for days in CHECK_UP_DAYS:
        due = _at(test_due - timedelta(days=days), MORNING, tz)

        def word(shown_at: datetime) -> Wording:
            return check_up_text(test_due, shown_at.astimezone(tz).date(), clinic)

        yield Occasion(id=f"prep:checkup:{test_due.isoformat()}:{days}d", kind="prevention", record_id="checkup",
                       due_at=due, expires_at=end, word=word)


def _doxy(plan: PreventionPlan) -> Iterator[Occasion]:
    last_dose = max((d.taken_at for d in plan.doxy.doses), default=None)
    for event in uncovered_events(plan.doxy):
        for after in DOXY_NUDGES:
            due = event.sex_at + after
            if last_dose is not None:
                due = max(due, last_dose + DOXY_MIN_GAP)
            if due < event.logged_at:  # the patient was in the app then: the screen said it
                continue
            yield Occasion(id=f"doxy:{event.id}:{int(after.total_seconds() // 3600)}h", kind="prevention",
                           record_id="doxy", due_at=due, expires_at=event.sex_at + DOXY_WINDOW,
                           word=_fixed(doxy_window_text))


def prevention_occasions(plan: PreventionPlan, test_due: date | None, now: datetime, tz: tzinfo,
                         clinic: ClinicProfile, results: Iterable[Result] = ()) -> Iterator[Occasion]:
    """Every PrEP and doxy-PEP occasion around ``now`` (see the module docstring); ``results`` are the
    released results in the vault (the last test, for the doxy-PEP check-up)."""
    if plan.prep.active:
        if plan.prep.mode == "daily":
            yield from _daily(plan, now, tz)
            yield from _refills(plan, tz)
        else:
            yield from _events(plan)
            yield from _event_refill(plan, now)
    if test_due is not None:
        yield from _check_ups(test_due, tz, clinic)
    doxy_due = doxy_check_up_of(plan, test_due, results, now.astimezone(tz).date(), tz)
    if doxy_due is not None:
        yield from _doxy_check_up(doxy_due, tz, clinic)
    yield from _doxy(plan)
