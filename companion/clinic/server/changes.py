"""Writing the sync feed: every change a device will see goes through :func:`_write_change`.

Staff actions and pushed mutations call :func:`publish` (upsert) or :func:`retract` (tombstone)
inside their :meth:`Database.write` transaction (the stores through :func:`save_and_publish`), so
the clinic record and its feed entry commit together. ``_write_change`` replaces the record's
previous feed row with a new one under a new sequence number (the table holds one row per
record), checks that the upsert data parses as the app will parse it (``models.parse_record``:
a record the app would refuse never enters the feed), notes the scope for the in-process
wake-up (and, when a long poll waits on it, where the transaction's rows begin: :mod:`.handoff`)
and, on PostgreSQL, sends the cross-process NOTIFY.

A record whose JSON as sent is larger than :data:`~companion.core.protocol.MAX_RECORD_BYTES`
is refused (:class:`RecordError`, a 422 naming the limit; the transaction rolls back), so every
change fits in a pull page and every page within what the app accepts (see :mod:`.feed`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from ...core.errors import RecordError
from ...core.models import Record, parse_record
from ...core.protocol import MAX_RECORD_BYTES
from .bulk_insert import insert_row_returning, insert_rows
from .database import Tx
from .records import Row, row_by_id
from .schema import CLINIC_SCOPE, changes

__all__ = ["CLINIC_SCOPE", "publish", "publish_many", "retract", "save_and_publish"]

# Built once: a push writes a feed row per mutation, and building + cache-keying a statement
# per call cost more than the SQLite work itself.
_COMPACT = json.JSONEncoder(separators=(",", ":"))  # json.dumps with options builds an encoder per call
_DROP_PREVIOUS = sa.delete(changes).where(changes.c.kind == sa.bindparam("k"),
                                          changes.c.record_id == sa.bindparam("r"))
_NEWEST = sa.select(sa.func.max(changes.c.seq))


def publish(tx: Tx, scope: str, record: Record) -> None:
    """Upsert ``record`` into the feed of ``scope`` (a patient id, or CLINIC_SCOPE)."""
    publish_many(tx, scope, [record])


def publish_many(tx: Tx, scope: str, records: Sequence[Record], *, fresh: bool = False) -> None:
    """:func:`publish` for several records, in one statement each for dropping their previous feed
    rows and adding the new ones (a push's run of messages); in order, so their ``seq`` follow it.
    ``fresh``: the records were created in this transaction, so they have no feed row to drop."""
    items = []
    for record in records:
        data = record.to_dict()
        parse_record(record.record_kind, data)  # the app must be able to read what we send
        text = _COMPACT.encode(data)  # ASCII (escapes), so len() counts bytes
        if len(text) > MAX_RECORD_BYTES:
            raise RecordError(record.record_kind, f"too large to send to the app: {len(text)} bytes as sent, the "
                              f"limit is {MAX_RECORD_BYTES} bytes ({MAX_RECORD_BYTES // 1024} KiB)")
        items.append((record.record_kind, record.id, text))
    _write_changes(tx, scope, items, fresh=fresh)


def save_and_publish(tx: Tx, table: sa.Table, row_id: str, values: Mapping[str, Any],
                     record_of: Callable[[Row], Record]) -> Row:
    """The stores' one write path: apply ``values`` to the row (none: only read it), read it back and
    publish ``record_of(row)`` to its patient's feed, so the row and what devices see never differ.
    ``LookupError`` when there is no such row."""
    if values:
        tx.execute(sa.update(table).where(table.c.id == row_id).values(dict(values)))
    row = row_by_id(tx, table, row_id)
    if row is None:
        raise LookupError(row_id)
    publish(tx, row["patient_id"], record_of(row))
    return row


def retract(tx: Tx, scope: str, kind: str, record_id: str) -> None:
    """Tell devices of ``scope`` to drop the record (a tombstone: ``op: delete``).

    Only records that were ever in the feed get a tombstone: a held result that is blocked must
    not even have its id reach a device.
    """
    found = tx.execute(sa.select(changes.c.op).where(changes.c.kind == kind, changes.c.record_id == record_id))
    op = found.scalar()
    if op == "upsert":
        _write_change(tx, scope, kind, record_id, None)


def _write_change(tx: Tx, scope: str, kind: str, record_id: str, data: str | None) -> None:
    _write_changes(tx, scope, [(kind, record_id, data)])


def _write_changes(tx: Tx, scope: str, items: Sequence[tuple[str, str, str | None]], *,
                   fresh: bool = False) -> None:
    """The one place the feed is written; see the module docstring for why it is shaped so.
    ``fresh`` (records new in this transaction) skips looking for previous rows to drop; should one
    exist after all, the unique ``(kind, record_id)`` refuses the insert and the transaction fails."""
    if not items:
        return
    if not fresh:
        drop = [{"k": kind, "r": record_id} for kind, record_id, _ in items]
        tx.execute(_DROP_PREVIOUS, drop if len(drop) > 1 else drop[0])
    rows = [{"scope": scope, "kind": kind, "record_id": record_id, "op": "upsert" if data is not None else "delete",
             "data": data} for kind, record_id, data in items]
    if tx.feed_start is None and tx.watched(scope):  # a long poll waits: note where this tx's rows begin
        # One row (a PSR's message): its own seq says, writers being serialised, without a read first
        # (RETURNING: PostgreSQL, SQLite 3.35+; an older SQLite reads).
        if len(rows) == 1 and tx.conn.dialect.insert_returning:
            tx.feed_start = int(insert_row_returning(tx.conn, changes, rows[0], "seq")) - 1
            tx.touch(scope)
            return
        tx.feed_start = int(tx.execute(_NEWEST).scalar() or 0)
    insert_rows(tx.conn, changes, rows)
    tx.touch(scope)
