"""Push phase: send the outbox to the clinic and settle each entry by the server's answer.

Entries go out in the order they were queued, in batches of at most
``MAX_MUTATIONS`` and well under ``MAX_REQUEST_BYTES``. Each entry carries its
client-generated UUID, so a batch whose answer was lost is simply sent again:
the server answers ``duplicate`` for what it had already applied.

Settling a batch is ONE vault write (:func:`settle`):

- ``applied`` / ``duplicate``: the entry leaves the outbox (the only way out);
  its optimistic effect stays until the next pull brings the server's version.
- ``rejected``: the entry stays with ``state="rejected"`` and the reason, is
  never re-sent, and the targeted record goes back to the server's version
  with only the still-pending effects replayed (the rejected one undone).
- not answered: stays pending, ``attempts`` + 1, sent again next time.

An answer that acknowledged anything also counts up ``sync.pushes``: a page fetched before
that (a long poll's late answer) shows the server as it was before our own push, so it must
not be applied over the effect that leaves the outbox now (:mod:`companion.sync.live` drops it).

A whole batch refused with a 4xx (not a per-mutation answer) is retried one
mutation at a time so one bad entry cannot block the others; a single entry
refused that way is rejected with the server's message.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace

import httpx

from ..core.errors import RecordError, RequestRejected
from ..core.fields import iso
from ..core.models import OutboxEntry
from ..core.open_times import booking_appointment_id
from ..core.protocol import MAX_MUTATIONS, MAX_REQUEST_BYTES, MutationResult, parse_push_response, validate_mutation
from ..core.requests import request_appointment_id
from ..vault import Vault
from .conflicts import RecordKey, pending_index, resolve_conflict, targets
from .retry import RetryPolicy, with_retries
from .store import PUSHES, delete_record, get_base, pushes, put_record, set_base
from .transport import CursorExpired, Traffic, send_json

__all__ = ["PushStats", "push_outbox", "settle", "wire_form"]

BATCH_BYTES = MAX_REQUEST_BYTES - 64 * 1024  # room for the envelope


@dataclass(slots=True)
class PushStats(Traffic):
    """What one push phase did: mutations sent and how the server answered them, and its traffic."""

    sent: int = 0
    applied: int = 0
    duplicate: int = 0
    rejected: int = 0


def wire_form(entry: OutboxEntry) -> dict[str, object]:
    """The mutation as sent (validated again: an entry stored by an older app may no longer be valid)."""
    return validate_mutation({"id": entry.id, "type": entry.type, "payload": dict(entry.payload),
                              "created_at": iso(entry.created_at)})


_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # as send_json encodes a body
_Item = tuple[OutboxEntry, bytes, int]  # the entry, its wire form as sent (UTF-8 JSON), its size (-1: not sent)


def _batches(entries: Sequence[OutboxEntry]) -> list[list[_Item]]:
    """Each entry's wire form is encoded once here: its size decides the batch, and the request body is
    these bytes joined (:func:`_body`), not a second encoding of the whole batch."""
    batches: list[list[_Item]] = []
    current: list[_Item] = []
    size = 0
    for entry in entries:
        try:
            wire = _COMPACT.encode(wire_form(entry)).encode("utf-8")
        except RecordError:
            current.append((entry, b"", -1))  # size -1: rejected locally by the caller, never sent
            continue
        n = len(wire) + 1
        if current and (len(current) >= MAX_MUTATIONS or size + n > BATCH_BYTES):
            batches.append(current)
            current, size = [], 0
        current.append((entry, wire, n))
        size += n
    if current:
        batches.append(current)
    return batches


def _body(wires: Sequence[bytes]) -> bytes:
    """``{"mutations": [...]}`` from wire forms already encoded: the bytes ``send_json`` would make of it."""
    return b'{"mutations":[' + b",".join(wires) + b"]}"


def settle(vault: Vault, sent: Sequence[OutboxEntry], results: Sequence[MutationResult]) -> None:
    """Record the server's answers for ``sent`` in one vault write (see module docstring)."""
    answers: dict[str, MutationResult] = {}
    for result in results:
        answers.setdefault(result.id, result)
    with vault.lock, vault.batch():
        touched: set[RecordKey] = set()
        undo: set[RecordKey] = set()
        acknowledged: list[str] = []
        for entry in sent:
            current: OutboxEntry | None = vault.outbox.get(entry.id)
            if current is None:
                continue
            answer = answers.get(entry.id)
            if answer is None:
                vault.outbox.upsert(replace(current, attempts=current.attempts + 1))
                continue
            touched.update(targets(current))
            if answer.status in ("applied", "duplicate"):
                acknowledged.append(entry.id)
            else:
                reason = (answer.reason or "refused by the clinic").splitlines()[0][:300] or "refused by the clinic"
                vault.outbox.upsert(replace(current, state="rejected", last_error=reason,
                                            attempts=current.attempts + 1))
                undo.update(targets(current))
                if current.type == "appointment.request":  # its local "Requested" visit goes with it
                    delete_record(vault, ("appointment", request_appointment_id(current.id)))
                if current.type == "appointment.book":  # and a refused booking's "Booking…"
                    delete_record(vault, ("appointment", booking_appointment_id(current.id)))
        if acknowledged:
            vault.outbox.delete_many(acknowledged)  # one removal for the batch, before the index below
            vault.meta.set(PUSHES, pushes(vault) + 1)
        if not touched:
            return
        remaining = pending_index(vault.outbox.all())
        for key in touched:
            base = get_base(vault, key)
            if key in undo and base is not None:
                put_record(vault, resolve_conflict(base, remaining.get(key, [])))
            if key not in remaining:
                set_base(vault, key, None)


