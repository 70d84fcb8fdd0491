"""Applying what devices push: each mutation at most once, with its real effect.

A push is one write transaction; each mutation in it runs in its own savepoint, so a rejected
one leaves no trace but its answer. The client's UUID is the primary key of ``mutations``:
a second copy — in the same batch, a retry, or one of 20 concurrent retries (writers are
serialised, see :mod:`.database`) — finds the first and answers ``duplicate``; the database
constraint is the backstop. The batch's ids are looked up in one query and its decisions and
audit rows are written in one statement each (see :func:`apply_push` for why that is safe).
A mutation that was rejected stays rejected (same reason) when re-sent, so one id always gets
one decision.

Rejections are business answers (2xx, ``status: rejected`` with a reason that names no patient
data). What a visit's state or a bill's plan allows is not decided here but by the core's rules
(:mod:`companion.core.care_rules`, through :mod:`.visits` and :mod:`.billing`), the same ones the staff
routes and the app use; their refusal (:class:`~companion.core.errors.NotAllowed`) is the reason.
An id that points outside the device's patient is rejected exactly like an id that does
not exist (NotAllowed ``unknown appointment``): a device learns nothing about other patients.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ...core.errors import NotAllowed, RecordError
from ...core.fields import iso, parse_datetime
from ...core.open_times import booking_appointment_id
from ...core.partner_notice import check_code
from ...core.protocol import bill_of_thread, validate_mutation
from ...core.requests import check_preferences, request_appointment_id
from . import billing, booking, bulk_insert, messaging, partner_notice, patients, results, visits
from .audit import AuditLog
from .auth import device_revoked, device_still_valid
from .bulk_insert import insert_rows
from .context import ServerContext
from .database import Database, Tx
from .principals import DevicePrincipal
from .records import Row
from .schema import audit, changes, inbox, messages, mutations

Effect = Callable[[Tx, ServerContext, DevicePrincipal, str, Mapping[str, Any]], str | None]


def _own(row: Row | None, device: DevicePrincipal, what: str) -> Row:
    if row is None or row["patient_id"] != device.patient_id:
        raise NotAllowed(f"unknown {what}")  # not theirs or none: the same answer
    return row


def _message_send(tx: Tx, ctx: ServerContext, device: DevicePrincipal, mid: str, p: Mapping[str, Any]) -> str:
    """A message; in a bill's thread (``billing:<bill id>``) a question about that bill, which must be
    the patient's own (``unknown bill`` otherwise) and becomes the bill's billing item."""
    thread = p.get("thread") or "general"
    bill_id = bill_of_thread(thread)
    bill = _own(billing.get_bill(tx, bill_id), device, "bill") if bill_id else None
    msg = messaging.receive_patient_message(tx, device.patient_id, p["body"], thread, mid, ctx.now())
    if bill is not None:
        messaging.file_bill_question(tx, device.patient_id, bill, msg, mid, ctx.now())
        return f"message:{msg['id']}"
    messaging.add_inbox_item(tx, device.patient_id, "message.send", ref_kind="message", ref_id=msg["id"],
                             mutation_id=mid, detail={"thread": thread, "body": p["body"]}, now=ctx.now())
    return f"message:{msg['id']}"


def _message_read(tx: Tx, ctx: ServerContext, device: DevicePrincipal, mid: str, p: Mapping[str, Any]) -> str:
    msg = _own(messaging.get_message(tx, p["message_id"]), device, "message")
    messaging.mark_read_by_patient(tx, msg, ctx.now())
    return f"message:{msg['id']}"


def _appointment_request(tx: Tx, ctx: ServerContext, device: DevicePrincipal, mid: str,
                         p: Mapping[str, Any]) -> str:
    """The request becomes a ``requested`` appointment under the id the device already shows.

    Its start is the patient's first concrete wish, else the time of asking (a placeholder the app
    shows as "Requested"; the desk sets the real time when it accepts).
    """
    preferred = [parse_datetime(t, f"payload.preferred[{i}]") for i, t in enumerate(p.get("preferred") or [])]
    days, times = check_preferences(p.get("days"), p.get("times"), "payload")
    if visits.get_appointment(tx, request_appointment_id(mid)) is not None:  # the same UUID spelt another way
        raise NotAllowed("this request was already received")
    appt = visits.create_appointment(tx, device.patient_id, {
        "start": preferred[0] if preferred else ctx.now(), "minutes": 30, "kind": p["kind"][:200],
        "status": "requested"}, ctx.now(), appointment_id=request_appointment_id(mid))
    messaging.add_inbox_item(tx, device.patient_id, "appointment.request", ref_kind="appointment",
                             ref_id=appt["id"], mutation_id=mid, now=ctx.now(), detail={
                                 "kind": p["kind"], "preferred": list(p.get("preferred") or []),
                                 "days": list(days), "times": list(times),
                                 "note": p.get("note") or None, "reason": p.get("reason")})
    return f"appointment:{appt['id']}"


def _appointment_book(tx: Tx, ctx: ServerContext, device: DevicePrincipal, mid: str,
                      p: Mapping[str, Any]) -> str:
    """A booking of an open time, under the id the device shows as "Booking…" (see :mod:`.booking`)."""
    appt = booking.book_open_time(tx, ctx.settings.site, service_id=p["service_id"],
                                  start=parse_datetime(p["start"], "payload.start"), patient_id=device.patient_id,
                                  source="patient", now=ctx.now(), appointment_id=booking_appointment_id(mid))
    return f"appointment:{appt['id']}"


def _partner_notify(tx: Tx, ctx: ServerContext, device: DevicePrincipal, mid: str, p: Mapping[str, Any]) -> str:
    """Anonymous partner notices: only the codes' hashes are kept (see :mod:`.partner_notice`); the
    patient's own released result, when named, gets the count. The answer names no code."""
    result_id = p.get("result_id")
    if result_id is not None:
        row = results.get_result(tx, result_id)
        _own(row if row is not None and row["state"] == "released" else None, device, "result")
    made = partner_notice.register_notices(tx, p["infection"], [check_code(c, "codes") for c in p["codes"]],
                                           result_id, ctx.now(), tz=ctx.settings.site.tz)
    return f"result:{result_id}" if result_id else f"notices:{made}"


