"""Records: every kind survives to_dict -> JSON -> from_dict, and a bad field is refused by name."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from companion.core.errors import RecordError
from companion.core.fields import parse_datetime
from companion.core.models import RECORD_TYPES, OutboxEntry, Record, parse_record
from tests.fixtures.vault import sample_records

KINDS = sorted(sample_records())
_CLASSES: dict[str, type[Record]] = {**RECORD_TYPES, "outbox": OutboxEntry}


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_through_json(kind: str) -> None:
    record = sample_records("round trip")[kind]
    data = json.loads(json.dumps(record.to_dict()))
    assert _CLASSES[kind].from_dict(data) == record


def test_every_wire_kind_has_a_sample() -> None:
    assert set(RECORD_TYPES) | {"outbox"} == set(KINDS)


def _bad(kind: str, **changes: Any) -> dict[str, Any]:
    data = sample_records()[kind].to_dict()
    for key, value in changes.items():
        if value is _DROP:
            data.pop(key)
        else:
            data[key] = value
    return data


_DROP = object()

BAD_FIELDS = [
    ("profile", {"name": ""}, "profile.name"),
    ("profile", {"dob": "17/05/1990"}, "profile.dob"),
    ("profile", {"insurance": {"status": "maybe"}}, "profile.insurance.status"),
    ("appointment", {"minutes": 0}, "appointment.minutes"),
    ("appointment", {"start": "2026-03-02T09:30:00"}, "appointment.start"),
    ("appointment", {"start": "0001-01-01T00:00+05:00"}, "appointment.start"),  # before year 1 in UTC
    ("appointment", {"status": "lost"}, "appointment.status"),
    ("prep", {"before_minutes": -5}, "prep.before_minutes"),
    ("prep", {"appointment_id": _DROP}, "prep.appointment_id"),
    ("bill", {"total_cents": "12.00"}, "bill.total_cents"),
    ("bill", {"lines": [{"description": "Lab", "cents": -1}]}, "bill.lines[0].cents"),
    ("bill", {"payment_plan": {"status": "active", "installments": 99}}, "bill.payment_plan.installments"),
    ("result", {"interpretation": "fine"}, "result.interpretation"),
    ("open_times", {"starts": [540, "noon"]}, "open_times.starts"),
    ("open_times", {"minutes": 2}, "open_times.minutes"),
    ("open_times", {"prep": [{"body": "no title"}]}, "open_times.prep[0].title"),
    ("result", {"sensitive": "yes"}, "result.sensitive"),
    ("message", {"author": "robot"}, "message.author"),
    ("message", {"body": "x" * 5001}, "message.body"),
    ("article", {"tags": ["ok", 3]}, "article.tags[1]"),
    ("article", {"published_at": _DROP}, "article.published_at"),
    ("outbox", {"payload": ["not", "an", "object"]}, "outbox.payload"),
    ("outbox", {"attempts": -1}, "outbox.attempts"),
]


@pytest.mark.parametrize(("kind", "changes", "field"), BAD_FIELDS, ids=[f for _, _, f in BAD_FIELDS])
def test_bad_field_is_named(kind: str, changes: dict[str, Any], field: str) -> None:
    with pytest.raises(RecordError) as caught:
        _CLASSES[kind].from_dict(_bad(kind, **changes))
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_every_kind_has_a_bad_field_case() -> None:
    assert {kind for kind, _, _ in BAD_FIELDS} == set(KINDS)


def test_not_an_object_is_refused() -> None:
    with pytest.raises(RecordError) as caught:
        parse_record("message", ["a list"])
    assert caught.value.field == "message"


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(RecordError) as caught:
        parse_record("diagnosis", {})
    assert "unknown record kind" in str(caught.value)


@pytest.mark.parametrize("text", ["0001-01-01T00:00+05:00", "9999-12-31T23:30-05:00"])
def test_a_time_with_no_utc_calendar_day_is_refused_by_name(text: str) -> None:
    """Converting it to UTC leaves years 1-9999: a refusal naming the field, not an OverflowError."""
    with pytest.raises(RecordError) as caught:
        parse_datetime(text, "payload.start")
    assert caught.value.field == "payload.start" and "out of range" in str(caught.value)
    assert parse_datetime("0001-01-01T05:00+05:00", "t") == datetime(1, 1, 1, tzinfo=UTC)  # the edges still read
    assert parse_datetime("9999-12-31T18:59-05:00", "t") == datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
