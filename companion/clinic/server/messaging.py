"""Messages between clinic and patient, and the PSR inbox of everything patients send.

Messages: a clinic message is written by staff; a patient message arrives as a ``message.send``
mutation and carries the mutation id as ``client_id``, so the app can match the copy that comes
back in its feed to the outbox entry it sent. A new message is written and published by
:func:`_add_messages`, a change to one by :func:`_save_message`.

Inbox: one item per thing a patient asked for (message, appointment request or cancellation,
check-in, payment-plan request, question about a bill), with what staff need to act on it in
``detail``. Items start unread; staff mark them read and handled, or answer them
(:func:`answer_item`: the reply goes into the item's thread and settles it).

A question about a bill is a patient message in the bill's thread (``billing:<bill id>``,
:func:`companion.core.protocol.bill_thread`); :func:`file_bill_question` keeps one open
``bill.question`` item per bill, so a second question before the answer continues the first item.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...core.errors import NotAllowed
from ...core.references import bill_reference
from .bulk_insert import insert_rows
from .changes import publish_many, save_and_publish
from .database import Tx, violates_foreign_key
from .pagination import Order, PageRequest, paginate
from .records import Row, message_of, row_by_id
from .schema import inbox, messages
from .tokens import new_id

_ADD_INBOX_ITEM = sa.insert(inbox)


def get_message(conn: Connection | Tx, message_id: str) -> Row | None:
    return row_by_id(conn, messages, message_id)


MESSAGE_ORDER = Order.of("messages", (messages.c.sent_at, True), messages.c.id)
INBOX_ORDER = Order.of("inbox", (inbox.c.created_at, True), inbox.c.id)


def list_messages(conn: Connection, patient_id: str, page: PageRequest) -> tuple[list[Row], str | None]:
    """One page of the patient's conversation, newest first."""
    return paginate(conn, sa.select(messages).where(messages.c.patient_id == patient_id), MESSAGE_ORDER, page)


def send_clinic_message(tx: Tx, patient_id: str, body: str, thread: str, staff_id: str, staff_name: str,
                        now: datetime) -> Row:
    """A staff member's message to the patient; ``LookupError`` when there is no such patient. The
    message's foreign key says so as the row goes in (a PSR's message is a live change's first
    step: no probe of its own), and the caller's transaction rolls back with nothing written."""
    row = _message_row(patient_id, thread, "clinic", body, now, staff_id=staff_id, author_name=staff_name)
    try:
        _add_messages(tx, patient_id, [row])
    except sa.exc.IntegrityError as exc:
        if violates_foreign_key(exc):
            raise LookupError(patient_id) from None
        raise
    return row


def receive_patient_message(tx: Tx, patient_id: str, body: str, thread: str, client_id: str, now: datetime) -> Row:
    row = _message_row(patient_id, thread, "patient", body, now, client_id=client_id)
    _add_messages(tx, patient_id, [row])
    return row


def receive_patient_messages(tx: Tx, patient_id: str, items: Sequence[tuple[str, str, str]],
                             now: datetime) -> list[dict[str, Any]]:
    """:func:`receive_patient_message` for each ``(body, thread, client_id)`` (not a bill's thread), in
    one statement for the rows and one for their feed changes: a push's run of plain messages."""
    rows = [_message_row(patient_id, thread, "patient", body, now, client_id=client_id)
            for body, thread, client_id in items]
    _add_messages(tx, patient_id, rows)
    return rows


def _message_row(patient_id: str, thread: str, author: str, body: str, now: datetime, *, staff_id: str | None = None,
                 author_name: str | None = None, client_id: str | None = None) -> dict[str, Any]:
    return {"id": new_id("msg"), "patient_id": patient_id, "thread": thread, "author": author, "body": body,
            "sent_at": now, "staff_id": staff_id, "author_name": author_name, "read_at": None, "client_id": client_id}


def _add_messages(tx: Tx, patient_id: str, rows: Sequence[Row]) -> None:
    """The one way new messages are written: the rows (every column, so nothing is read back) and their
    feed changes, new in this transaction (no earlier change to drop); one statement each."""
    if rows:
        insert_rows(tx.conn, messages, rows)
        publish_many(tx, patient_id, [message_of(row) for row in rows], fresh=True)


def mark_read_by_patient(tx: Tx, message: Row, now: datetime) -> Row:
    return _save_message(tx, message["id"], {} if message["read_at"] else {"read_at": now})


def _save_message(tx: Tx, message_id: str, values: Mapping[str, Any]) -> Row:
    """The one write path for a message's changes: apply and publish."""
    return save_and_publish(tx, messages, message_id, values, message_of)


# -- inbox -----------------------------------------------------------------------------------------
def add_inbox_item(tx: Tx, patient_id: str, kind: str, *, ref_kind: str | None, ref_id: str | None,
                   mutation_id: str | None, detail: Mapping[str, Any], now: datetime) -> str:
    row = inbox_item_row(patient_id, kind, ref_kind=ref_kind, ref_id=ref_id, mutation_id=mutation_id,
                         detail=detail, now=now)
    tx.execute(_ADD_INBOX_ITEM, row)
    return str(row["id"])