def _appointment_confirm(tx: Tx, ctx: ServerContext, device: DevicePrincipal, mid: str,
                         p: Mapping[str, Any]) -> str:
    appt = _own(visits.get_appointment(tx, p["appointment_id"]), device, "appointment")
    visits.act_on_appointment(tx, appt, "confirm", "device", ctx.now())
    return f"appointment:{appt['id']}"


def _appointment_cancel(tx: Tx, ctx: ServerContext, device: DevicePrincipal, mid: str,
                        p: Mapping[str, Any]) -> str:
    appt = _own(visits.get_appointment(tx, p["appointment_id"]), device, "appointment")
    if visits.act_on_appointment(tx, appt, "cancel", "device", ctx.now())["status"] != appt["status"]:
        booking.release_booking(tx, ctx.settings.site, [appt["id"]], ctx.now())  # a booked time is free again
        if appt["status"] == "requested":  # withdrawn: the request's own item is settled, as a booking settles it
            messaging.close_open_items(tx, device.patient_id, "appointment.request", device.id, ctx.now(),
                                       ref_id=appt["id"])
        messaging.add_inbox_item(tx, device.patient_id, "appointment.cancel", ref_kind="appointment",
                                 ref_id=appt["id"], mutation_id=mid, now=ctx.now(),
                                 detail={"appointment_id": appt["id"], "reason": p.get("reason"),
                                         "kind": appt["kind"], "start": iso(appt["start"]), "was": appt["status"]})
    return f"appointment:{appt['id']}"


def _checkin_submit(tx: Tx, ctx: ServerContext, device: DevicePrincipal, mid: str, p: Mapping[str, Any]) -> str:
    appt = _own(visits.get_appointment(tx, p["appointment_id"]), device, "appointment")
    now = ctx.now()
    visits.act_on_appointment(tx, appt, "check_in", "device", now)  # stamps checked_in_at the first time
    patients.submit_checkin_details(tx, device.patient_id, p, now)
    messaging.add_inbox_item(tx, device.patient_id, "checkin.submit", ref_kind="appointment", ref_id=appt["id"],
                             mutation_id=mid, now=now, detail={
                                 "appointment_id": appt["id"], "insurance": p.get("insurance"),
                                 "phone": p.get("phone"), "email": p.get("email")})
    return f"appointment:{appt['id']}"


def _prep_done(tx: Tx, ctx: ServerContext, device: DevicePrincipal, mid: str, p: Mapping[str, Any]) -> str:
    prep = _own(visits.get_prep(tx, p["prep_id"]), device, "prep step")
    visits.set_prep_done(tx, prep["id"], bool(p.get("done", True)), ctx.now())
    return f"prep:{prep['id']}"


