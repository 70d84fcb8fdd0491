"""Open times: which starts of a bookable service are still free, and their record in the feed.

A start is open when one of the rooms or providers ("resources") the service's weekly hours name
for that weekday is free for the whole visit: no block (a holiday, a provider away) and no active
booking on that resource overlap it. A visit the desk scheduled another way (the free-form form, an
accepted request) holds a resource too when its provider or location is that resource's name
(trimmed, any case): "Room 2" on the visit blocks the hours given to "room 2". Starts follow the
grid of the service's length from each opening time, in the clinic's own time zone, from
:data:`LEAD` after now to :data:`HORIZON_DAYS` ahead. Bookings of *any* service hold their
resource, so a room shared by two services is never booked twice.

:func:`publish_open_times` writes the service's :class:`~companion.core.open_times.OpenTimes`
record into the clinic-wide feed (every device gets it, as with articles); the booking, a
cancellation, and every change of services, hours or blocks call it inside their transaction, so
what devices see is never staler than the last commit. :func:`refresh_open_times` republishes all
services (at start and once a day, so the window moves on).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...core.clinic_profile import WEEKDAYS, ClinicSite
from ...core.models import OpenTimes, PrepItem
from .changes import CLINIC_SCOPE, publish, retract
from .database import Database, Tx
from .records import Row
from .schema import appointments, bookings, schedule_blocks, service_hours, services

__all__ = ["HORIZON_DAYS", "LEAD", "keep_open_times_fresh", "open_slots", "open_times_of", "publish_open_times",
           "refresh_open_times", "resources_named_by", "slot_grid"]

HORIZON_DAYS = 21
LEAD = timedelta(hours=1)  # nobody can be seen sooner than this after booking
FREEING = ("cancelled",)  # a visit in these states no longer holds its time
UNHELD = ("cancelled", "requested")  # an unbooked visit holds its time from scheduled on
LONGEST_VISIT = timedelta(days=1)

Span = tuple[datetime, datetime]


def _at(day: date, text: str, tz: tzinfo) -> datetime:
    """``HH:MM`` of ``day`` in the clinic's zone (``24:00`` is the next midnight)."""
    hour, minute = (int(x) for x in text.split(":"))
    if hour == 24:
        return datetime.combine(day + timedelta(days=1), time(), tz)
    return datetime.combine(day, time(hour, minute), tz)


def _busy(conn: Connection | Tx, resources: Iterable[str], start: datetime, end: datetime) -> dict[str, list[Span]]:
    """Each resource's held spans (active bookings and blocks) that touch ``start..end``."""
    names = sorted(set(resources))
    held: dict[str, list[Span]] = {name: [] for name in names}
    if not names:
        return held
    booked = conn.execute(
        sa.select(bookings.c.resource, bookings.c.start, bookings.c.end)
        .join(appointments, appointments.c.id == bookings.c.appointment_id)
        .where(bookings.c.resource.in_(names), bookings.c.start < end, bookings.c.end > start,
               appointments.c.status.not_in(FREEING)))
    for row in booked.mappings():
        held[row["resource"]].append((row["start"], row["end"]))
    by_name = {_name(n): n for n in names}
    scheduled = conn.execute(
        sa.select(appointments.c.start, appointments.c.minutes, appointments.c.location, appointments.c.provider)
        .outerjoin(bookings, bookings.c.appointment_id == appointments.c.id)
        .where(bookings.c.id.is_(None), appointments.c.start < end, appointments.c.start > start - LONGEST_VISIT,
               appointments.c.status.not_in(UNHELD)))
    for row in scheduled.mappings():
        span = (row["start"], row["start"] + timedelta(minutes=row["minutes"]))
        for name in {by_name.get(_name(row[k])) for k in ("provider", "location")} - {None}:
            held[str(name)].append(span)
    blocked = conn.execute(sa.select(schedule_blocks.c.resource, schedule_blocks.c.starts_at, schedule_blocks.c.ends_at)
                           .where(schedule_blocks.c.starts_at < end, schedule_blocks.c.ends_at > start))
    for row in blocked.mappings():
        resource = row["resource"]
        for name in names if resource is None else [resource] if resource in held else []:
            held[name].append((row["starts_at"], row["ends_at"]))
    return held


