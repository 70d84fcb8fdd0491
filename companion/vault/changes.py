"""What one commit changed: the payload of a journal frame, and how to undo it in memory.

The storage is told, before every in-place change of the document, which table
and which ids are about to change (``ids=None``: anything in the table). From
those reports :class:`ChangeSet` builds the frame payload at the commit —
only the records named, read from the document as they are then — and keeps
what it needs to put the document back if the commit fails (a batch that
raised, a disk that refused the append).

Payload (compact JSON, applied in this order by :func:`apply_changes`)::

    {"x": [table, …],                  tables that no longer exist
     "t": {table: {id: record, …}},    tables rewritten whole (a change of unknown extent)
     "d": {table: [id, …]},            records removed
     "p": {table: {id: record, …}}}    records inserted or replaced, in the order they were

Order is kept exactly: a replaced record keeps its place, a new one is appended,
and a record removed and written again in one commit is removed first, so it
moves to the end as it did in memory.

Undo: the first report of an id keeps the record it had (or that it had none);
the first removal or change of unknown extent in a table keeps a shallow copy of
the table (records are replaced, never mutated, by our write path; TinyDB's own
query updates mutate records in place and get a deep copy).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import VaultCorrupted

__all__ = ["ChangeSet", "apply_changes", "decode_changes"]

Document = dict[str, dict[str, Any]]
Fragment = Callable[[str, str, Any], bytes]  # (table, id, record) -> b'"id":{...}'
_ABSENT: Any = object()
_JSON = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
_quote = json.encoder.encode_basestring_ascii


def _compact(value: Any) -> bytes:
    return _JSON.encode(value).encode("ascii")


def _fragment(table: str, doc_id: str, doc: Any) -> bytes:
    return (_quote(doc_id) + ":" + _JSON.encode(doc)).encode("ascii")


@dataclass(slots=True)
class _TableChanges:
    existed: bool
    ids: dict[str, None] = field(default_factory=dict)  # insertion-ordered
    removed: set[str] = field(default_factory=set)
    whole: bool = False
    before: dict[str, Any] = field(default_factory=dict)  # id -> record before, or _ABSENT
    snapshot: dict[str, Any] | None = None  # the table before its first removal / unknown change


class ChangeSet:
    """The changes since the last commit (see the module docstring)."""

    def __init__(self) -> None:
        self._tables: dict[str, _TableChanges] = {}

    def __bool__(self) -> bool:
        return bool(self._tables)

    def tables(self) -> list[str]:
        return list(self._tables)

    def changed(self, document: Document, table: str, ids: Iterable[str] | None, *, removed: bool = False,
                deep: bool = False) -> None:
        """Call BEFORE changing ``document[table]`` in place (``ids=None``: any record may change)."""
        current = document.get(table)
        state = self._tables.get(table)
        if state is None:
            state = self._tables[table] = _TableChanges(existed=current is not None)
        rows = current if current is not None else {}
        if (ids is None or removed) and state.snapshot is None and state.existed:
            state.snapshot = copy.deepcopy(rows) if deep else dict(rows)
        if ids is None:
            state.whole = True
            return
        for doc_id in ids:
            if doc_id not in state.before and state.snapshot is None:
                state.before[doc_id] = rows.get(doc_id, _ABSENT)
            if removed:
                state.removed.add(doc_id)
            elif doc_id in state.removed:
                state.ids.pop(doc_id, None)  # written again after a removal: it moves to the end
            state.ids[doc_id] = None

    def payload(self, document: Document, fragment: Fragment | None = None) -> bytes:
        """The frame payload for the document as it is now; raises ``TypeError``/``ValueError`` like json.

        ``fragment(table, id, record)`` encodes one record as ``"id":{…}`` (the storage's encoder,
        which keeps those bytes for the next base); without it, records are encoded here.
        """
        fragment = fragment or _fragment
        dropped: list[str] = []
        whole: dict[str, Any] = {}
        deletes: dict[str, list[str]] = {}
        puts: dict[str, dict[str, Any]] = {}
        for name, state in self._tables.items():
            rows = document.get(name)
            if rows is None:
                if state.existed:
                    dropped.append(name)
                continue
            if state.whole or not state.existed:
                whole[name] = rows
                continue
            gone = [i for i in state.ids if i in state.removed]
            put = {i: rows[i] for i in state.ids if i in rows}
            if gone:
                deletes[name] = gone
            if put:
                puts[name] = put

        def tables(section: dict[str, dict[str, Any]]) -> bytes:
            return b"{" + b",".join(_quote(name).encode("ascii") + b":{" + b",".join(
                fragment(name, doc_id, doc) for doc_id, doc in rows.items()) + b"}"
                for name, rows in section.items()) + b"}"

        parts: list[bytes] = []
        if dropped:
            parts.append(b'"x":' + _compact(dropped))
        if whole:
            parts.append(b'"t":' + tables(whole))
        if deletes:
            parts.append(b'"d":' + _compact(deletes))
        if puts:
            parts.append(b'"p":' + tables(puts))
        return b"{" + b",".join(parts) + b"}"

    def undo(self, document: Document) -> list[str]:
        """Put ``document`` back as it was at the last commit; returns the tables replaced wholesale."""
        names = []
        for name, state in self._tables.items():
            if not state.existed:
                document.pop(name, None)
                names.append(name)
                continue
            if state.snapshot is not None:
                names.append(name)
                rows = document[name] = dict(state.snapshot)
            else:
                rows = document.setdefault(name, {})
            for doc_id, before in state.before.items():
                if before is _ABSENT:
                    rows.pop(doc_id, None)
                else:
                    rows[doc_id] = before
        self._tables.clear()
        return names

    def clear(self) -> None:
        self._tables.clear()


def decode_changes(plaintext: bytes) -> dict[str, Any]:
    """A frame payload, checked for shape so that applying it cannot fail half-way."""
    try:
        body = json.loads(plaintext)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise VaultCorrupted("a journal frame does not hold vault changes") from None
    ok = isinstance(body, dict) and set(body) <= {"x", "t", "d", "p"}
    ok = ok and isinstance(body.get("x", []), list) and all(isinstance(t, str) for t in body.get("x", []))
    for key, inner in (("t", dict), ("d", list), ("p", dict)):
        section = body.get(key, {}) if ok else None
        ok = ok and isinstance(section, dict) and all(isinstance(v, inner) for v in section.values())
    if ok:
        ok = all(isinstance(i, str) for ids in body.get("d", {}).values() for i in ids)
        ok = ok and all(isinstance(r, dict) for rows in body.get("p", {}).values() for r in rows.values())
    if not ok:
        raise VaultCorrupted("a journal frame does not hold vault changes")
    return body  # type: ignore[no-any-return]


def apply_changes(document: Document, body: dict[str, Any]) -> None:
    """Apply a payload from :func:`decode_changes` to ``document`` in place."""
    for name in body.get("x", ()):
        document.pop(name, None)
    for name, rows in body.get("t", {}).items():
        document[name] = rows
    for name, ids in body.get("d", {}).items():
        rows = document.get(name)
        if rows is not None:
            for doc_id in ids:
                rows.pop(doc_id, None)
    for name, rows in body.get("p", {}).items():
        document.setdefault(name, {}).update(rows)