def inbox_item_row(patient_id: str, kind: str, *, ref_kind: str | None, ref_id: str | None,
                   mutation_id: str | None, detail: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A new inbox item's row, for :func:`add_inbox_item` or several at once (:func:`add_inbox_items`)."""
    return {"id": new_id("inb"), "patient_id": patient_id, "kind": kind, "ref_kind": ref_kind, "ref_id": ref_id,
            "mutation_id": mutation_id, "detail": json.dumps(dict(detail)), "created_at": now}


def add_inbox_items(tx: Tx, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows from :func:`inbox_item_row`, in one statement."""
    insert_rows(tx.conn, inbox, rows)


def file_bill_question(tx: Tx, patient_id: str, bill: Row, message: Row, mutation_id: str, now: datetime) -> str:
    """The billing item for a patient's question about ``bill``: a new one, or the bill's open one
    continued (the newest question shown, unread again for the desk)."""
    detail = {"thread": message["thread"], "body": message["body"], "bill_id": bill["id"],
              "reference": bill_reference(bill["id"]), "amount_cents": bill["patient_cents"],
              "due": bill["due"].isoformat(), "description": bill["description"], "questions": 1}
    query = sa.select(inbox).where(inbox.c.patient_id == patient_id, inbox.c.kind == "bill.question",
                                   inbox.c.ref_id == bill["id"], inbox.c.handled_at.is_(None))
    open_item = tx.execute(query.order_by(inbox.c.created_at)).mappings().first()
    if open_item is None:
        return add_inbox_item(tx, patient_id, "bill.question", ref_kind="bill", ref_id=bill["id"],
                              mutation_id=mutation_id, detail=detail, now=now)
    detail["questions"] = int(json.loads(open_item["detail"] or "{}").get("questions") or 1) + 1
    tx.execute(sa.update(inbox).where(inbox.c.id == open_item["id"]).values(
        detail=json.dumps(detail), read_at=None, read_by=None))
    return str(open_item["id"])


ANSWERABLE = ("message.send", "bill.question")  # items a reply answers


def answer_item(tx: Tx, item: Row, body: str, staff_id: str, staff_name: str, now: datetime) -> Row:
    """Reply to the patient in the item's thread; the reply settles the thread's open items."""
    if item["kind"] not in ANSWERABLE:
        raise NotAllowed("only a message or a billing question is answered with a reply")
    thread = str(json.loads(item["detail"] or "{}").get("thread") or "general")
    sent = send_clinic_message(tx, item["patient_id"], body, thread, staff_id, staff_name, now)
    close_open_items(tx, item["patient_id"], "message.send", staff_id, now, thread=thread)
    if item["kind"] == "bill.question":
        close_open_items(tx, item["patient_id"], "bill.question", staff_id, now, ref_id=item["ref_id"])
    return sent


def get_inbox_item(conn: Connection | Tx, item_id: str) -> Row | None:
    return row_by_id(conn, inbox, item_id)


def list_inbox(conn: Connection, page: PageRequest, *, state: str = "open",
               patient_id: str | None = None) -> tuple[list[Row], str | None, int, int]:
    """``(one page of items newest first, next cursor, total matching, unread count)``; ``state`` is
    open | handled | all."""
    condition: list[sa.ColumnElement[bool]] = []
    if state == "open":
        condition.append(inbox.c.handled_at.is_(None))
    elif state == "handled":
        condition.append(inbox.c.handled_at.is_not(None))
    if patient_id:
        condition.append(inbox.c.patient_id == patient_id)
    total = conn.execute(sa.select(sa.func.count()).select_from(inbox).where(*condition)).scalar_one()
    unread = conn.execute(sa.select(sa.func.count()).select_from(inbox).where(
        *condition, inbox.c.read_at.is_(None), inbox.c.handled_at.is_(None))).scalar_one()
    rows, after = paginate(conn, sa.select(inbox).where(*condition), INBOX_ORDER, page)
    return rows, after, int(total), int(unread)


def mark_inbox_item(tx: Tx, item: Row, staff_id: str, *, handled: bool, now: datetime) -> Row:
    """Mark read (and, with ``handled``, done). Repeating it keeps the first time and person."""
    values: dict[str, Any] = {}
    if item["read_at"] is None:
        values.update(read_at=now, read_by=staff_id)
    if handled and item["handled_at"] is None:
        values.update(handled_at=now, handled_by=staff_id)
    if values:
        tx.execute(sa.update(inbox).where(inbox.c.id == item["id"]).values(values))
    row = get_inbox_item(tx, item["id"])
    assert row is not None
    return row


# Built once, as the PSR's every message asks it (building a statement costs more than running it).
_OPEN_ITEMS = sa.select(inbox).where(inbox.c.patient_id == sa.bindparam("patient_id"),
                                     inbox.c.kind == sa.bindparam("kind"), inbox.c.handled_at.is_(None)
                                     ).order_by(inbox.c.created_at)
_OPEN_ITEMS_OF = _OPEN_ITEMS.where(inbox.c.ref_id == sa.bindparam("ref_id"))


def close_open_items(tx: Tx, patient_id: str, kind: str, staff_id: str, now: datetime, *,
                     ref_id: str | None = None, thread: str | None = None) -> list[Row]:
    """Mark done the patient's open items of ``kind`` that an answer settles; returns them as they were.

    ``ref_id`` narrows to one record's items (a request's appointment); ``thread`` to one
    conversation (a reply settles the messages of its thread only).
    """
    query, params = (_OPEN_ITEMS, {"patient_id": patient_id, "kind": kind}) if ref_id is None else (
        _OPEN_ITEMS_OF, {"patient_id": patient_id, "kind": kind, "ref_id": ref_id})
    rows: list[Row] = [dict(r) for r in tx.execute(query, params).mappings()]
    if thread is not None:
        rows = [r for r in rows if (json.loads(r["detail"] or "{}").get("thread") or "general") == thread]
    for row in rows:
        mark_inbox_item(tx, row, staff_id, handled=True, now=now)
    return rows
