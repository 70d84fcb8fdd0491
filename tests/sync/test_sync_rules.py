"""The pure rules of the sync client: optimistic effects, the conflict rule, retry bounds, status writes."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.core.errors import NotAllowed, ProtocolError, RateLimited, RecordError, ServerFailed, ServerUnreachable
from companion.core.models import Appointment, Bill, Message, OutboxEntry, PaymentPlan, PrepStep, parse_record, replace
from companion.sync.client import discard_rejected, queue_mutation, read_status
from companion.sync.conflicts import (
    apply_effect,
    check_device_rules,
    local_message,
    pending_index,
    resolve_conflict,
    targets,
)
from companion.sync.retry import RetryPolicy, backoff_delay, with_retries
from companion.sync.status import record_status
from tests.fixtures.sync import new_vault
from tests.support.hostile_answers import RECORDS

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _entry(kind: str, payload: dict[str, object], n: int = 0) -> OutboxEntry:
    return OutboxEntry(id=f"00000000-0000-4000-8000-{n:012d}", type=kind, payload=payload,
                       created_at=T0 + timedelta(minutes=n))


APPOINTMENT = parse_record("appointment", RECORDS["appointment"])
ENTRIES = [
    _entry("appointment.confirm", {"appointment_id": "apt_1"}, 1),
    _entry("appointment.cancel", {"appointment_id": "apt_1"}, 2),
    _entry("checkin.submit", {"appointment_id": "apt_1", "phone": "555"}, 3),
    _entry("prep.done", {"prep_id": "apt_1"}, 4),  # targets a prep: leaves the appointment alone
]


@settings(max_examples=200, deadline=None)
@given(order=st.permutations(ENTRIES), repeat=st.integers(1, 3))
def test_replaying_pending_effects_is_deterministic_and_idempotent(order: list[OutboxEntry], repeat: int) -> None:
    once = resolve_conflict(APPOINTMENT, order)
    assert resolve_conflict(once, order) == once  # replaying on top of itself changes nothing
    assert resolve_conflict(APPOINTMENT, [e for e in order for _ in range(repeat)]) == once


def test_the_last_pending_command_wins_and_the_servers_other_fields_stay() -> None:
    server = parse_record("appointment", {**RECORDS["appointment"], "start": "2031-01-01T08:00:00Z", "sequence": 3})
    merged = resolve_conflict(server, ENTRIES[:2])
    assert isinstance(merged, Appointment)
    assert merged.status == "cancelled" and merged.sequence == 3 and merged.start.year == 2031


def test_effects_use_the_commands_time_not_the_clock() -> None:
    prep = parse_record("prep", RECORDS["prep"])
    done = apply_effect(prep, _entry("prep.done", {"prep_id": "prep_1"}, 7))
    assert isinstance(done, PrepStep) and done.done_at == T0 + timedelta(minutes=7)
    undone = apply_effect(done, _entry("prep.done", {"prep_id": "prep_1", "done": False}, 8))
    assert isinstance(undone, PrepStep) and undone.done_at is None


def test_targets_and_pending_index() -> None:
    rejected = OutboxEntry(id="x", type="result.ack", payload={"result_id": "res_1"}, created_at=T0, state="rejected")
    index = pending_index([*ENTRIES, rejected])
    assert len(index[("appointment", "apt_1")]) == 3 and ("result", "res_1") not in index
    assert targets(ENTRIES[2]) == (("appointment", "apt_1"), ("profile", ""))
    assert targets(_entry("message.send", {"body": "hi"})) == ()
    msg = local_message(_entry("message.send", {"body": "hi", "thread": "billing"}, 9))
    assert isinstance(msg, Message) and msg.id.startswith("local-") and msg.client_id == msg.id[6:]


def test_queueing_validates_like_the_server_and_needs_the_target(tmp_path: Path) -> None:
    with new_vault(tmp_path / "v") as vault:
        with pytest.raises(RecordError, match="installments"):
            queue_mutation(vault, "bill.plan_request", {"bill_id": "b", "installments": 99})
        with pytest.raises(RecordError, match="no result"):
            queue_mutation(vault, "result.ack", {"result_id": "res_unknown"})
        with pytest.raises(RecordError, match="unknown field"):
            queue_mutation(vault, "message.send", {"body": "x", "colour": "red"})
        writes = vault.file_writes
        entry = queue_mutation(vault, "message.send", {"body": "hello"})
        assert vault.file_writes == writes + 1  # the entry and its local message: one write
        assert vault.messages.get(f"local-{entry.id}") is not None
        assert not discard_rejected(vault, entry.id)  # pending entries are never discarded
        assert read_status(vault).pending == 1


def test_asking_the_rules_refuses_before_queueing_in_the_apps_words(tmp_path: Path) -> None:
    """``ask_rules`` (the CLI's way) asks companion.core.care_rules on the record as the device shows it."""
    over = replace(Appointment.from_dict(RECORDS["appointment"]), status="scheduled", start=T0 - timedelta(hours=2),
                   minutes=30)
    owed = Bill.from_dict(RECORDS["bill"])
    active = replace(owed, payment_plan=PaymentPlan(status="active", installments=3))
    with new_vault(tmp_path / "v") as vault:
        vault.appointments.upsert(over)
        vault.bills.upsert(active)
        with pytest.raises(NotAllowed, match="the appointment is over"):
            queue_mutation(vault, "appointment.confirm", {"appointment_id": over.id}, now=T0, ask_rules=True)
        with pytest.raises(NotAllowed, match="already active"):
            queue_mutation(vault, "bill.plan_request", {"bill_id": active.id, "installments": 4}, ask_rules=True)
        assert vault.outbox.all() == []
        queue_mutation(vault, "appointment.confirm", {"appointment_id": over.id}, now=T0)  # the app's own path
        assert len(vault.outbox.all()) == 1
    check_device_rules(replace(over, start=T0 + timedelta(days=1)), "appointment.cancel", T0)  # allowed


def _clock() -> tuple[list[float], Callable[[float], None]]:
    """A fake monotonic clock and a sleep that advances it."""
    now = [0.0]

    def sleep(s: float) -> None:
        now[0] += s

    return now, sleep


def test_retries_are_bounded_by_the_deadline() -> None:
    now, sleep = _clock()
    calls = itertools.count()

    def down(budget: float) -> None:
        next(calls)
        now[0] += 0.01
        raise ServerUnreachable("down")

    with pytest.raises(ServerUnreachable):
        with_retries(down, RetryPolicy(deadline=8.0), clock=lambda: now[0], sleep=sleep, rng=lambda: 0.5)
    assert now[0] <= 8.0 and next(calls) >= 5


def test_only_transient_errors_are_retried() -> None:
    attempts = []

    def bad(budget: float) -> None:
        attempts.append(budget)
        raise ProtocolError("malformed")

    with pytest.raises(ProtocolError):
        with_retries(bad, RetryPolicy(), sleep=lambda s: None)
    assert len(attempts) == 1


def test_rate_limits_are_respected_and_5xx_recovers() -> None:
    now, sleep = _clock()
    answers = iter([RateLimited(2.0), ServerFailed("503"), "ok"])

    def fails_twice(budget: float) -> str:
        value = next(answers)
        if isinstance(value, Exception):
            raise value
        assert isinstance(value, str)
        return value

    assert with_retries(fails_twice, RetryPolicy(), clock=lambda: now[0], sleep=sleep, rng=lambda: 0.0) == "ok"
    assert now[0] >= 2.0


@pytest.mark.parametrize("attempt", range(8))
def test_backoff_has_jitter_and_a_cap(attempt: int) -> None:
    low = backoff_delay(attempt, base=0.2, factor=2, cap=3, rng=lambda: 0.0)
    high = backoff_delay(attempt, base=0.2, factor=2, cap=3, rng=lambda: 1.0)
    assert 0 < low < high <= 3 and low == pytest.approx(high / 2)


def test_status_is_written_on_change_or_when_stale(tmp_path: Path) -> None:
    with new_vault(tmp_path / "v") as vault:
        assert record_status(vault, "idle", now=T0)
        assert not record_status(vault, "idle", now=T0 + timedelta(seconds=30))  # nothing new to say
        assert record_status(vault, "idle", now=T0 + timedelta(seconds=61))  # last_sync would be stale
        assert record_status(vault, "offline", now=T0 + timedelta(seconds=62), error="cannot reach\nsecond line")
        status = read_status(vault)
        assert status.state == "offline" and status.last_error == "cannot reach"
        assert status.last_sync == T0 + timedelta(seconds=61)
        with pytest.raises(ValueError):
            record_status(vault, "syncing", now=T0)