def _name(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def resources_named_by(conn: Connection | Tx, visits: Iterable[Row]) -> set[str]:
    """The hours' resources that these visits' providers or locations name (see the docstring)."""
    wanted = {_name(v[k]) for v in visits for k in ("provider", "location")} - {""}
    if not wanted:
        return set()
    names = conn.execute(sa.select(service_hours.c.resource).distinct()).scalars()
    return {str(n) for n in names if _name(n) in wanted}


def slot_grid(conn: Connection | Tx, site: ClinicSite, service: Row, now: datetime,
              horizon_days: int = HORIZON_DAYS) -> dict[datetime, list[str]]:
    """Every start (UTC) of the service's grid in the window -> the resources free for the whole
    visit then (empty: the start is taken or blocked), soonest first."""
    hours = list(conn.execute(sa.select(service_hours).where(service_hours.c.service_id == service["id"])).mappings())
    if not hours or not service["active"]:
        return {}
    tz = site.tz
    step = timedelta(minutes=service["minutes"])
    earliest = now + LEAD
    first_day = now.astimezone(tz).date()
    window_end = datetime.combine(first_day + timedelta(days=horizon_days + 1), time(), tz).astimezone(UTC)
    held = _busy(conn, (h["resource"] for h in hours), now, window_end)
    found: dict[datetime, list[str]] = {}
    for offset in range(horizon_days):
        day: date = first_day + timedelta(days=offset)
        weekday = WEEKDAYS[day.weekday()]
        for row in hours:
            if row["weekday"] != weekday:
                continue
            slot, closes = _at(day, row["opens"], tz), _at(day, row["closes"], tz)
            while slot + step <= closes:
                start = slot.astimezone(UTC)
                end = start + step
                if start >= earliest:
                    free = found.setdefault(start, [])
                    if not any(a < end and start < b for a, b in held[row["resource"]]):
                        free.append(row["resource"])
                slot += step
    return dict(sorted(found.items()))


def open_slots(conn: Connection | Tx, site: ClinicSite, service: Row, now: datetime,
               horizon_days: int = HORIZON_DAYS) -> dict[datetime, list[str]]:
    """Open start (UTC) -> the resources free for the whole visit then, soonest first."""
    return {start: free for start, free in slot_grid(conn, site, service, now, horizon_days).items() if free}


def open_times_of(conn: Connection | Tx, site: ClinicSite, service: Row, now: datetime) -> OpenTimes:
    """The service's record as devices get it: starts as minutes after today's UTC midnight."""
    base = datetime.combine(now.astimezone(UTC).date(), time(), UTC)
    starts = tuple(int((t - base).total_seconds() // 60) for t in open_slots(conn, site, service, now))
    prep = tuple(PrepItem(title=p["title"], body=p.get("body") or "", before_minutes=int(p.get("before_minutes") or 0))
                 for p in json.loads(service["prep"] or "[]"))
    return OpenTimes(id=service["id"], name=service["name"], minutes=service["minutes"], base=base, starts=starts,
                     prep=prep, sensitive=bool(service["sensitive"]))


def publish_open_times(tx: Tx, site: ClinicSite, service_id: str, now: datetime) -> None:
    """Republish one service's open times (a tombstone when it is no longer bookable)."""
    service = tx.execute(sa.select(services).where(services.c.id == service_id)).mappings().first()
    if service is None or not service["active"]:
        retract(tx, CLINIC_SCOPE, "open_times", service_id)
        return
    publish(tx, CLINIC_SCOPE, open_times_of(tx, site, service, now))


def publish_for_resources(tx: Tx, site: ClinicSite, resources: Iterable[str | None], now: datetime) -> None:
    """Republish every service whose hours use one of ``resources`` (``None``: all of them)."""
    names = set(resources)
    query = sa.select(service_hours.c.service_id).distinct()
    if None not in names:
        query = query.where(service_hours.c.resource.in_(sorted(n for n in names if n is not None)))
    for (service_id,) in tx.execute(query).all():
        publish_open_times(tx, site, service_id, now)


def refresh_open_times(tx: Tx, site: ClinicSite, now: datetime) -> int:
    """Republish every active service (the window moves on a day); returns how many."""
    ids = [r[0] for r in tx.execute(sa.select(services.c.id).where(services.c.active.is_(True))).all()]
    for service_id in ids:
        publish_open_times(tx, site, service_id, now)
    return len(ids)


REFRESH_EVERY = 3600.0  # seconds; the window needs moving once a day, an hour late at most
log = logging.getLogger("companion.server")


async def keep_open_times_fresh(db: Database, site: ClinicSite, clock: Callable[[], datetime],
                                every: float = REFRESH_EVERY) -> None:
    """Republish every service at start, then whenever the clinic's day has changed (run as a task)."""
    published_for: date | None = None
    while True:
        today = clock().astimezone(site.tz).date()
        if today != published_for:
            try:
                await asyncio.to_thread(_refresh, db, site, clock)
                published_for = today
            except Exception as exc:
                log.warning("open times not refreshed (%s)", type(exc).__name__)
        await asyncio.sleep(every)


def _refresh(db: Database, site: ClinicSite, clock: Callable[[], datetime]) -> None:
    with db.write() as tx:
        refresh_open_times(tx, site, clock())
