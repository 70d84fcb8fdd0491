"""A committing write hands its feed rows to the long polls it wakes: no re-read, no worker thread.

A woken long poll used to go to the thread pool and read the feed again (and re-check its
device) in a new snapshot: ~1.5-2.5 ms of a live change. The write that woke it has just
written the rows that read would find, so, before its commit and only when some device of the
patient is waiting (:meth:`.wakeups.WakeupHub.waiting_devices`), the writer takes (in its own
transaction, so as of its commit) a :class:`Delivery`:

- ``rows``: the patient's feed rows this transaction wrote, as the feed holds them at commit (a
  rolled-back savepoint's rows are gone, a record written twice is there once), in ``seq`` order;
- ``before``: the newest ``seq`` of the patient's and the clinic-wide feed that is not one of them;
- ``devices``: which of the waiting devices are not revoked (read with ``before``, one statement;
  when none is, nothing is handed over).

The hub keeps the newest delivery per patient, stamped with the scopes' versions after its commit
(:meth:`.wakeups.WakeupHub.wake_threadsafe`). A woken pull whose cursor is ``after`` takes it
(:func:`handed_page`) only when all of these hold, and otherwise reads the feed as before:

- no other commit has touched the patient's or the clinic-wide scope since (the versions still
  match), so nothing newer is missing;
- ``before <= after < rows[0].seq``: the feed had nothing for this patient between the cursor and
  these rows, so a read from the cursor at that commit gives exactly these rows (with their
  ``seq``: other patients' rows between are not the device's). Writers are serialised and the
  writer reads ``before`` under the write lock, so this also holds for a commit made by another
  server process meanwhile (PostgreSQL), whose rows are below ``before``;
- its device was not revoked as of that commit (revocation wins, as on the read path);
- the rows fit the pull's ``limit`` and :data:`~companion.core.protocol.PAGE_BYTES`.

A transaction that writes the clinic-wide feed (an article) hands nothing over: it concerns every
patient, whose own feeds it did not read. The handed page is what a read at the commit would have
returned; held results are never in it because they are never in the feed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ...core.protocol import MAX_PAGE, PAGE_BYTES
from .database import Tx
from .feed import ChangeRow, Page, change_size
from .schema import CLINIC_SCOPE, changes, devices

_ROWS = (sa.select(changes.c.seq, changes.c.kind, changes.c.record_id, changes.c.op, changes.c.data)
         .where(changes.c.scope == sa.bindparam("scope"), changes.c.seq > sa.bindparam("start"))
         .order_by(changes.c.seq).limit(MAX_PAGE + 1))
_NEWEST_OF = [sa.select(sa.func.max(changes.c.seq).label("seq"))
              .where(changes.c.scope == scope, changes.c.seq <= sa.bindparam("start"))
              for scope in (sa.bindparam("scope", type_=sa.String), sa.literal(CLINIC_SCOPE))]
_BEFORE = sa.select(sa.func.max(sa.union_all(*_NEWEST_OF).subquery().c.seq))  # each arm one index probe
# The waiting devices not revoked, each row with ``before`` (one statement, not two: none valid, no delivery).
_VALID = (sa.select(devices.c.id, _BEFORE.scalar_subquery().label("before"))
          .where(devices.c.id.in_(sa.bindparam("ids", expanding=True)), devices.c.revoked_at.is_(None)))


@dataclass(frozen=True, slots=True)
class Delivery:
    rows: tuple[ChangeRow, ...]
    before: int
    devices: frozenset[str]


def prepare(tx: Tx, waiting_devices: Any) -> None:
    """Before ``tx`` commits: a :class:`Delivery` for each patient scope it wrote whose devices wait
    (``waiting_devices(scope)``: their ids), in ``tx.handed``. See the module docstring."""
    start = tx.feed_start
    if start is None or CLINIC_SCOPE in tx.scopes:
        return
    for scope in tx.scopes:
        waiting = tuple(device for device in waiting_devices(scope) if device != tx.pusher)
        if not waiting:
            continue
        found: list[Any] = list(tx.execute(_ROWS, {"scope": scope, "start": start}))
        rows: list[ChangeRow] = [(int(r[0]), r[1], r[2], r[3], r[4] if r[3] == "upsert" else None) for r in found]
        if not rows or len(rows) > MAX_PAGE:
            continue  # a revocation (no rows), or more than one page: the pulls read
        valid: list[Any] = list(tx.execute(_VALID, {"ids": list(waiting), "scope": scope, "start": start}))
        if valid:  # else every waiting device was revoked: their pulls read (and are refused)
            before = valid[0][1] or 0
            tx.handed[scope] = Delivery(tuple(rows), int(before), frozenset(r[0] for r in valid))


def handed_page(delivery: Delivery, device_id: str, after: int, limit: int, budget: int = PAGE_BYTES) -> Page | None:
    """The page a pull from ``after`` gets from ``delivery`` (already known to be the newest commit
    of its scopes), or None when it must read the feed."""
    rows = delivery.rows
    if device_id not in delivery.devices or not delivery.before <= after < rows[0][0] or len(rows) > limit:
        return None
    size = sum(change_size(seq, kind, rid, op, None if data is None else len(data))
               for seq, kind, rid, op, data in rows)
    if len(rows) > 1 and size > budget:
        return None
    return Page(rows=list(rows), has_more=False, last_seq=rows[-1][0])
