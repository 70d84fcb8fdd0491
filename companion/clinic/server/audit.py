"""The append-only audit trail: every staff action and every feed read (who, device, what, when).

Two ways in:

- :meth:`AuditLog.record` inside a write transaction, for staff actions and pushed mutations:
  the audit row commits or rolls back with the change it describes.
- :meth:`AuditLog.record_later` for reads (feed pulls, staff reads): queued in memory and written
  in batches by a background thread every quarter second, so a no-op pull does not cost an fsync
  on SQLite. A crash can lose at most the last quarter second of *read* entries; ``close()``
  flushes on a clean shutdown.
- :meth:`AuditLog.count_empty_read` for a feed pull that sent nothing (a long poll whose wait ran
  out, a no-op sync): counted in memory per device and address, and written as one ``feed.poll``
  entry with ``detail = {"count": n, "after": seq, "first": iso, "last": iso}`` — when the device's
  next pull sends records (just before that ``feed.read``), every :data:`POLL_SUMMARY_EVERY`, and on
  a clean shutdown. 10,000 long-polling devices would otherwise write ~385 rows a second of "sent
  nothing". A crash can lose the counts of the last :data:`POLL_SUMMARY_EVERY` (reads that sent
  no record).

``detail`` holds ids, counts and states only — never names, message bodies or result values.
The database refuses UPDATE and DELETE on the table (triggers in ``schema.AUDIT_GUARDS``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...core.fields import iso
from .bulk_insert import insert_rows
from .database import Database, Tx
from .pagination import Order, PageRequest, paginate
from .principals import Principal
from .schema import audit

log = logging.getLogger("companion.clinic.server.audit")

FLUSH_INTERVAL = 0.25
POLL_SUMMARY_EVERY = 300.0  # seconds between the feed.poll entries of a device that keeps polling
_COMPACT = json.JSONEncoder(separators=(",", ":"))  # json.dumps with options builds an encoder per call


def _row(now: datetime, actor: Principal, action: str, patient_id: str | None, target: str | None,
         detail: Mapping[str, Any] | None, address: str | None) -> dict[str, Any]:
    return {
        "at": now, "actor_type": actor.actor_type, "actor_id": actor.id, "role": actor.role,
        "patient_id": patient_id, "action": action[:60], "target": target[:120] if target else None,
        "detail": _COMPACT.encode(dict(detail)) if detail else None,
        "address": address[:64] if address else None,
    }


class AuditLog:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        # One flush at a time: a flush returns only once every row queued before it is written, even
        # rows the background flush had taken and was still writing (the audit page flushes, then reads).
        self._flushing = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        # device id -> address -> empty reads not yet written (by device: a read that sent records takes
        # its own device's counts without walking every waiting device's)
        self._polls: dict[str, dict[str | None, _Polls]] = {}
        self._polls_written = time.monotonic()

    def now(self) -> datetime:
        return self._clock()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="audit-flush", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush(polls=True)

    # -- writing ---------------------------------------------------------------------------------
    def record(self, tx: Tx, actor: Principal, action: str, *, patient_id: str | None = None,
               target: str | None = None, detail: Mapping[str, Any] | None = None,
               address: str | None = None) -> None:
        self.record_rows(tx, [self.entry(actor, action, patient_id=patient_id, target=target, detail=detail,
                                         address=address)])

    def entry(self, actor: Principal, action: str, *, patient_id: str | None = None, target: str | None = None,
              detail: Mapping[str, Any] | None = None, address: str | None = None) -> dict[str, Any]:
        """One audit row, to hand to :meth:`record_rows` (a push audits its whole batch in one statement)."""
        return _row(self._clock(), actor, action, patient_id, target, detail, address)

    def record_rows(self, tx: Tx, rows: list[dict[str, Any]]) -> None:
        """Insert rows from :meth:`entry` inside ``tx``: they commit or roll back with the change."""
        insert_rows(tx.conn, audit, rows)

    def record_later(self, actor: Principal, action: str, *, patient_id: str | None = None,
                     target: str | None = None, detail: Mapping[str, Any] | None = None,
                     address: str | None = None) -> None:
        row = _row(self._clock(), actor, action, patient_id, target, detail, address)
        with self._lock:
            self._pending.append(row)
            if len(self._pending) >= 500:
                self._wake.set()

    def count_empty_read(self, actor: Principal, patient_id: str, after: int, address: str | None) -> None:
        """A feed read that sent no record: counted, written later as one ``feed.poll`` entry."""
        now = self._clock()
        with self._lock:
            mine = self._polls.setdefault(actor.id, {})
            polls = mine.get(address)
            if polls is None:
                mine[address] = _Polls(actor, patient_id, address, after, now)
            else:
                polls.count += 1
                polls.after, polls.last = after, now

    def record_read(self, actor: Principal, patient_id: str, detail: Mapping[str, Any], address: str | None) -> None:
        """A feed read that sent records: its ``feed.read`` entry, after the device's empty reads so far."""
        with self._lock:
            self._pending.extend(polls.row() for polls in self._polls.pop(actor.id, {}).values())
        self.record_later(actor, "feed.read", patient_id=patient_id, detail=detail, address=address)

    def queued(self) -> int:
        """How many entries wait for the next flush (empty-read counts not included)."""
        with self._lock:
            return len(self._pending)

    def flush(self, *, polls: bool = False) -> None:
        with self._flushing:
            with self._lock:
                if polls:
                    self._pending.extend(p.row() for mine in self._polls.values() for p in mine.values())
                    self._polls = {}
                    self._polls_written = time.monotonic()
                rows, self._pending = self._pending, []
            if not rows:
                return
            try:
                with self._db.append() as conn:
                    conn.execute(sa.insert(audit), rows)
            except sa.exc.SQLAlchemyError as exc:
                # Put them back: the next flush retries. Log the type only (rows are not data, but be terse).
                log.error("audit flush of %d rows failed (%s); will retry", len(rows), type(exc).__name__)
                with self._lock:
                    self._pending[:0] = rows

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(FLUSH_INTERVAL)
            self._wake.clear()
            self.flush(polls=time.monotonic() - self._polls_written >= POLL_SUMMARY_EVERY)


