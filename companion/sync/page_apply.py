"""Applying one pulled page: its changes and its cursor in ONE vault write.

A page comes here validated completely (``protocol.parse_pull_response``: types, kinds, ids, page
size); :func:`apply_page` also refuses another patient's profile before anything is written, so a
malformed answer leaves the vault byte-for-byte unchanged. Then one ``vault.batch()``: killed at
any instant, the vault holds either the page and its cursor or neither (re-applying a page is
harmless: upserts and deletes are idempotent).

While applying, the conflict rule (:func:`.conflicts.resolve_conflict`) keeps the optimistic
effects of still-pending commands, and the server's echo of one of our own messages (same
``client_id``) replaces its local ``local-<id>`` copy. The last page of a full resync sweeps away
every local record the server did not send, except the patient's own queued messages.
"""

from __future__ import annotations

from ..core.errors import ProtocolError
from ..core.models import RECORD_TYPES, Message, Profile, Record
from ..core.protocol import Change, PullPage
from ..vault import Vault
from .conflicts import PROFILE_ID, RecordKey, is_local_id, pending_index, resolve_conflict
from .store import CURSOR, PATIENT_ID, RESYNC, base_key, delete_record, repo_of, set_base

__all__ = ["apply_page"]


def _key(change: Change) -> RecordKey:
    return (change.kind, PROFILE_ID if change.kind == "profile" else change.id)


def _check_scope(page: PullPage, patient_id: str | None) -> None:
    """Refuse a page carrying another patient's profile (the server scopes by device; trust, but verify)."""
    for change in page.changes:
        if change.kind == "profile" and change.op == "upsert" and patient_id and change.id != patient_id:
            raise ProtocolError("malformed server answer: a profile of another patient was sent to this device")


def apply_page(vault: Vault, page: PullPage, *, seen: set[RecordKey] | None = None, sweep: bool = False) -> int:
    """Write ``page`` and its cursor in one atomic vault write; returns how many records a sweep removed.

    ``seen`` collects the keys of a resync; ``sweep`` (its last page) deletes local records not in it.
    Records are written per kind in one call each, not validated again (the page's parse did it)."""
    _check_scope(page, vault.meta.get(PATIENT_ID))
    removed = 0
    with vault.lock, vault.batch(durable=False):  # the server sends it again if a power loss takes it
        index = pending_index(vault.outbox.all())
        echoes: dict[str, str] = {}
        if any(c.kind == "message" and isinstance(c.record, Message) and c.record.client_id for c in page.changes):
            messages: list[Message] = vault.messages.all()
            echoes = {m.client_id: m.id for m in messages if m.client_id and is_local_id(m.id)}
        final: dict[str, dict[str, Record | None]] = {}  # kind -> id -> record, None = delete
        merged: set[str] = set()  # ids whose record is a conflict's merge, not the page's as decoded
        stale_bases: list[str] = []
        for change in page.changes:
            key = _key(change)
            if seen is not None:
                seen.add(key)
            record = change.record
            if record is not None:
                pending = index.get(key)
                if pending:
                    set_base(vault, key, record)  # the server's version, to undo a later rejection
                    record = resolve_conflict(record, pending)
                    merged.add(key[1])
                else:
                    stale_bases.append(base_key(key))
                if isinstance(record, Message) and record.client_id in echoes:
                    final.setdefault("message", {})[echoes.pop(record.client_id)] = None
            else:
                stale_bases.append(base_key(key))
            final.setdefault(change.kind, {})[key[1]] = record
        for kind, items in final.items():
            _write_kind(vault, kind, items, merged)
        vault.meta.delete_many(stale_bases)
        if sweep and seen is not None:
            removed = _sweep(vault, seen)
            vault.meta.delete(RESYNC)
        vault.meta.set(CURSOR, page.cursor)
    return removed


def _write_kind(vault: Vault, kind: str, items: dict[str, Record | None], merged: set[str]) -> None:
    """Write one kind's changes: records as the page decoded them are stored as validated by its parse
    (``upsert_decoded``); a conflict's merge is validated again (``upsert_many``)."""
    if kind == "profile":
        record = items[PROFILE_ID]
        if isinstance(record, Profile):
            vault.profile.set(record)
        else:
            vault.profile.clear()
        return
    repo = repo_of(vault, kind)
    for rid, record in items.items():
        if record is None:
            repo.delete(rid)
    repo.upsert_decoded([r for rid, r in items.items() if r is not None and rid not in merged])
    repo.upsert_many([r for rid, r in items.items() if r is not None and rid in merged])


def _sweep(vault: Vault, seen: set[RecordKey]) -> int:
    """Delete local records the server no longer has (end of a full resync); keeps queued messages."""
    removed = 0
    for kind in RECORD_TYPES:
        if kind == "profile":
            if (kind, PROFILE_ID) not in seen and vault.profile.get() is not None:
                delete_record(vault, (kind, PROFILE_ID))
                removed += 1
            continue
        repo = repo_of(vault, kind)
        records: list[Record] = repo.all()
        gone = [r.id for r in records
                if (kind, r.id) not in seen and not (kind == "message" and is_local_id(r.id))]
        if len(gone) > 20:  # one table rebuild instead of one per deleted record
            kept = [r for r in records if r.id not in set(gone)]
            repo.clear()
            repo.upsert_many(kept)
        else:
            for rid in gone:
                repo.delete(rid)
        vault.meta.delete_many([base_key((kind, rid)) for rid in gone])
        removed += len(gone)
    return removed
