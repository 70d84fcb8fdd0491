"""Queue the patient's commands for the clinic; they work offline and go out at the next sync.

    entry = queue_mutation(vault, "prep.done", {"prep_id": "prep_1"})

validates the command exactly as the server will (``protocol.validate_mutation``),
checks that the record it targets is on this device, and in ONE vault write:
stores the outbox entry, remembers the server's version of the target (to undo
a rejection) and applies the optimistic effect so the UI shows it at once
(``message.send`` adds the local message ``local-<id>``, see
:mod:`companion.sync.conflicts`).

An entry leaves the outbox only when the server acknowledged it (``applied`` or
``duplicate``, see :mod:`companion.sync.push`). A rejected entry stays with
``state="rejected"`` and ``last_error`` so the patient sees why; it is never
sent again. :func:`discard_rejected` lets the patient dismiss it.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..core.errors import RecordError
from ..core.fields import iso, utcnow
from ..core.models import OutboxEntry
from ..core.protocol import validate_mutation
from ..vault import Vault
from .conflicts import (
    apply_effect,
    check_device_rules,
    local_booking,
    local_message,
    local_message_id,
    local_request,
    targets,
)
from .store import get_base, get_record, put_record, set_base

__all__ = ["discard_rejected", "new_mutation_id", "pending_entries", "queue_mutation", "rejected_entries",
           "KIND_LABELS"]

KIND_LABELS = {"message": "message", "appointment": "appointment", "prep": "prep step", "result": "result",
               "bill": "bill", "profile": "profile"}


def new_mutation_id() -> str:
    """A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits. Ids made later sort
    after earlier ones, so the server's index of them (``mutations.id``, ``messages.client_id``)
    grows at its right edge instead of at a random page: what a push costs stays what it sends, not
    what the clinic's database already holds. The time is the command's own ``created_at``, which
    the server gets anyway."""
    millis = time.time_ns() // 1_000_000
    value = (millis & (1 << 48) - 1) << 80 | 0x7 << 76 | secrets.randbits(12) << 64 | 0b10 << 62 | secrets.randbits(62)
    return str(uuid.UUID(int=value))


def queue_mutation(
    vault: Vault,
    mutation_type: str,
    payload: Mapping[str, Any],
    *,
    now: datetime | None = None,
    mutation_id: str | None = None,
    ask_rules: bool = False,
) -> OutboxEntry:
    """Validate and queue one command with its optimistic effect; returns the stored entry.

    Raises RecordError naming the bad field, or naming the target when that
    record is not on this device (an id typed by hand, or a record the clinic removed).
    With ``ask_rules`` a command the visit or bill rules refuse on the record as this device
    shows it is not queued: :class:`NotAllowed` says why, in the words the app shows
    (:func:`companion.sync.conflicts.check_device_rules`).
    """
    created = now or utcnow()
    mid = mutation_id or new_mutation_id()
    envelope = validate_mutation({"id": mid, "type": mutation_type, "payload": dict(payload),
                                  "created_at": iso(created)})
    entry = OutboxEntry(id=envelope["id"], type=envelope["type"], payload=envelope["payload"], created_at=created)
    with vault.lock:
        if vault.outbox.get(entry.id) is not None:
            raise RecordError("mutation.id", "already queued")
        found = []
        for key in targets(entry):
            record = get_record(vault, key)
            if record is None:
                if key[0] == "profile":
                    continue  # no profile yet: the check-in still goes out; nothing to show
                raise RecordError(f"payload.{key[0]}_id", f"no {KIND_LABELS[key[0]]} {key[1]!r} on this device")
            if ask_rules:
                check_device_rules(record, entry.type, created)
            found.append((key, record))
        with vault.batch():
            for key, record in found:
                if get_base(vault, key) is None:
                    set_base(vault, key, record)  # no pending change yet: this is the server's version
                put_record(vault, apply_effect(record, entry))
            if entry.type == "message.send":
                put_record(vault, local_message(entry))
            if entry.type == "appointment.request":  # shown as "Requested" until the clinic's copy replaces it
                put_record(vault, local_request(entry))
            if entry.type == "appointment.book":  # shown as "Booking…" until the clinic's copy replaces it
                put_record(vault, local_booking(entry, vault.open_times.get(str(entry.payload["service_id"]))))
            vault.outbox.upsert(entry)
    return entry


def pending_entries(vault: Vault) -> list[OutboxEntry]:
    """Entries still to send, in the order they were queued."""
    entries: list[OutboxEntry] = vault.outbox.all()
    return [e for e in entries if e.state == "pending"]


def rejected_entries(vault: Vault) -> list[OutboxEntry]:
    """Entries the clinic refused, with ``last_error`` saying why (shown until dismissed)."""
    entries: list[OutboxEntry] = vault.outbox.all()
    return [e for e in entries if e.state == "rejected"]


def discard_rejected(vault: Vault, entry_id: str) -> bool:
    """Dismiss a rejected entry (and the local copy of a refused message); pending entries are kept."""
    with vault.lock:
        entry: OutboxEntry | None = vault.outbox.get(entry_id)
        if entry is None or entry.state != "rejected":
            return False
        with vault.batch():
            vault.outbox.delete(entry_id)
            if entry.type == "message.send":
                vault.messages.delete(local_message_id(entry.id))
    return True