def _send(client: httpx.Client, token: str, batch: list[tuple[OutboxEntry, bytes]], policy: RetryPolicy,
          stop: threading.Event | None, stats: PushStats) -> tuple[MutationResult, ...]:
    sent_ids = frozenset(entry.id for entry, _ in batch)  # wire_form keeps the entry's id
    body = _body([wire for _, wire in batch])

    def attempt(budget: float) -> tuple[MutationResult, ...]:
        stats.requests += 1
        answer = send_json(client, "POST", "/v1/sync", token=token, json_body=body, timeout=budget)
        stats.bytes_down += answer.size
        return parse_push_response(answer.data, sent_ids)

    return with_retries(attempt, policy, stop=stop)


def _reject_locally(vault: Vault, entry: OutboxEntry, reason: str) -> None:
    settle(vault, [entry], [MutationResult(id=entry.id, status="rejected", reason=reason)])


def push_outbox(
    vault: Vault,
    client: httpx.Client,
    token: str,
    *,
    policy: RetryPolicy,
    stop: threading.Event | None = None,
) -> PushStats:
    """Send every pending entry; returns counts. Transient failures are retried by ``policy``, then raised."""
    stats = PushStats()
    with vault.lock:
        entries: list[OutboxEntry] = [e for e in vault.outbox.all() if e.state == "pending"]
    for batch in _batches(entries):
        for entry, _, n in batch:
            if n < 0:
                _reject_locally(vault, entry, "this request is no longer valid; it was not sent")
                stats.rejected += 1
        good = [(e, w) for e, w, n in batch if n >= 0]
        if good:
            _push_batch(vault, client, token, good, policy, stop, stats)
    return stats


def _push_batch(vault: Vault, client: httpx.Client, token: str, batch: list[tuple[OutboxEntry, bytes]],
                policy: RetryPolicy, stop: threading.Event | None, stats: PushStats) -> None:
    entries = [e for e, _ in batch]
    try:
        results = _send(client, token, batch, policy, stop, stats)
    except CursorExpired:
        raise
    except RequestRejected as exc:
        if exc.status == 401:
            raise
        if len(batch) > 1:
            for one in batch:
                _push_batch(vault, client, token, [one], policy, stop, stats)
            return
        _reject_locally(vault, entries[0], str(exc))
        stats.rejected += 1
        return
    stats.sent += len(entries)
    settle(vault, entries, results)
    for result in {r.id: r for r in reversed(results)}.values():
        if result.status == "applied":
            stats.applied += 1
        elif result.status == "duplicate":
            stats.duplicate += 1
        else:
            stats.rejected += 1
