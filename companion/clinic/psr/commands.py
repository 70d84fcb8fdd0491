"""What each ``companion-psr`` command does: call the staff API, then print text or JSON.

Every handler takes the parsed arguments and a :class:`~companion.clinic.staff_api.StaffClient` and
returns ``(object, text)``: the object is printed with ``--json`` (created objects always carry
``"id"``), the text otherwise.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...core.errors import RecordError
from ..staff_api import StaffClient
from .parsing import format_cents, parse_amount, parse_day, parse_duration, parse_start

Output = tuple[Any, str]
Handler = Callable[[argparse.Namespace, StaffClient], Output]


def _drop_none(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _iso(value: Any) -> str:
    return str(value.isoformat().replace("+00:00", "Z"))


def _patient_line(p: dict[str, Any]) -> str:
    return f"{p['id']}  {p['name']}" + (f"  born {p['dob']}" if p.get("dob") else "")


def _appointment_line(a: dict[str, Any]) -> str:
    return f"{a['id']}  {a['start']}  {a['minutes']} min  {a['kind']}  [{a['status']}]"


def _bill_line(b: dict[str, Any]) -> str:
    plan = b.get("payment_plan")
    extra = f"  plan {plan['status']} x{plan['installments']}" if plan else ""
    return f"{b['id']}  {format_cents(b['patient_cents'])} due {b['due']}  {b['description']}  [{b['status']}]{extra}"


def _result_line(r: dict[str, Any]) -> str:
    sampled = f"  sample taken {r['sample_taken']}" if r.get("sample_taken") else ""
    return f"{r['id']}  {r['test']}: {r['interpretation']}{sampled}  [{r['state']}]"


# -- patients ------------------------------------------------------------------------------------
def patient_add(args: argparse.Namespace, api: StaffClient) -> Output:
    dob = parse_day(args.dob, "--dob").isoformat() if args.dob else None
    made = api.add_patient(**_drop_none(name=args.name, dob=dob, phone=args.phone, email=args.email))
    return made, f"created patient {made['id']}"


def _positive(value: int, flag: str) -> int:
    if value < 1:
        raise RecordError(flag, "must be at least 1")
    return value


def patient_list(args: argparse.Namespace, api: StaffClient) -> Output:
    _positive(args.limit, "--limit")
    found = api.list_patients(args.search, limit=args.limit)
    lines = [_patient_line(p) for p in found["patients"]]
    return found["patients"], "\n".join(lines) if lines else "no patients found"


def patient_show(args: argparse.Namespace, api: StaffClient) -> Output:
    p = api.get_patient(args.patient_id)
    ins = p["insurance"]
    text = "\n".join([_patient_line(p), f"phone {p.get('phone') or '-'}  email {p.get('email') or '-'}",
                      f"insurance: {ins.get('payer') or '-'} {ins.get('member_id') or ''} [{ins['status']}]"])
    return p, text


def verify_insurance(args: argparse.Namespace, api: StaffClient) -> Output:
    p = api.verify_insurance(args.patient_id, args.status, args.note)
    return p, f"insurance of {p['id']} marked {p['insurance']['status']}"


def pairing_code(args: argparse.Namespace, api: StaffClient) -> Output:
    code = api.pairing_code(args.patient_id)
    return code, f"pairing code {code['code']} (valid until {code['expires_at']})"


# -- appointments and prep -------------------------------------------------------------------------
def appointment_add(args: argparse.Namespace, api: StaffClient) -> Output:
    start = parse_start(args.start)
    if not 1 <= args.minutes <= 24 * 60:
        raise RecordError("--minutes", "must be between 1 and 1440")
    made = api.add_appointment(args.patient_id, **_drop_none(
        start=_iso(start), minutes=args.minutes, kind=args.kind, location=args.location, provider=args.provider,
        what_to_bring=args.what_to_bring, note=args.note, sensitive=bool(args.sensitive)))
    return made, f"created appointment {made['id']} at {made['start']}"


def appointment_list(args: argparse.Namespace, api: StaffClient) -> Output:
    items = api.appointments(args.patient_id)
    return items, "\n".join(_appointment_line(a) for a in items) or "no appointments"


def appointment_reschedule(args: argparse.Namespace, api: StaffClient) -> Output:
    fields = _drop_none(start=_iso(parse_start(args.start)), minutes=args.minutes)
    made = api.update_appointment(args.appointment_id, **fields)
    return made, f"rescheduled {made['id']} to {made['start']} (sequence {made['sequence']})"


def appointment_cancel(args: argparse.Namespace, api: StaffClient) -> Output:
    made = api.cancel_appointment(args.appointment_id, args.reason)
    return made, f"cancelled {made['id']}"


def prep_add(args: argparse.Namespace, api: StaffClient) -> Output:
    made = api.add_prep(args.appointment_id, title=args.title, body=args.body,
                        before_minutes=parse_duration(args.before))
    return made, f"created prep step {made['id']} ({made['before_minutes']} min before)"


# -- bills -----------------------------------------------------------------------------------------
def bill_add(args: argparse.Namespace, api: StaffClient) -> Output:
    amount = parse_amount(args.amount, "--amount")
    insurance = parse_amount(args.insurance_paid, "--insurance-paid") if args.insurance_paid else 0
    due = parse_day(args.due, "--due").isoformat()
    made = api.add_bill(args.patient_id, amount_cents=amount, insurance_paid_cents=insurance, due=due,
                        description=args.description)
    return made, f"created bill {made['id']} for {format_cents(made['patient_cents'])} due {made['due']}"


def bill_list(args: argparse.Namespace, api: StaffClient) -> Output:
    items = api.bills(args.patient_id)
    return items, "\n".join(_bill_line(b) for b in items) or "no bills"


def bill_plan(args: argparse.Namespace, api: StaffClient) -> Output:
    made = api.set_payment_plan(args.bill_id, **_drop_none(status=args.status, installments=args.installments,
                                                           note=args.note))
    return made, f"payment plan of {made['id']}: {args.status}, {args.installments} installments"


def bill_mark(args: argparse.Namespace, api: StaffClient) -> Output:
    made = api.set_bill_status(args.bill_id, args.status)
    return made, f"bill {made['id']} is {made['status']}"


# -- results ---------------------------------------------------------------------------------------
def result_add(args: argparse.Namespace, api: StaffClient) -> Output:
    sampled = parse_day(args.sample_taken, "--sample-taken").isoformat() if args.sample_taken else None
    made = api.add_result(args.patient_id, **_drop_none(
        test=args.test, interpretation=args.interpretation, value=args.value, note=args.note,
        sensitive=bool(args.sensitive), sample_taken=sampled, appointment_id=args.appointment))
    return made, f"created result {made['id']} (held until released)"


def result_release(args: argparse.Namespace, api: StaffClient) -> Output:
    made = api.release_result(args.result_id)
    return made, f"released result {made['id']}"


def result_block(args: argparse.Namespace, api: StaffClient) -> Output:
    made = api.block_result(args.result_id)
    return made, f"blocked result {made['id']}"


def result_list(args: argparse.Namespace, api: StaffClient) -> Output:
    items = api.results(args.patient_id)
    return items, "\n".join(_result_line(r) for r in items) or "no results"


# -- messages, inbox, articles -----------------------------------------------------------------------
def message_send(args: argparse.Namespace, api: StaffClient) -> Output:
    made = api.send_message(args.patient_id, args.text, args.thread)
    return made, f"sent message {made['id']}"


def message_list(args: argparse.Namespace, api: StaffClient) -> Output:
    items = api.messages(args.patient_id)
    lines = [f"{m['sent_at']}  {m['author']}: {m['body']}" for m in reversed(items)]
    return items, "\n".join(lines) or "no messages"


def _inbox_line(item: dict[str, Any]) -> str:
    detail = item.get("detail") or {}
    what = detail.get("body") or detail.get("kind") or detail.get("appointment_id") or detail.get("bill_id") or ""
    flag = "*" if item["unread"] else " "
    return f"{flag} {item['id']}  {item['created_at']}  {item['patient_id']}  {item['kind']}  {str(what)[:80]}"


def inbox(args: argparse.Namespace, api: StaffClient) -> Output:
    if getattr(args, "item_id", None):
        made = api.mark_inbox(args.item_id, handled=args.inbox_action == "handle")
        return made, f"inbox item {made['id']} marked {'handled' if made['handled'] else 'read'}"
    state = "all" if args.all else "handled" if args.handled else "open"
    page = api.inbox(state=state, patient_id=args.patient)
    items = page["items"]
    text = "\n".join(_inbox_line(i) for i in items) or "inbox is empty"
    return items, f"{text}\n({page['unread']} unread, {page['total']} {state})" if items else text


def article_add(args: argparse.Namespace, api: StaffClient) -> Output:
    try:
        body = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordError("--file", f"cannot read {args.file}: {getattr(exc, 'strerror', None) or exc}") from None
    title = args.title
    if not title:
        heading = next((ln[2:].strip() for ln in body.splitlines() if ln.startswith("# ")), "")
        if not heading:
            raise RecordError("--title", "is required (the file has no '# Heading' to use)")
        title = heading
    made = api.add_article(**_drop_none(title=title, body=body, tags=args.tag or [],
                                        appointment_kind=args.appointment_kind))
    return made, f"published article {made['id']}"


def article_list(args: argparse.Namespace, api: StaffClient) -> Output:
    items = api.articles()
    return items, "\n".join(f"{a['id']}  {a['title']}  {' '.join(a['tags'])}" for a in items) or "no articles"


# -- devices, audit, staff -------------------------------------------------------------------------
def device_list(args: argparse.Namespace, api: StaffClient) -> Output:
    items = api.devices(args.patient_id)
    lines = [f"{d['id']}  {d['name']}  paired {d['created_at']}  {'REVOKED' if d['revoked'] else 'active'}"
             for d in items]
    return items, "\n".join(lines) or "no devices"


def device_revoke(args: argparse.Namespace, api: StaffClient) -> Output:
    made = api.revoke_device(args.device_id)
    return made, f"revoked device {made['id']}"


def audit(args: argparse.Namespace, api: StaffClient) -> Output:
    items = api.audit(limit=_positive(args.limit, "--limit"), patient_id=args.patient, actor_id=args.actor,
                      action=args.action)
    lines = [f"{e['id']}  {e['at']}  {e['actor_type']}:{e['actor_id']}  {e['action']}  {e.get('target') or ''}"
             f"{'  patient ' + e['patient_id'] if e.get('patient_id') else ''}" for e in items]
    return items, "\n".join(lines) or "no audit entries"


def staff_add(args: argparse.Namespace, api: StaffClient) -> Output:
    made = api.add_staff(args.name, args.role)
    return made, f"created {made['role']} {made['id']}\ntoken (shown once): {made['token']}"


def staff_list(args: argparse.Namespace, api: StaffClient) -> Output:
    items = api.list_staff()
    return items, "\n".join(f"{s['id']}  {s['role']:<9}  {'revoked' if s['revoked'] else 'active'}  {s['name']}"
                            for s in items)


def staff_revoke(args: argparse.Namespace, api: StaffClient) -> Output:
    made = api.revoke_staff(args.staff_id)
    return made, f"revoked staff {made['id']}"


def whoami(args: argparse.Namespace, api: StaffClient) -> Output:
    me = api.me()
    return me, f"{me['name']} ({me['role']}, {me['id']})"
