"""Anonymous partner notices on the server: register the codes a device made, open, book, report.

What is stored is in :mod:`.schema` (``notices``, ``notice_counts``) and why it is so little in
:mod:`companion.core.partner_notice`. The one write that knows the notifying patient is
:func:`register_notices`, inside the patient's push: it adds the codes' hashes (with the day they
expire, nothing finer) and, when the notice came from one of the patient's released results, one
to that result's count. Everything after that — opening the page, booking, reporting — starts
from a code and can reach no patient, because no row names one.

A fast-track booking (:func:`book_from_notice`) makes a *new* patient from what the partner typed
(a first name or initials, and optionally a phone) and books an open time of a fast-track service
for them through :func:`.booking.book_open_time`; the visit's id starts with
:data:`~companion.core.partner_notice.NOTICE_PREFIX` so the desk can say where it came from. A
code books once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...core.clinic_profile import ClinicSite
from ...core.errors import NotAllowed
from ...core.partner_notice import NOTICE_DAYS, NOTICE_PREFIX, code_hash, normalise_code
from . import booking, patients
from .database import Tx
from .records import Row
from .schema import notice_counts, notices, services
from .tokens import new_id

__all__ = ["book_from_notice", "counts", "expiry", "fast_track_services", "find_notice", "last_day", "mark_opened",
           "register_notices", "report_notice"]


def expiry(now: datetime, tz: tzinfo) -> datetime:
    """When a notice made ``now`` stops working: the clinic's midnight (``tz``) that ends the
    :data:`NOTICE_DAYS`-th day after the day it was made (a day, not a moment; stored in UTC)."""
    day = now.astimezone(tz).date() + timedelta(days=NOTICE_DAYS + 1)
    return datetime.combine(day, time(), tz).astimezone(UTC)


def last_day(expires_at: datetime, tz: tzinfo) -> date:
    """The last day a notice works, in the clinic's zone (``tz``): the day of its last moment.

    ``expires_at`` is the first moment it no longer works (a midnight): shown as such, it read as
    one day more — and a notice stored at midnight UTC stops in the evening before in the Americas."""
    return (expires_at - timedelta(microseconds=1)).astimezone(tz).date()


def register_notices(tx: Tx, infection: str, codes: Sequence[str], result_id: str | None, now: datetime, *,
                     tz: tzinfo) -> int:
    """Keep the codes' hashes; count them against ``result_id`` (already checked to be the patient's).

    ``tz`` is the clinic's zone: the codes work until the end of its day (:func:`expiry`)."""
    hashes = [code_hash(c) for c in codes]
    taken = tx.execute(sa.select(sa.func.count()).select_from(notices).where(notices.c.code_hash.in_(hashes)))
    if taken.scalar_one():
        raise NotAllowed("these notice codes were already registered")
    ends = expiry(now, tz)
    tx.execute(sa.insert(notices), [{"code_hash": h, "infection": infection, "expires_at": ends} for h in hashes])
    if result_id is not None:
        updated = tx.execute(sa.update(notice_counts).where(notice_counts.c.result_id == result_id)
                             .values(made=notice_counts.c.made + len(codes)))
        if not updated.rowcount:
            tx.execute(sa.insert(notice_counts).values(result_id=result_id, made=len(codes)))
    return len(codes)


def find_notice(conn: Connection | Tx, code: str) -> Row | None:
    raw = normalise_code(code)
    if raw is None:
        return None
    row: Row | None = conn.execute(sa.select(notices).where(notices.c.code_hash == code_hash(raw))).mappings().first()
    return row


def mark_opened(tx: Tx, notice: Row, now: datetime) -> None:
    if notice["opened_at"] is None:
        tx.execute(sa.update(notices).where(notices.c.code_hash == notice["code_hash"]).values(
            opened_at=datetime.combine(now.astimezone(UTC).date(), time(), UTC)))  # the day only


def report_notice(tx: Tx, notice: Row, now: datetime) -> None:
    """Someone says the link was misused: it stops working and the desk's count shows it."""
    if notice["reported_at"] is None:
        tx.execute(sa.update(notices).where(notices.c.code_hash == notice["code_hash"]).values(reported_at=now))


def fast_track_services(conn: Connection | Tx) -> list[Row]:
    query = sa.select(services).where(services.c.active.is_(True), services.c.fast_track.is_(True))
    return list(conn.execute(query.order_by(services.c.name, services.c.id)).mappings())


def usable(notice: Row | None, now: datetime) -> str | None:
    """Why a notice cannot be used now (``gone``, ``expired``, ``reported``, ``used``), else ``None``."""
    if notice is None:
        return "gone"
    if notice["reported_at"] is not None:
        return "reported"
    if notice["expires_at"] <= now:
        return "expired"
    if notice["booked_at"] is not None:
        return "used"
    return None


def book_from_notice(tx: Tx, site: ClinicSite, notice: Row, *, service_id: str, start: datetime, name: str,
                     phone: str | None, now: datetime) -> Row:
    """A new patient, linked to nobody, with a fast-track visit at ``start``; the code is spent."""
    why = usable(notice, now)
    if why is not None:
        raise NotAllowed(f"this link can no longer be used ({why})")
    if service_id not in {s["id"] for s in fast_track_services(tx)}:
        raise NotAllowed("unknown service")
    patient = patients.create_patient(tx, {"name": name, "phone": phone}, now)
    visit = booking.book_open_time(tx, site, service_id=service_id, start=start, patient_id=patient["id"],
                                   source="notice", now=now, appointment_id=new_id(NOTICE_PREFIX))
    tx.execute(sa.update(notices).where(notices.c.code_hash == notice["code_hash"]).values(booked_at=now))
    return visit


def counts(conn: Connection, now: datetime) -> dict[str, Any]:
    """What the desk sees: totals only, never who notified whom."""
    def count(*where: Any) -> int:
        return int(conn.execute(sa.select(sa.func.count()).select_from(notices).where(*where)).scalar_one())

    return {"made": count(), "opened": count(notices.c.opened_at.is_not(None)),
            "booked": count(notices.c.booked_at.is_not(None)), "reported": count(notices.c.reported_at.is_not(None)),
            "active": count(notices.c.expires_at > now, notices.c.reported_at.is_(None), notices.c.booked_at.is_(None))}