def _result_ack(tx: Tx, ctx: ServerContext, device: DevicePrincipal, mid: str, p: Mapping[str, Any]) -> str:
    row = results.get_result(tx, p["result_id"])
    if row is not None and row["state"] != "released":
        row = None  # held or blocked: it does not exist as far as the device knows
    result = _own(row, device, "result")
    results.acknowledge_result(tx, result, ctx.now())
    return f"result:{result['id']}"


def _plan_request(tx: Tx, ctx: ServerContext, device: DevicePrincipal, mid: str, p: Mapping[str, Any]) -> str:
    bill = _own(billing.get_bill(tx, p["bill_id"]), device, "bill")
    billing.set_plan(tx, bill, "requested", p["installments"], p.get("note"), ctx.now(), actor="device")
    messaging.add_inbox_item(tx, device.patient_id, "bill.plan_request", ref_kind="bill", ref_id=bill["id"],
                             mutation_id=mid, now=ctx.now(), detail={
                                 "bill_id": bill["id"], "installments": p["installments"], "note": p.get("note")})
    return f"bill:{bill['id']}"


EFFECTS: dict[str, Effect] = {
    "message.send": _message_send,
    "message.read": _message_read,
    "appointment.request": _appointment_request,
    "appointment.book": _appointment_book,
    "appointment.confirm": _appointment_confirm,
    "appointment.cancel": _appointment_cancel,
    "checkin.submit": _checkin_submit,
    "prep.done": _prep_done,
    "result.ack": _result_ack,
    "bill.plan_request": _plan_request,
    "partner.notify": _partner_notify,
}


_SEEN_COLUMNS = ("id", "patient_id", "status", "reason")


def prepare_statements(db: Database) -> None:
    """Compile the inserts of a run of messages at start-up (a few milliseconds the first push would
    otherwise spend): the columns that :func:`_apply_messages` and :func:`apply_push` write."""
    dialect = db.engine.dialect
    for table in (messages, changes, mutations, audit):
        bulk_insert.prepare(dialect, table, [c.name for c in table.columns if c.autoincrement is not True])
    bulk_insert.prepare(dialect, inbox, ["id", "patient_id", "kind", "ref_kind", "ref_id", "mutation_id", "detail",
                                         "created_at"])


def _seen_before(tx: Tx, ids: list[str]) -> dict[str, Row]:
    """The ``mutations`` rows of these ids, in one query. Its ``IN`` list is spelt out for the driver
    (``?`` or ``%s``): SQLAlchemy's expanding parameter re-renders the statement at every call, which
    for a batch of 100 ids cost several times the query itself."""
    if not ids:
        return {}
    mark = "?" if tx.conn.dialect.paramstyle == "qmark" else "%s"
    sql = (f"SELECT {', '.join(_SEEN_COLUMNS)} FROM {mutations.name} "
           f"WHERE id IN ({', '.join([mark] * len(ids))})")
    return {row[0]: dict(zip(_SEEN_COLUMNS, row, strict=True)) for row in tx.conn.exec_driver_sql(sql, tuple(ids))}


def apply_push(ctx: ServerContext, audit_log: AuditLog, device: DevicePrincipal, raw: list[dict[str, Any]],
               address: str) -> list[dict[str, Any]]:
    """Apply a batch in order; returns one ``{"id", "status", "reason"}`` per mutation.

    One transaction for the batch, and per batch (not per mutation) one lookup of the ids seen
    before and one insert each for the decisions and their audit rows. That is safe for
    at-most-once because writers are serialised (:meth:`Database.write` holds the write lock
    from before the lookup until commit): no other push can record one of these ids in between,
    and ids repeated inside the batch are tracked in ``seen`` as they are decided.

    Set-based where it counts: a run of new plain messages (``message.send`` outside a bill's
    thread, the bulk of what an app queues offline) is applied in one savepoint with one statement
    each for the messages, their feed changes and their inbox items (:func:`_apply_messages`);
    should that run be refused, its mutations are applied one by one as usual.
    """
    answers: list[dict[str, Any]] = []
    decided: list[dict[str, Any]] = []
    audited: list[dict[str, Any]] = []
    with ctx.db.write() as tx:
        tx.pusher = device.id  # its own waiting pulls end empty: it pulls its echoes after this answer
        # Revocation wins, whatever admitted the token (the pull memo learns of a revocation another
        # server process made only when its NOTIFY arrives): writers are serialised, so as of this
        # transaction the device either was revoked before it (refused whole) or was not.
        if not device_still_valid(ctx, device.id, tx.conn):
            raise device_revoked()
        ids = list(dict.fromkeys(str(item.get("id")) for item in raw))
        seen = _seen_before(tx, ids)

        def decide(answer: dict[str, Any], row: dict[str, Any] | None) -> None:
            answers.append(answer)
            if row is not None:
                seen[row["id"]] = row
                decided.append(row)
                audited.append(audit_log.entry(device, f"push.{row['type']}", patient_id=device.patient_id,
                                               target=answer.pop("target"),
                                               detail={"mutation_id": row["id"], "status": row["status"]},
                                               address=address))

        run: list[tuple[dict[str, Any], Mapping[str, Any]]] = []
        in_run: set[str] = set()

        def flush() -> None:
            done = _apply_messages(tx, ctx, device, run) if len(run) > 1 else None
            for answer, row in done if done is not None else (
                    _apply_one(tx, ctx, device, item, seen.get(str(item.get("id")))) for item, _ in run):
                decide(answer, row)
            run.clear()
            in_run.clear()

        for item in raw:
            mid = str(item.get("id"))
            plain = _plain_message(item) if mid not in seen else None
            if plain is not None and mid not in in_run:
                run.append((item, plain))
                in_run.add(mid)
                continue
            flush()
            decide(*_apply_one(tx, ctx, device, item, seen.get(mid)))
        flush()
        insert_rows(tx.conn, mutations, decided)
        audit_log.record_rows(tx, audited)
    return answers


