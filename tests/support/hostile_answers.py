"""Hypothesis strategies for malformed server answers, each guaranteed invalid in at least one way.

A valid pull page or push answer is built from sample records, then exactly one
corruption is applied: a wrong top-level type, a missing or mistyped field, an
unknown field or record kind, an id that does not match, a page over the size
limit, another patient's profile, raw bytes that are not JSON, a truncated
body, absurd nesting, or an error status. The client must refuse every one with
a CompanionError and leave the vault as it was.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

from companion.core.protocol import MAX_PAGE

PATIENT = "pat_1"

RECORDS: dict[str, dict[str, Any]] = {
    "message": {"id": "msg_1", "thread": "general", "author": "clinic", "body": "See you soon.",
                "sent_at": "2026-03-01T10:00:00Z", "author_name": "Sam", "read_at": None, "client_id": None},
    "appointment": {"id": "apt_1", "start": "2026-03-02T09:00:00Z", "minutes": 30, "kind": "Check-up",
                    "status": "scheduled", "location": "Room 2", "provider": "Dr A", "sensitive": False,
                    "sequence": 0},
    "prep": {"id": "prep_1", "appointment_id": "apt_1", "title": "Fast", "body": "No food", "before_minutes": 720,
             "done_at": None},
    "bill": {"id": "bill_1", "description": "Visit", "total_cents": 12000, "insurance_paid_cents": 2000,
             "patient_cents": 10000, "due": "2026-04-01", "status": "open", "lines": [], "payment_plan": None},
    "result": {"id": "res_1", "test": "Panel", "interpretation": "negative", "released_at": "2026-03-03T12:00:00Z",
               "sensitive": True, "acknowledged_at": None},
    "article": {"id": "art_1", "title": "What to expect", "body": "Text", "published_at": "2026-01-01T00:00:00Z",
                "tags": ["visit"]},
    "profile": {"id": PATIENT, "name": "Alex Doe", "dob": "1990-01-02", "phone": None, "email": None},
}

# Fields without a default: removing any one makes the record invalid.
REQUIRED: dict[str, tuple[str, ...]] = {
    "message": ("id", "thread", "author", "body", "sent_at"),
    "appointment": ("id", "start", "minutes", "kind"),
    "prep": ("id", "appointment_id", "title", "body", "before_minutes"),
    "bill": ("id", "description", "total_cents", "patient_cents", "due"),
    "result": ("id", "test", "interpretation", "released_at"),
    "article": ("id", "title", "body", "published_at"),
    "profile": ("id", "name"),
}
# Values that are invalid for a field (wrong type, empty, out of range, unknown choice).
WRONG: dict[str, dict[str, list[Any]]] = {
    "message": {"thread": [1, []], "author": ["robot", 3], "body": [None, 7], "sent_at": ["yesterday", 12],
                "read_at": ["2026-03-01", 5]},
    "appointment": {"start": ["2026-03-02T09:00:00", 1.5], "minutes": ["30", 0, 10**6, True],
                    "kind": [None, {}], "status": ["maybe", 2], "sensitive": ["yes", 1]},
    "prep": {"appointment_id": [4], "title": [""], "body": [None], "before_minutes": [-1, "12h"]},
    "bill": {"description": [[]], "total_cents": [-5, "12.00"], "patient_cents": [None, 1.5],
             "due": ["01/04/2026", 20260401], "lines": [{"x": 1}, [{"description": "x"}]]},
    "result": {"test": [None], "interpretation": ["unclear", 1], "released_at": [None, "soon"]},
    "article": {"title": [None], "body": [5], "published_at": ["2026-01-01"], "tags": ["visit", [1]]},
    "profile": {"name": ["", 3], "dob": ["02/01/1990"], "insurance": ["none", {"status": "lost"}]},
}
KINDS = tuple(RECORDS)


def change(kind: str, seq: int, record: dict[str, Any] | None = None, op: str = "upsert") -> dict[str, Any]:
    data = copy.deepcopy(record if record is not None else RECORDS[kind])
    return {"seq": seq, "kind": kind, "id": data["id"], "op": op, "data": data if op == "upsert" else None}


def valid_page(kinds: list[str]) -> dict[str, Any]:
    return {"changes": [change(k, i + 1) for i, k in enumerate(kinds)], "cursor": "c-next", "has_more": False}


json_leaf = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats(allow_nan=False,
                                                                                  allow_infinity=False) | st.text(
    max_size=12)
json_value = st.recursive(json_leaf, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c,
                                                                                          max_size=3), max_leaves=8)


@st.composite
def corrupt_page(draw: st.DrawFn) -> dict[str, Any] | list[Any] | Any:
    """A pull answer with exactly one guaranteed defect (decoded JSON)."""
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=6))
    page = valid_page(kinds)
    how = draw(st.sampled_from(["top-type", "top-missing", "top-type-field", "top-unknown", "change-missing",
                                "change-type", "change-unknown", "kind-unknown", "op-unknown", "id-mismatch",
                                "delete-data", "upsert-null", "record-missing", "record-wrong", "record-unknown-kind",
                                "too-many", "other-patient", "change-not-object"]))
    i = draw(st.integers(0, len(kinds) - 1))
    ch = page["changes"][i]
    kind = ch["kind"]
    if how == "top-type":
        return draw(json_value.filter(lambda v: not isinstance(v, dict)))
    if how == "top-missing":
        del page[draw(st.sampled_from(["changes", "cursor", "has_more"]))]
    elif how == "top-type-field":
        field = draw(st.sampled_from(["changes", "cursor", "has_more"]))
        bad = {"changes": json_value.filter(lambda v: not isinstance(v, list)),
               "cursor": json_value.filter(lambda v: not (isinstance(v, str) and v.strip() and len(v) <= 200)),
               "has_more": json_value.filter(lambda v: not isinstance(v, bool) and v is not None)}[field]
        page[field] = draw(bad)
    elif how == "top-unknown":
        page[draw(st.text(min_size=1, max_size=8).filter(lambda k: k not in page))] = draw(json_value)
    elif how == "change-missing":
        field = draw(st.sampled_from(["seq", "kind", "id", "op"]))
        del ch[field]
    elif how == "change-type":
        field = draw(st.sampled_from(["seq", "kind", "id"]))
        bad_value = {"seq": st.text(max_size=3) | st.just(-1) | st.floats(0.5, 9.5) | st.booleans(),
                     "kind": st.integers() | st.lists(st.integers(), max_size=2),
                     "id": st.integers() | st.just("") | st.text(min_size=101, max_size=120)}[field]
        ch[field] = draw(bad_value)
    elif how == "change-unknown":
        ch[draw(st.text(min_size=1, max_size=8).filter(lambda k: k not in ch))] = draw(json_value)
    elif how == "kind-unknown":
        ch["kind"] = draw(st.text(min_size=1, max_size=20).filter(lambda k: k not in KINDS))
    elif how == "op-unknown":
        ch["op"] = draw(st.text(max_size=10).filter(lambda k: k not in ("upsert", "delete")))
    elif how == "id-mismatch":
        ch["id"] = ch["id"] + draw(st.text(min_size=1, max_size=5))
    elif how == "delete-data":
        ch["op"] = "delete"
        ch["data"] = draw(json_value.filter(lambda v: v is not None))
    elif how == "upsert-null":
        ch["data"] = draw(json_value.filter(lambda v: not isinstance(v, dict)))
    elif how == "record-missing":
        del ch["data"][draw(st.sampled_from(REQUIRED[kind]))]
    elif how == "record-wrong":
        field = draw(st.sampled_from(sorted(WRONG[kind])))
        ch["data"][field] = draw(st.sampled_from(WRONG[kind][field]))
    elif how == "record-unknown-kind":
        ch["kind"] = draw(st.sampled_from(["outbox", "meta", "patient", "staff", "device"]))
    elif how == "too-many":
        page["changes"] = [change("message", n + 1) for n in range(MAX_PAGE + 1)]
    elif how == "other-patient":
        other = dict(RECORDS["profile"], id="pat_2")
        page["changes"].append(change("profile", 99, other))
    else:
        page["changes"][i] = draw(json_value.filter(lambda v: not isinstance(v, dict)))
    return page


@st.composite
def corrupt_push_answer(draw: st.DrawFn, sent: list[str]) -> Any:
    """A push answer with exactly one guaranteed defect (decoded JSON)."""
    results: list[Any] = [{"id": mid, "status": "applied", "reason": None} for mid in sent]
    answer: dict[str, Any] = {"results": results}
    how = draw(st.sampled_from(["top-type", "results-type", "item-type", "unknown-id", "bad-status", "missing-id",
                                "bad-reason"]))
    i = draw(st.integers(0, len(sent) - 1))
    if how == "top-type":
        return draw(json_value.filter(lambda v: not isinstance(v, dict)))
    if how == "results-type":
        answer["results"] = draw(json_value.filter(lambda v: not isinstance(v, list)))
    elif how == "item-type":
        results[i] = draw(json_value.filter(lambda v: not isinstance(v, dict)))
    elif how == "unknown-id":
        results[i]["id"] = draw(st.text(min_size=1, max_size=40).filter(lambda v: v not in sent and v.strip()))
    elif how == "bad-status":
        results[i]["status"] = draw(json_value.filter(lambda v: v not in ("applied", "duplicate", "rejected")
                                                      and v is not None) | st.just("ok"))
    elif how == "missing-id":
        del results[i]["id"]
    else:
        results[i]["reason"] = draw(st.integers() | st.lists(st.text(), min_size=1) | st.text(min_size=1001,
                                                                                                max_size=1010))
    return answer


def encode(value: Any) -> bytes:
    return json.dumps(value).encode()


@st.composite
def raw_bodies(draw: st.DrawFn) -> bytes:
    """Bodies that are not a JSON document: bytes, cut-off JSON, absurd nesting, bad UTF-8."""
    how = draw(st.sampled_from(["binary", "truncated", "nested", "text", "bad-utf8"]))
    if how == "binary":
        return draw(st.binary(max_size=200).filter(lambda b: not _is_json(b)))
    if how == "truncated":
        full = encode(valid_page(["message", "appointment", "bill"]))
        return full[: draw(st.integers(0, len(full) - 1))]
    if how == "nested":
        depth = draw(st.integers(2000, 200_000))
        return b"[" * depth + b"]" * draw(st.integers(0, depth))
    if how == "bad-utf8":
        return b'{"changes": [], "cursor": "\xff\xfe", "has_more": false}'
    return draw(st.text(max_size=60).filter(lambda t: not _is_json(t.encode()))).encode()


def _is_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except (ValueError, RecursionError):
        return False
    return True