class _Polls:
    """One device's empty reads from one address since its last ``feed.poll`` entry."""

    __slots__ = ("actor", "address", "after", "count", "first", "last", "patient_id")

    def __init__(self, actor: Principal, patient_id: str, address: str | None, after: int, at: datetime) -> None:
        self.actor, self.patient_id, self.address = actor, patient_id, address
        self.count, self.after, self.first, self.last = 1, after, at, at

    def row(self) -> dict[str, Any]:
        detail = {"count": self.count, "after": self.after, "first": iso(self.first), "last": iso(self.last)}
        return _row(self.last, self.actor, "feed.poll", self.patient_id, None, detail, self.address)


NEWEST_FIRST = Order.of("audit", (audit.c.id, True))
OLDEST_FIRST = Order.of("audit-tail", audit.c.id)


def read_audit(conn: Connection, page: PageRequest, *, since: int | None = None, actor_id: str | None = None,
               patient_id: str | None = None, action: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of entries, newest first; with ``since`` (an entry id) the entries after it, oldest
    first, for tailing. Returns ``(entries, next cursor)``."""
    query = sa.select(audit)
    if since is not None:
        query = query.where(audit.c.id > since)
    if actor_id:
        query = query.where(audit.c.actor_id == actor_id)
    if patient_id:
        query = query.where(audit.c.patient_id == patient_id)
    if action:
        query = query.where(audit.c.action == action)
    rows, after = paginate(conn, query, OLDEST_FIRST if since is not None else NEWEST_FIRST, page)
    out = []
    for row in rows:
        item = dict(row)
        item["at"] = iso(item["at"])
        item["detail"] = json.loads(item["detail"]) if item["detail"] else None
        out.append(item)
    return out, after
