"""PrEP and doxy-PEP: what the patient records, and the dosing rules it must keep. Standard library only.

Everything here is the patient's own entry and lives in the vault (meta key ``prevention``):
it is never queued to the clinic. One :class:`PreventionPlan` holds it::

    {"prep": {"mode": "daily" | "event" | "off", "dose_time": "09:00", "paused": false,
              "since": ISO, "events": [{"id": …, "sex_at": ISO, "logged_at": ISO}],
              "supply": {"pills": 30, "counted_on": "2026-12-01", "counted_at": ISO}},
     "doxy": {"events": [{"id": …, "sex_at": ISO, "logged_at": ISO}],
              "doses": [{"id": …, "taken_at": ISO}]}}

The rules (:func:`doxy_refusal`, :func:`event_doses`, :func:`runs_out_on`) are pure
functions of the plan and a time, used by the reminder rules, the app's intents and the tests:

- doxy-PEP (CDC 2024): one 200 mg dose as soon as possible, within 72 hours after sex, and at
  most one dose in any 24 hours (several encounters in a day share one dose). A dose later
  than 72 hours after sex, or within 24 hours of the last dose, is refused: the refusal says
  which limit (the app words it, with what to do instead).
- event-based PrEP ("2-1-1"): two pills 2 to 24 hours before sex, one pill 24 hours after the
  first dose and one 24 hours after that; sex again while a course runs continues it with one
  pill a day until two daily doses after the last sex.
- daily PrEP supply: the pills counted on a day last that many days.
- event-based supply: the count goes down by each 2-1-1 dose due after it was made
  (:func:`event_supply`); fewer than :data:`COURSE_PILLS` left is "time to refill".
- doxy-PEP testing (CDC 2024: every 3 to 6 months while using it): with no test date from the
  clinic, a check-up is due :data:`DOXY_TEST_AFTER` months after the first dose taken on or after
  the patient's last test (:func:`doxy_test_due`; what counts as that test: :func:`last_test`).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from .errors import RecordError
from .fields import get_bool, get_choice, get_date, get_datetime, get_int, get_str, iso, opt_datetime, require_mapping

__all__ = [
    "COURSE_PILLS",
    "DOXY_MIN_GAP",
    "DOXY_TEST_AFTER",
    "DOXY_TEST_UNTIL",
    "DOXY_WINDOW",
    "EVENT_LOAD_BEFORE",
    "MAX_ENTRIES",
    "PREP_MODES",
    "DoxyDose",
    "DoxyPlan",
    "PlannedDose",
    "PrepPlan",
    "PreventionPlan",
    "SexEvent",
    "Supply",
    "DoseRefusal",
    "EventSupply",
    "add_months",
    "doxy_refusal",
    "doxy_test_due",
    "event_supply",
    "last_test",
    "event_doses",
    "parse_dose_time",
    "runs_out_on",
    "uncovered_events",
]

DOXY_WINDOW = timedelta(hours=72)
DOXY_MIN_GAP = timedelta(hours=24)
EVENT_LOAD_BEFORE = (timedelta(hours=24), timedelta(hours=2))  # the double dose: 24 h to 2 h before sex
PREP_MODES = ("off", "daily", "event")
COURSE_PILLS = 4  # the shortest 2-1-1 course: 2 + 1 + 1
DOXY_TEST_AFTER = 3  # months from the first doxy-PEP dose since the last test to the next check-up
DOXY_TEST_UNTIL = 6  # ... and the check-up is still worth a reminder until this many months after it
MAX_ENTRIES = 200  # log entries kept per list: the oldest go first (a year of weekly entries and more)


def parse_dose_time(text: str, where: str = "prep.dose_time") -> time:
    """``"09:00"`` -> 09:00; a clear error for anything else."""
    hh, colon, mm = text.strip().partition(":")
    if not colon or not (hh.isdigit() and mm.isdigit() and len(mm) == 2 and 1 <= len(hh) <= 2):
        raise RecordError(where, f"expected a time like 09:00, got {text!r}")
    hour, minute = int(hh), int(mm)
    if hour > 23 or minute > 59:
        raise RecordError(where, f"expected a time like 09:00, got {text!r}")
    return time(hour, minute)


@dataclass(frozen=True, slots=True)
class SexEvent:
    """Sex the patient logged (for event-based PrEP: planned; for doxy-PEP: had). ``logged_at`` is when."""

    id: str
    sex_at: datetime
    logged_at: datetime

    @classmethod
    def from_dict(cls, data: Any, path: str) -> SexEvent:
        d = require_mapping(data, path)
        return cls(id=get_str(d, "id", path, max_len=64), sex_at=get_datetime(d, "sex_at", path),
                   logged_at=get_datetime(d, "logged_at", path))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "sex_at": iso(self.sex_at), "logged_at": iso(self.logged_at)}


@dataclass(frozen=True, slots=True)
class DoxyDose:
    id: str
    taken_at: datetime

    @classmethod
    def from_dict(cls, data: Any, path: str) -> DoxyDose:
        d = require_mapping(data, path)
        return cls(id=get_str(d, "id", path, max_len=64), taken_at=get_datetime(d, "taken_at", path))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "taken_at": iso(self.taken_at)}


@dataclass(frozen=True, slots=True)
class Supply:
    """``pills`` counted on ``counted_on`` (the patient's own count), at ``counted_at`` (older plans lack it)."""

    pills: int
    counted_on: date
    counted_at: datetime | None = None

    @classmethod
    def from_dict(cls, data: Any, path: str) -> Supply:
        d = require_mapping(data, path)
        return cls(pills=get_int(d, "pills", path, minimum=0, maximum=1000), counted_on=get_date(d, "counted_on", path),
                   counted_at=opt_datetime(d, "counted_at", path))

    def to_dict(self) -> dict[str, Any]:
        return {"pills": self.pills, "counted_on": self.counted_on.isoformat(), "counted_at": iso(self.counted_at)}

    @property
    def counted_from(self) -> datetime:
        """When the count was made: without the moment, the start of its day (UTC), so a dose that
        day counts as taken from it (a refill reminder comes early rather than late)."""
        return self.counted_at or datetime.combine(self.counted_on, time.min, tzinfo=UTC)


def _list(d: Mapping[str, Any], key: str, path: str) -> list[Any]:
    value = d.get(key, [])
    if not isinstance(value, list):
        raise RecordError(f"{path}.{key}", "expected a list")
    return value


@dataclass(frozen=True, slots=True)
class PrepPlan:
    mode: str = "off"
    dose_time: time = time(9, 0)
    paused: bool = False
    since: datetime | None = None  # when the schedule was last set (a day's reminder before it is not owed)
    events: tuple[SexEvent, ...] = ()
    supply: Supply | None = None

    @classmethod
    def from_dict(cls, data: Any, path: str = "prep") -> PrepPlan:
        d = require_mapping(data, path)
        supply = d.get("supply")
        return cls(
            mode=get_choice(d, "mode", PREP_MODES, path),
            dose_time=parse_dose_time(get_str(d, "dose_time", path, max_len=5), f"{path}.dose_time"),
            paused=get_bool(d, "paused", path, default=False),
            since=opt_datetime(d, "since", path),
            events=tuple(SexEvent.from_dict(e, f"{path}.events[{i}]") for i, e in enumerate(_list(d, "events", path))),
            supply=None if supply is None else Supply.from_dict(supply, f"{path}.supply"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "dose_time": f"{self.dose_time:%H:%M}", "paused": self.paused,
                "since": iso(self.since), "events": [e.to_dict() for e in self.events],
                "supply": None if self.supply is None else self.supply.to_dict()}

    @property
    def active(self) -> bool:
        return self.mode != "off" and not self.paused


@dataclass(frozen=True, slots=True)
class DoxyPlan:
    events: tuple[SexEvent, ...] = ()
    doses: tuple[DoxyDose, ...] = ()

    @classmethod
    def from_dict(cls, data: Any, path: str = "doxy") -> DoxyPlan:
        d = require_mapping(data, path)
        return cls(
            events=tuple(SexEvent.from_dict(e, f"{path}.events[{i}]") for i, e in enumerate(_list(d, "events", path))),
            doses=tuple(DoxyDose.from_dict(e, f"{path}.doses[{i}]") for i, e in enumerate(_list(d, "doses", path))),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"events": [e.to_dict() for e in self.events], "doses": [x.to_dict() for x in self.doses]}


@dataclass(frozen=True, slots=True)
class PreventionPlan:
    prep: PrepPlan = field(default_factory=PrepPlan)
    doxy: DoxyPlan = field(default_factory=DoxyPlan)

    @classmethod
    def from_dict(cls, data: Any, path: str = "prevention") -> PreventionPlan:
        if data is None:
            return cls()
        d = require_mapping(data, path)
        return cls(prep=PrepPlan.from_dict(d.get("prep") or {"mode": "off", "dose_time": "09:00"}, f"{path}.prep"),
                   doxy=DoxyPlan.from_dict(d.get("doxy") or {}, f"{path}.doxy"))

    def to_dict(self) -> dict[str, Any]:
        return {"prep": self.prep.to_dict(), "doxy": self.doxy.to_dict()}

    def with_prep(self, **changes: Any) -> PreventionPlan:
        return replace(self, prep=replace(self.prep, **changes))

    def with_doxy(self, **changes: Any) -> PreventionPlan:
        return replace(self, doxy=replace(self.doxy, **changes))


# --- doxy-PEP ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DoseRefusal:
    """Why a doxy-PEP dose is refused: ``rule`` is ``future``, ``gap`` (``last`` dose, ``next_from``),
    ``late`` (more than 72 hours after sex) or ``no_sex`` (no logged sex in the 72 hours before it)."""

    rule: str
    last: datetime | None = None
    next_from: datetime | None = None


def doxy_refusal(plan: DoxyPlan, taken_at: datetime, now: datetime) -> DoseRefusal | None:
    """The doxy-PEP rule a dose at ``taken_at`` breaks, or None when it may be logged.

    - not in the future (more than five minutes ahead of ``now``);
    - at most one dose in 24 hours (one dose covers all sex in the 72 hours before it);
    - within 72 hours after sex the patient logged: later it no longer works (``late``); with
      no logged sex before it, it protects nothing and the log would mislead (``no_sex``).
    """
    if taken_at > now + timedelta(minutes=5):
        return DoseRefusal("future")
    for dose in sorted(plan.doses, key=lambda d: d.taken_at, reverse=True):
        if abs(dose.taken_at - taken_at) < DOXY_MIN_GAP:
            return DoseRefusal("gap", last=dose.taken_at, next_from=dose.taken_at + DOXY_MIN_GAP)
    if any(e.sex_at <= taken_at <= e.sex_at + DOXY_WINDOW for e in plan.events):
        return None
    if any(e.sex_at + DOXY_WINDOW < taken_at <= e.sex_at + timedelta(days=14) for e in plan.events):
        return DoseRefusal("late")
    return DoseRefusal("no_sex")


def uncovered_events(plan: DoxyPlan) -> list[SexEvent]:
    """Logged sex no dose covers yet (no dose in the 72 hours after it), oldest first."""
    return sorted((e for e in plan.events
                   if not any(e.sex_at <= d.taken_at <= e.sex_at + DOXY_WINDOW for d in plan.doses)),
                  key=lambda e: e.sex_at)


# --- PrEP ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedDose:
    """One dose of an event-based course: ``pills`` at ``at``; ``key`` is stable for the course."""

    key: str
    at: datetime
    pills: int
    ordinal: int  # 0 = the double dose before sex


def event_doses(events: Sequence[SexEvent]) -> list[PlannedDose]:
    """The 2-1-1 doses the logged events call for, in time order.

    A course starts with two pills 24 hours before sex, or at once when the patient logged it
    later than that (at least 2 hours before sex is what protects; the screen says so). Its
    daily pills follow 24 and 48 hours later; sex again before the course's last pill moves
    the last pill to two days after that sex. Sex after a course ended starts a new course.
    """
    doses: list[PlannedDose] = []
    course_start: datetime | None = None
    last: datetime | None = None
    for event in sorted(events, key=lambda e: e.sex_at):
        if course_start is None or last is None or event.sex_at > last:
            if course_start is not None and last is not None:
                doses.extend(_course(course_start, last))
            course_start = max(event.sex_at - EVENT_LOAD_BEFORE[0], event.logged_at)
            last = course_start + timedelta(hours=48)
        # two daily pills after this sex: the first daily pill at or after it, and one more
        k = 1
        while course_start + timedelta(hours=24 * k) < event.sex_at:
            k += 1
        last = max(last, course_start + timedelta(hours=24 * (k + 1)))
    if course_start is not None and last is not None:
        doses.extend(_course(course_start, last))
    return doses


def _course(start: datetime, last: datetime) -> list[PlannedDose]:
    key = start.strftime("%Y%m%dT%H%M%S")
    out = [PlannedDose(key, start, 2, 0)]
    k = 1
    while start + timedelta(hours=24 * k) <= last:
        out.append(PlannedDose(key, start + timedelta(hours=24 * k), 1, k))
        k += 1
    return out


def runs_out_on(supply: Supply) -> date:
    """The day a daily supply runs out (the first day with no pill left)."""
    return supply.counted_on + timedelta(days=supply.pills)


@dataclass(frozen=True, slots=True)
class EventSupply:
    """An event-based supply at a moment: ``left`` now, ``after_planned`` once every planned dose is
    taken (below zero: the planned doses need more than the count), and ``low_at`` / ``low_left``:
    when the count falls below one course (:data:`COURSE_PILLS`), with what is left then."""

    left: int
    after_planned: int
    low_at: datetime | None
    low_left: int | None


def event_supply(supply: Supply, doses: Sequence[PlannedDose], now: datetime) -> EventSupply:
    """The count of ``supply`` less the pills of each 2-1-1 dose due after it was made."""
    start = supply.counted_from
    left = after = supply.pills
    low_at, low_left = (start, supply.pills) if supply.pills < COURSE_PILLS else (None, None)
    for dose in sorted(doses, key=lambda d: d.at):
        if dose.at <= start:
            continue
        after -= dose.pills
        if dose.at <= now:
            left = after
        if low_at is None and after < COURSE_PILLS:
            low_at, low_left = dose.at, after
    return EventSupply(left=max(0, left), after_planned=after, low_at=low_at, low_left=low_left)


# --- doxy-PEP testing ------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """``day`` plus calendar months, on the month's last day when it is shorter (31 Aug + 3 = 30 Nov)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def last_test(sample_days: Iterable[date], clinic_due: date | None, today: date) -> date | None:
    """The patient's last test, as a clinician would count it: the latest sample day of a result the
    clinic released (any result: doxy-PEP follow-up is the STI and HIV screen), or the clinic's own
    test date once it has passed (the visit it asked for; a missed one the screen says is overdue).
    A clinic date still ahead is not a test yet."""
    days = [*sample_days, *([clinic_due] if clinic_due is not None and clinic_due < today else [])]
    return max(days, default=None)


def doxy_test_due(plan: DoxyPlan, last: date | None, tz: tzinfo) -> date | None:
    """The check-up day :data:`DOXY_TEST_AFTER` months after the first dose taken (local day) on or after
    ``last`` (the day of the last test), or None when no dose was taken since."""
    taken = sorted(d.taken_at.astimezone(tz).date() for d in plan.doses)
    first = next((day for day in taken if last is None or day >= last), None)
    return None if first is None else add_months(first, DOXY_TEST_AFTER)