def _plain_message(item: dict[str, Any]) -> Mapping[str, Any] | None:
    """The validated payload of a ``message.send`` outside a bill's thread, else ``None``."""
    if item.get("type") != "message.send":
        return None
    try:
        payload: Mapping[str, Any] = validate_mutation(item)["payload"]
    except RecordError:
        return None  # refused one by one, with its reason
    return None if bill_of_thread(payload.get("thread") or "general") else payload


def _apply_messages(tx: Tx, ctx: ServerContext, device: DevicePrincipal,
                    run: list[tuple[dict[str, Any], Mapping[str, Any]]]
                    ) -> list[tuple[dict[str, Any], dict[str, Any]]] | None:
    """What :func:`_message_send` does for each of ``run``, set-based in one savepoint (``None`` when
    it was refused: nothing of it stays, and the caller applies the run one by one)."""
    scopes_before = set(tx.scopes)
    now = ctx.now()
    sent = [(str(item.get("id")), p["body"], p.get("thread") or "general") for item, p in run]
    try:
        with tx.conn.begin_nested():
            rows = messaging.receive_patient_messages(tx, device.patient_id,
                                                      [(body, thread, mid) for mid, body, thread in sent], now)
            messaging.add_inbox_items(tx, [messaging.inbox_item_row(
                device.patient_id, "message.send", ref_kind="message", ref_id=row["id"], mutation_id=mid, now=now,
                detail={"thread": thread, "body": body}) for row, (mid, body, thread) in zip(rows, sent, strict=True)])
    except (RecordError, NotAllowed):
        tx.scopes.intersection_update(scopes_before)
        return None
    return [({"id": mid, "status": "applied", "reason": None, "target": f"message:{row['id']}"},
             {"id": mid, "device_id": device.id, "patient_id": device.patient_id, "type": "message.send",
              "status": "applied", "reason": None, "received_at": now})
            for row, (mid, _, _) in zip(rows, sent, strict=True)]


def _apply_one(tx: Tx, ctx: ServerContext, device: DevicePrincipal, item: dict[str, Any],
               seen: Row | None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The answer, plus the ``mutations`` row to record when this id is decided now (else ``None``)."""
    mid = str(item.get("id"))
    if seen is not None:
        if seen["patient_id"] != device.patient_id:
            return {"id": mid, "status": "rejected", "reason": "this mutation id was already used"}, None
        if seen["status"] == "applied":
            return {"id": mid, "status": "duplicate", "reason": None}, None
        return {"id": mid, "status": "rejected", "reason": seen["reason"]}, None
    status, reason, target = "applied", None, None
    mtype = str(item.get("type"))[:40]
    scopes_before = set(tx.scopes)  # a rolled-back savepoint also rolls back its NOTIFY: forget its scopes
    try:
        mutation = validate_mutation(item)
        mtype = mutation["type"]
        with tx.conn.begin_nested():
            target = EFFECTS[mtype](tx, ctx, device, mid, mutation["payload"])
    except (RecordError, NotAllowed) as exc:
        status, reason = "rejected", str(exc)[:300]
        tx.scopes.intersection_update(scopes_before)
    row = {"id": mid, "device_id": device.id, "patient_id": device.patient_id, "type": mtype, "status": status,
           "reason": reason, "received_at": ctx.now()}
    return {"id": mid, "status": status, "reason": reason, "target": target}, row
