"""Reading the sync feed: cursors and pages.

A cursor is ``base64url("<epoch>.<seq>")``: ``seq`` is the last global sequence number the
device has, ``epoch`` names the database it came from (set once at schema creation), so a cursor
from a replaced or restored database is refused with 410 ``cursor_expired`` and the app resyncs
from scratch instead of silently missing records. A cursor ahead of the newest change means the
same thing (a restored backup) and gets the same answer.

A page is two index range scans on ``changes(scope, seq)`` — the patient's own scope and the
clinic-wide scope — each limited to ``limit + 1`` rows and merged by ``seq``, then one more range
scan per scope the page's changes came from reads their data (``after < seq <= last``). Its cost depends on
the page size, never on how many records the clinic has. The scans read each row's head and the
*length* of its data; the page takes changes in ``seq`` order until the next one would carry it
past :data:`~companion.core.protocol.PAGE_BYTES` (always at least one; ``has_more`` is then
true), and only then is the data of the chosen rows read. So a page, and what the server holds
to build it, stays far below the :data:`~companion.core.protocol.MAX_RESPONSE_BYTES` the app
accepts, however large the records (each is at most
:data:`~companion.core.protocol.MAX_RECORD_BYTES`, checked in :mod:`.changes`). The JSON is
assembled around each row's stored ``data`` text (ASCII JSON, so characters are bytes), which
was validated when it was written, instead of decoding and re-encoding it for every pull.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...core.protocol import PAGE_BYTES
from .errors import ApiError
from .schema import CLINIC_SCOPE, changes

_HEAD = (changes.c.seq, changes.c.kind, changes.c.record_id, changes.c.op, sa.func.length(changes.c.data))
ChangeRow = tuple[int, str, str, str, str | None]
_DATA = (sa.select(changes.c.seq, changes.c.data)
         .where(changes.c.scope == sa.bindparam("scope"), changes.c.seq > sa.bindparam("after"),
                changes.c.seq <= sa.bindparam("last")))


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[ChangeRow]
    has_more: bool
    last_seq: int


def encode_cursor(epoch: str, seq: int) -> str:
    return base64.urlsafe_b64encode(f"{epoch}.{seq}".encode()).decode().rstrip("=")


def decode_cursor(epoch: str, cursor: str | None) -> int:
    """The ``seq`` inside a cursor; absent means 0 (from the beginning)."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        their_epoch, seq_text = text.split(".", 1)
        seq = int(seq_text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(422, "invalid_request", "cursor: not a cursor this server issued") from None
    if seq < 0:
        raise ApiError(422, "invalid_request", "cursor: not a cursor this server issued")
    if their_epoch != epoch:
        raise ApiError(410, "cursor_expired", "the clinic's database was replaced: sync again from the start")
    return seq


def scan_query(scope: str, after: int, limit: int) -> sa.Select[Any]:
    """One index range scan on ``changes(scope, seq)`` (tests EXPLAIN it on both databases)."""
    return (sa.select(*_HEAD).where(changes.c.scope == scope, changes.c.seq > after)
            .order_by(changes.c.seq).limit(limit))


class HighWater:
    """The newest ``seq`` one server process has seen committed in its database. Sequence numbers
    never go back within a database epoch, so a cursor at or below it needs no ``max(seq)`` query
    to prove it is not from the future (a restored backup: restart the server after a restore)."""

    def __init__(self) -> None:
        self.seq = 0


def read_page(conn: Connection, patient_id: str, after: int, limit: int, seen: HighWater,
              budget: int = PAGE_BYTES) -> Page:
    """Up to ``limit`` changes after ``after``, and no more than ``budget`` bytes of them (but one)."""
    def scan(scope: str) -> list[Any]:
        return list(conn.execute(scan_query(scope, after, limit + 1)).all())  # one fetch, not one per row

    own, clinic = scan(patient_id), scan(CLINIC_SCOPE)
    merged = list(heapq.merge(own, clinic, key=lambda r: r[0]))
    heads: list[Any] = []
    size = 0
    for head in merged[:limit]:
        size += change_size(head[0], head[1], head[2], head[3], head[4])
        if heads and size > budget:
            break
        heads.append(head)
    has_more = len(merged) > len(heads)
    last = heads[-1][0] if heads else after
    scopes = [scope for scope, found in ((patient_id, own), (CLINIC_SCOPE, clinic)) if found and found[0][0] <= last]
    rows = _with_data(conn, heads, scopes, after)
    if rows:
        seen.seq = max(seen.seq, rows[-1][0])
    elif after > seen.seq:  # only a cursor beyond anything this process has seen needs the check
        newest = conn.execute(sa.select(sa.func.max(changes.c.seq))).scalar()
        if newest is None or newest < after:
            raise ApiError(410, "cursor_expired",
                           "the cursor is ahead of the clinic's records: sync again from the start")
        seen.seq = max(seen.seq, int(newest))
    return Page(rows=rows, has_more=has_more, last_seq=rows[-1][0] if rows else after)


def count_after(conn: Connection, patient_id: str, after: int) -> int:
    """How many changes of the patient's and the clinic-wide scope come after ``after`` (two index
    range counts; asked once per sync from the beginning, for the app's progress)."""
    total = 0
    for scope in (patient_id, CLINIC_SCOPE):
        total += conn.execute(sa.select(sa.func.count()).select_from(changes).where(
            changes.c.scope == scope, changes.c.seq > after)).scalar_one()
    return total


def _with_data(conn: Connection, heads: list[Any], scopes: list[str], after: int) -> list[ChangeRow]:
    """The chosen heads with their data: one index range scan ``after < seq <= last`` per scope the
    heads came from (they are every change of those scopes in that range, so nothing else is read)."""
    if not heads:
        return []
    last = heads[-1][0]
    data: dict[int, str] = {}
    for scope in scopes:
        data.update(conn.execute(_DATA, {"scope": scope, "after": after, "last": last}).all())
    return [(h[0], h[1], h[2], h[3], data.get(h[0]) if h[3] == "upsert" else None) for h in heads]


_quote = json.encoder.encode_basestring_ascii  # json.dumps of one str, without building an encoder per call
# What _change_json writes around its five values: {"seq":,"kind":,"id":,"op":"","data":} and a comma.
_CHANGE_FRAME = len('{"seq":,"kind":,"id":,"op":"","data":}') + 1


def _change_json(seq: int, kind: str, record_id: str, op: str, data: str | None) -> str:
    return (f'{{"seq":{seq},"kind":{_quote(kind)},"id":{_quote(record_id)},"op":"{op}",'
            f'"data":{"null" if data is None else data}}}')


def change_size(seq: int, kind: str, record_id: str, op: str, data_length: int | None) -> int:
    """Bytes one change takes in a page (with its separating comma), from the length of its data."""
    return (_CHANGE_FRAME + len(str(seq)) + len(_quote(kind)) + len(_quote(record_id)) + len(op)
            + (4 if data_length is None else data_length))


def render_page(page: Page, cursor: str) -> bytes:
    """The pull answer of :mod:`companion.core.protocol`, built around the stored data JSON."""
    parts = [_change_json(*row) for row in page.rows]
    more = "true" if page.has_more else "false"
    body = f'{{"changes":[{",".join(parts)}],"cursor":{_quote(cursor)},"has_more":{more}}}'
    return body.encode("utf-8")
