"""Wire format of sync protocol v1, shared by the app and the clinic server (stdlib only).

Every request from the app carries ``Companion-Protocol: 1``. All bodies are JSON.

Pairing — ``POST /v1/devices``::

    request  {"code": "K7Q-4MZ-9TD", "device_name": "Pixel 8"}
    answer   {"device_id": "dev_…", "token": "…", "patient_id": "pat_…", "clinic": {"name": "…"}}

Pull — ``GET /v1/sync?cursor=C&limit=N&wait=S`` (bearer device token)::

    answer   {"changes": [CHANGE, …], "cursor": "…", "has_more": false}
    CHANGE   {"seq": 41, "kind": "message", "id": "msg_…", "op": "upsert", "data": {…record…}}
           | {"seq": 42, "kind": "result", "id": "res_…", "op": "delete", "data": null}

``cursor`` is opaque to the app (the server wraps its sequence number); an absent
cursor means "from the beginning". ``limit`` ≤ :data:`MAX_PAGE`. A page is also limited by
size: the server stops adding changes once the next would take the page past
:data:`PAGE_BYTES` (it always sends at least one, and says ``has_more``), and refuses to
write a record larger than :data:`MAX_RECORD_BYTES` as sent, so every page fits well within
the :data:`MAX_RESPONSE_BYTES` the app accepts. ``wait`` ≤
:data:`MAX_WAIT` seconds long-polls when nothing is new. A cursor the server no
longer accepts gets 410 ``{"error": {"code": "cursor_expired", …}}``: resync from scratch.

Language: a pull may carry ``Companion-Language: es`` (the language the app speaks, a lower-case
language code of 2 or 3 letters). The server keeps the latest per device, so the desk can show
each patient's language beside their name; a malformed value is refused with 422.

Rollback check: a pull may carry ``Companion-Vault-Generation: N`` (the device's vault
generation, which only grows). The server keeps the highest it has seen from the
device (refreshed at most every few minutes, so it costs no extra write) and answers
``Companion-Vault-Generation-Seen: M`` with it. ``M > N`` means the vault was put back
to an older copy: the app says so and resyncs from scratch.

Push — ``POST /v1/sync`` (bearer device token)::

    request  {"mutations": [{"id": UUID, "type": "message.send", "payload": {…}, "created_at": ISO}, …]}
    answer   {"results": [{"id": UUID, "status": "applied"|"duplicate"|"rejected", "reason": null|"…"}, …]}

A ``message.send`` whose ``thread`` is ``billing:<bill id>`` (:func:`bill_thread`) is a question about
that bill: the server refuses it (``unknown bill``) unless the bill is the device's patient's, and
the desk sees it as a billing item.

Errors everywhere: ``{"error": {"code": "…", "message": "…"}}`` with 401 (unknown or
revoked token: code ``device_revoked`` for a revoked device), 403, 404, 409/422,
426 (``upgrade_required``), 429 (``Retry-After`` header).

This module turns decoded JSON into typed values and refuses anything
malformed with :class:`~companion.core.errors.ProtocolError` (for server answers)
or :class:`~companion.core.errors.RecordError` (for payloads), naming the path.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .errors import InsecureServer, ProtocolError, RecordError
from .fields import (
    get_bool,
    get_choice,
    get_int,
    get_str,
    opt_str,
    parse_datetime,
    reject_unknown,
    require_mapping,
)
from .models import (
    MAX_BODY,
    MAX_INSTALLMENTS,
    MIN_REQUESTED_INSTALLMENTS,
    RECORD_TYPES,
    Record,
    parse_record,
)
from .partner_notice import INFECTIONS, MAX_PARTNERS, check_code
from .requests import MAX_REQUEST_NOTE, check_preferences

PROTOCOL_VERSION = 1
PROTOCOL_HEADER = "Companion-Protocol"
GENERATION_HEADER = "Companion-Vault-Generation"
GENERATION_SEEN_HEADER = "Companion-Vault-Generation-Seen"
LANGUAGE_HEADER = "Companion-Language"
# On the first page of a pull from the beginning (a first sync, a resync) that has more: how many
# changes come after it, so the app can say "1,200 of 10,000 records". Advisory: the app clamps it.
REMAINING_HEADER = "Companion-Remaining"
MAX_GENERATION = 2**62
MAX_PAGE = 2000
DEFAULT_PAGE = 200
MAX_WAIT = 30
MAX_MUTATIONS = 100
MAX_REQUEST_BYTES = 1024 * 1024
MAX_RESPONSE_BYTES = 8 * 1024 * 1024  # the largest answer the app reads
PAGE_BYTES = 2 * 1024 * 1024  # a pull page stops growing here (changes as sent, JSON)
MAX_RECORD_BYTES = 1024 * 1024  # one change as sent; larger records are refused when written
assert MAX_RECORD_BYTES < PAGE_BYTES < MAX_RESPONSE_BYTES // 2

RECORD_KINDS: tuple[str, ...] = tuple(RECORD_TYPES)
THREADS = ("general", "billing", "appointments", "results", "counselling")
BILL_THREAD_PREFIX = "billing:"  # a question about one bill: ``billing:<bill id>`` (see bill_thread)

# mutation type -> (required payload keys, optional payload keys)
MUTATION_TYPES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "message.send": (frozenset({"body"}), frozenset({"thread"})),
    "message.read": (frozenset({"message_id"}), frozenset()),
    "appointment.request": (frozenset({"kind"}), frozenset({"preferred", "note", "reason", "days", "times"})),
    "appointment.book": (frozenset({"service_id", "start"}), frozenset()),
    "appointment.confirm": (frozenset({"appointment_id"}), frozenset()),
    "appointment.cancel": (frozenset({"appointment_id"}), frozenset({"reason"})),
    "checkin.submit": (frozenset({"appointment_id"}), frozenset({"phone", "email", "insurance"})),
    "prep.done": (frozenset({"prep_id"}), frozenset({"done"})),
    "result.ack": (frozenset({"result_id"}), frozenset()),
    "bill.plan_request": (frozenset({"bill_id", "installments"}), frozenset({"note"})),
    "partner.notify": (frozenset({"infection", "codes"}), frozenset({"result_id"})),
}
MUTATION_STATUSES = ("applied", "duplicate", "rejected")


@dataclass(frozen=True, slots=True)
class Change:
    seq: int
    kind: str
    id: str
    op: str  # upsert | delete
    record: Record | None  # parsed record for upserts, None for tombstones


@dataclass(frozen=True, slots=True)
class PullPage:
    changes: tuple[Change, ...]
    cursor: str
    has_more: bool


@dataclass(frozen=True, slots=True)
class MutationResult:
    id: str
    status: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class Pairing:
    device_id: str
    token: str
    patient_id: str
    clinic_name: str | None


def _protocol(fn: Any, *args: Any) -> Any:
    """Run a field parser on a server answer; a bad field becomes a ProtocolError."""
    try:
        return fn(*args)
    except RecordError as exc:
        raise ProtocolError(f"malformed server answer: {exc}") from None


_CHANGE_FIELDS = frozenset({"seq", "kind", "id", "op", "data"})


def parse_change(data: Any, path: str) -> Change:
    d = require_mapping(data, path)
    reject_unknown(d, _CHANGE_FIELDS, path)
    seq = get_int(d, "seq", path, minimum=0)
    kind = get_choice(d, "kind", RECORD_KINDS, path)
    rid = get_str(d, "id", path, max_len=100)
    op = get_choice(d, "op", ("upsert", "delete"), path)
    record: Record | None = None
    if op == "upsert":
        record = parse_record(kind, d.get("data"), f"{path}.data")
        if record.id != rid:
            raise RecordError(f"{path}.data.id", "does not match the change id")
    elif d.get("data") is not None:
        raise RecordError(f"{path}.data", "a delete carries no data")
    return Change(seq=seq, kind=kind, id=rid, op=op, record=record)


def _parse_pull(data: Any) -> PullPage:
    d = require_mapping(data, "answer")
    reject_unknown(d, {"changes", "cursor", "has_more"}, "answer")
    raw = d.get("changes")
    if not isinstance(raw, list):
        raise RecordError("answer.changes", "expected a list")
    if len(raw) > MAX_PAGE:
        raise RecordError("answer.changes", f"more than {MAX_PAGE} changes in one page")
    changes = tuple(parse_change(c, f"answer.changes[{i}]") for i, c in enumerate(raw))
    return PullPage(changes=changes, cursor=get_str(d, "cursor", "answer", max_len=200),
                    has_more=get_bool(d, "has_more", "answer"))


def parse_pull_response(data: Any) -> PullPage:
    """Validate a decoded pull answer; raises ProtocolError naming the bad path."""
    page: PullPage = _protocol(_parse_pull, data)
    return page


def _parse_push(data: Any, sent_ids: frozenset[str]) -> tuple[MutationResult, ...]:
    d = require_mapping(data, "answer")
    raw = d.get("results")
    if not isinstance(raw, list):
        raise RecordError("answer.results", "expected a list")
    out = []
    for i, item in enumerate(raw):
        path = f"answer.results[{i}]"
        r = require_mapping(item, path)
        mid = get_str(r, "id", path, max_len=100)
        if mid not in sent_ids:
            raise RecordError(f"{path}.id", "answers a mutation that was not sent")
        out.append(MutationResult(id=mid, status=get_choice(r, "status", MUTATION_STATUSES, path),
                                  reason=opt_str(r, "reason", path, max_len=1000)))
    return tuple(out)


def parse_push_response(data: Any, sent_ids: frozenset[str]) -> tuple[MutationResult, ...]:
    results: tuple[MutationResult, ...] = _protocol(_parse_push, data, sent_ids)
    return results


def _parse_pairing(data: Any) -> Pairing:
    d = require_mapping(data, "answer")
    clinic = d.get("clinic")
    name = None
    if clinic is not None:
        name = opt_str(require_mapping(clinic, "answer.clinic"), "name", "answer.clinic", max_len=200)
    return Pairing(device_id=get_str(d, "device_id", "answer", max_len=100),
                   token=get_str(d, "token", "answer", max_len=500),
                   patient_id=get_str(d, "patient_id", "answer", max_len=100), clinic_name=name)


def parse_pairing_response(data: Any) -> Pairing:
    pairing: Pairing = _protocol(_parse_pairing, data)
    return pairing


def is_loopback(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 and ::1 — the only hosts plain http:// may reach."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_server_url(server_url: str) -> str:
    """The normalised base URL, or InsecureServer before any connection is attempted (app and staff clients)."""
    text = server_url.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:
        raise InsecureServer(f"not a server address: {text[:80]!r}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise InsecureServer(f"not a server address (use https://…): {text[:80]!r}")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InsecureServer("the server address must not carry a user, password, query or fragment")
    if parts.scheme == "http" and not is_loopback(host):
        raise InsecureServer(
            f"refusing plain http:// to {host}: the clinic's server must use https:// (http is only for this computer)"
        )
    return text.rstrip("/")


def error_of(data: Any) -> tuple[str, str]:
    """``(code, message)`` of an error answer, tolerating junk (never raises)."""
    if isinstance(data, Mapping):
        err = data.get("error")
        if isinstance(err, Mapping):
            code, msg = err.get("code"), err.get("message")
            if isinstance(code, str) and isinstance(msg, str):
                return code[:100], msg[:300]
    return "unknown", "the server gave an unexpected answer"


def bill_thread(bill_id: str) -> str:
    """The conversation about one bill: its messages carry the bill's id in their ``thread``.

    A ``message.send`` into it is a question about that bill (the server checks the bill is the
    patient's and files it as a billing item); sending again continues the same conversation.
    """
    return f"{BILL_THREAD_PREFIX}{bill_id}"


def parse_generation(raw: str | None) -> int | None:
    """A vault generation as a header carries it (ASCII digits, at most :data:`MAX_GENERATION`), else ``None``."""
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 19 or int(raw) > MAX_GENERATION:
        return None
    return int(raw)


def bill_of_thread(thread: str) -> str | None:
    """The bill a thread is about (``billing:bil_…`` -> ``bil_…``), or ``None`` for the other threads."""
    if thread.startswith(BILL_THREAD_PREFIX):
        return thread[len(BILL_THREAD_PREFIX):] or None
    return None


def check_thread(value: Any, path: str) -> str:
    """One of :data:`THREADS`, or a bill's thread (:func:`bill_thread`); RecordError otherwise."""
    if isinstance(value, str) and value in THREADS:
        return value
    bill_id = bill_of_thread(value) if isinstance(value, str) else None
    if bill_id is not None and len(bill_id) <= 40 and all(c.isascii() and (c.isalnum() or c == "_") for c in bill_id):
        return str(value)
    raise RecordError(path, f"must be one of {', '.join(THREADS)} or {BILL_THREAD_PREFIX}<bill id>")


def validate_mutation(data: Any, path: str = "mutation") -> dict[str, Any]:
    """Check one outgoing/incoming mutation's envelope and payload; returns it as a plain dict.

    Used by the app before queueing and by the server before applying, so both
    refuse the same things with the same field names (RecordError).
    """
    d = require_mapping(data, path)
    reject_unknown(d, {"id", "type", "payload", "created_at"}, path)
    mid = get_str(d, "id", path, max_len=100)
    try:
        uuid.UUID(mid)
    except ValueError:
        raise RecordError(f"{path}.id", "must be a UUID") from None
    mtype = get_choice(d, "type", tuple(MUTATION_TYPES), path)
    required, optional = MUTATION_TYPES[mtype]
    ppath = f"{path}.payload"
    payload = require_mapping(d.get("payload"), ppath)
    reject_unknown(payload, required | optional, ppath)
    for key in sorted(required):
        if payload.get(key) is None:
            raise RecordError(f"{ppath}.{key}", "is required")
    for key, value in payload.items():
        if key == "body":
            get_str(payload, key, ppath, max_len=MAX_BODY)
        elif key == "thread":
            check_thread(value, f"{ppath}.thread")
        elif key == "installments":
            get_int(payload, key, ppath, minimum=MIN_REQUESTED_INSTALLMENTS, maximum=MAX_INSTALLMENTS)
        elif key == "done":
            get_bool(payload, key, ppath)
        elif key == "preferred":
            if not isinstance(value, list) or len(value) > 5 or not all(isinstance(x, str) for x in value):
                raise RecordError(f"{ppath}.preferred", "expected up to 5 ISO 8601 times")
        elif key == "insurance":
            ins = require_mapping(value, f"{ppath}.insurance")
            reject_unknown(ins, {"payer", "member_id", "group"}, f"{ppath}.insurance")
            for sub in ins:
                opt_str(ins, sub, f"{ppath}.insurance", max_len=200 if sub == "payer" else 100)
        elif key == "kind":
            get_str(payload, key, ppath, max_len=200)
        elif key == "codes":
            if not isinstance(value, list) or not 1 <= len(value) <= MAX_PARTNERS:
                raise RecordError(f"{ppath}.codes", f"expected 1 to {MAX_PARTNERS} notice codes")
            codes = [check_code(c, f"{ppath}.codes[{i}]") for i, c in enumerate(value)]
            if len(set(codes)) != len(codes):
                raise RecordError(f"{ppath}.codes", "names a code twice")
        elif key == "infection":
            get_choice(payload, key, tuple(INFECTIONS), ppath)
        elif key == "service_id":
            get_str(payload, key, ppath, max_len=40)
        elif key == "start" and mtype == "appointment.book":
            parse_datetime(get_str(payload, key, ppath, max_len=40), f"{ppath}.start")
        elif key in ("days", "times"):
            continue  # checked together below
        elif key == "note" and mtype == "appointment.request":
            get_str(payload, key, ppath, max_len=MAX_REQUEST_NOTE, allow_empty=True)
        else:
            get_str(payload, key, ppath, max_len=2000)
    if mtype == "appointment.request":
        check_preferences(payload.get("days"), payload.get("times"), ppath)
    out = {"id": mid, "type": mtype, "payload": dict(payload)}
    if d.get("created_at") is not None:
        out["created_at"] = get_str(d, "created_at", path, max_len=40)
    return out
