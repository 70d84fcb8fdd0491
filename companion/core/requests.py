"""What a patient may ask for in a visit request, and the clinic's free times that match it.

One place for both sides: the app builds the request, :func:`check_preferences` is what
:func:`companion.core.protocol.validate_mutation` runs on it (app before queueing, server before
applying), and the desk asks :func:`free_slots` for times to propose::

    check_preferences(["mon", "wed"], ["morning"], "payload")   # -> (("mon", "wed"), ("morning",))
    free_slots(("mon",), ("morning",), booked=[], now=now, tz=tz)  # -> [datetime, …] (UTC, soonest first)
    free_slots((), (), booked=[], now=now, tz=site.tz, schedule=site.schedule)  # the clinic profile's hours

Opening hours and the slot length are the clinic profile's ``[schedule]``
(:class:`companion.core.clinic_profile.Schedule`); without one, its defaults.

A request is shown at once on the device as a ``requested`` appointment whose id is
:func:`request_appointment_id` of the mutation's UUID; the server creates the appointment under
the same id, so its copy replaces the device's at the next pull.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from .clinic_profile import DEFAULT_OPENING, WEEKDAYS, Schedule
from .errors import RecordError

__all__ = [
    "CLINIC_HOURS",
    "MAX_REQUEST_NOTE",
    "SLOT_MINUTES",
    "TIMES_OF_DAY",
    "TIME_OF_DAY_LABELS",
    "WEEKDAYS",
    "WEEKDAY_LABELS",
    "check_preferences",
    "describe_preferences",
    "free_slots",
    "request_appointment_id",
]

WEEKDAY_LABELS = dict(zip(WEEKDAYS, ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), strict=True))
TIMES_OF_DAY = ("morning", "afternoon", "evening")
TIME_OF_DAY_LABELS = {"morning": "Morning", "afternoon": "Afternoon", "evening": "Evening"}
_TIME_OF_DAY_HOURS = {"morning": (8, 12), "afternoon": (12, 17), "evening": (17, 20)}
# the clinic's opening hours in its own time zone without a profile: weekday -> (opens, closes); closed days absent
CLINIC_HOURS = DEFAULT_OPENING
SLOT_MINUTES = Schedule().slot_minutes
MAX_REQUEST_NOTE = 1000
REQUEST_PREFIX = "apt_r"


def request_appointment_id(mutation_id: str) -> str:
    """The appointment a request becomes, on the device at once and on the server when applied
    (``apt_r`` + the UUID's 32 hex digits: within the server's 40-character ids)."""
    return f"{REQUEST_PREFIX}{uuid.UUID(mutation_id).hex}"


def _choices(value: Any, allowed: tuple[str, ...], path: str, what: str, one: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > len(allowed):
        raise RecordError(path, f"expected a list of {what} ({', '.join(allowed)})")
    unknown = [v for v in value if v not in allowed]
    if unknown:
        shown = str(unknown[0])[:20]
        raise RecordError(path, f"unknown {one} {shown!r} (allowed: {', '.join(allowed)})")
    if len(set(value)) != len(value):
        raise RecordError(path, f"names a {one} twice")
    return tuple(v for v in allowed if v in value)  # in the week's / day's order


def check_preferences(days: Any, times: Any, path: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The request's preferred weekdays and times of day in order; RecordError names the bad one."""
    return (_choices(days, WEEKDAYS, f"{path}.days", "weekdays", "weekday"),
            _choices(times, TIMES_OF_DAY, f"{path}.times", "times of day", "time of day"))


def describe_preferences(days: Sequence[str], times: Sequence[str]) -> str:
    """The wishes as staff read them after "prefers": ``"Mon, Wed · morning"``, ``"any day · evening"``,
    ``"Mon · any time"``; ``"any day, any time"`` when nothing was chosen (the app's "none chosen
    means any day")."""
    if not days and not times:
        return "any day, any time"
    day_text = ", ".join(WEEKDAY_LABELS.get(d, d) for d in days) or "any day"
    time_text = ", ".join(TIME_OF_DAY_LABELS.get(t, t).lower() for t in times) or "any time"
    return f"{day_text} · {time_text}"


def _overlaps(start: datetime, end: datetime, booked: Iterable[tuple[datetime, datetime]]) -> bool:
    return any(b_start < end and start < b_end for b_start, b_end in booked)


def free_slots(days: Sequence[str], times: Sequence[str], *, booked: Sequence[tuple[datetime, datetime]],
               now: datetime, tz: tzinfo, limit: int = 6, horizon_days: int = 21,
               hours: Mapping[str, tuple[time, time]] | None = None, minutes: int | None = None,
               per_window: int = 1, schedule: Schedule | None = None) -> list[datetime]:
    """Up to ``limit`` free starts (UTC), soonest first, within the clinic's hours and the wishes.

    The hours and the slot length are ``hours``/``minutes`` if given, else ``schedule``'s (the
    clinic profile's), else the defaults. A slot is free when no booked ``(start, end)`` overlaps
    it; no day or time chosen means any. Slots start at opening time and every slot length after
    (on the hour or half hour with 30-minute slots), at least an hour from ``now``. At most
    ``per_window`` are taken from each day's time of day, so the proposals spread over the days
    the patient named instead of filling one morning.
    """
    plan = schedule or Schedule()
    hours = plan.opening if hours is None else hours
    step = timedelta(minutes=minutes or plan.slot_minutes)
    wanted_days = set(days or WEEKDAYS)
    windows = [_TIME_OF_DAY_HOURS[t] for t in (times or TIMES_OF_DAY)]
    earliest = now + timedelta(hours=1)
    local_today = now.astimezone(tz).date()
    found: list[datetime] = []
    for offset in range(horizon_days):
        day = local_today + timedelta(days=offset)
        name = WEEKDAYS[day.weekday()]
        if name not in wanted_days or name not in hours:
            continue
        opens, closes = (datetime.combine(day, t, tz) for t in hours[name])
        for lo, hi in windows:
            window_end = min(closes, datetime.combine(day, time(hi), tz) if hi < 24 else closes)
            slot = opens
            while slot < datetime.combine(day, time(lo), tz):  # the first slot of the grid in this window
                slot += step
            taken = 0
            while taken < per_window and slot + step <= window_end:
                utc = slot.astimezone(UTC)
                if utc >= earliest and not _overlaps(utc, utc + step, booked):
                    found.append(utc)
                    taken += 1
                    if len(found) >= limit:
                        return sorted(found)
                slot += step
    return sorted(found)
