"""Incremental JSON encoding of the vault document: re-encode only the records that changed.

Every commit seals the whole document (one AES-GCM seal of ``{table: {id: record}}``),
but the *JSON encoding* of a 10,000-record document took ~24 ms while a
single-record write changes one record. :class:`DocumentEncoder` keeps, per table,
each record's compact JSON fragment (``"id":{...}``, ASCII bytes) in the table's order; the
storage tells it which ids it is about to change (:meth:`DocumentEncoder.changed`)
and the next :meth:`DocumentEncoder.encode` re-encodes just those, then joins
strings. The result is byte-for-byte ``fileformat.encode_document(document)``.

A commit's frame encodes the records it changed (:meth:`DocumentEncoder.fragment`, called by
:meth:`~companion.vault.changes.ChangeSet.payload`); those bytes are kept for the next base, so a
record is encoded once whether it goes into a frame, a base, or both (a first sync's pages are
not encoded again under the vault's lock when the compaction after them takes its snapshot).

Rules that keep it exact:

- an id reported changed is re-read from the document at the next encode: a new id
  is appended (dict order appends new keys too), an existing one replaced in place;
- a removal, or a change of unknown extent (``ids=None``), rebuilds that table's
  fragments at the next encode (removals are rare: tombstones, clearing a table);
- a table whose fragment count disagrees with the document after a refresh is
  rebuilt (a change nobody reported cannot survive a commit);
- a kept fragment is used only for the very record object it was made of, and a change of
  unknown extent (TinyDB's own updates change records in place) drops what was kept for the table;
- :meth:`DocumentEncoder.reset` after the document is replaced wholesale (rollback,
  a brand-new document); an exception while encoding leaves the encoder to be reset
  by the caller (the storage rolls back and resets).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["DocumentEncoder", "compact"]


# One encoder: json.dumps with options builds a new one at every call (a few microseconds per record).
_COMPACT = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
_quote = json.encoder.encode_basestring_ascii  # what the encoder writes for a str (ensure_ascii)
_c_make_encoder: Callable[..., Any] | None = getattr(json.encoder, "c_make_encoder", None)


class _Objects(threading.local):
    """This thread's C encoder of JSON objects, made once with ``_COMPACT``'s options.

    ``JSONEncoder.encode`` makes a new one (and its table of containers being encoded, which
    catches a reference cycle) at every call: at a first sync's 10,000 records, as long as the
    encoding itself. Per thread, because that table belongs to the call running.
    """

    def __init__(self) -> None:
        self.markers: dict[int, Any] = {}
        self.encode = None if _c_make_encoder is None else _c_make_encoder(
            self.markers, _COMPACT.default, _quote, None, ":", ",", False, False, False)


_objects = _Objects()


def compact(value: Any) -> str:
    """One value as ``fileformat.encode_document`` writes it (before UTF-8; ASCII-only)."""
    return _COMPACT.encode(value)


def _object(doc: Any) -> str:
    """``compact(doc)``, for a record (a dict) through this thread's C encoder when there is one."""
    encode = _objects.encode
    if encode is None or type(doc) is not dict:
        return _COMPACT.encode(doc)
    try:
        return "".join(encode(doc, 0))
    except BaseException:
        _objects.markers.clear()  # a failed call leaves what it was inside of
        raise


def fragment(doc_id: str, doc: Any) -> bytes:
    """``"id":{record}`` as the document's JSON holds it (json escapes to ASCII)."""
    return (_quote(doc_id) + ":" + _object(doc)).encode("ascii")


Made = dict[str, tuple[Any, bytes]]  # id -> (the record object encoded, its fragment)


class _TableText:
    """One table's fragments in document order, plus what changed since the last encode."""

    def __init__(self, table: Mapping[str, Any], made: Made) -> None:
        self.items = [_reuse(made, doc_id, doc) for doc_id, doc in table.items()]
        self.position = {doc_id: i for i, doc_id in enumerate(table)}
        self.dirty: dict[str, None] = {}  # insertion-ordered: new ids are appended in this order
        self.stale = False
        self.joined: bytes | None = None

    def refresh(self, table: Mapping[str, Any], made: Made) -> bool:
        """Re-encode the dirty ids; ``False`` when only a rebuild can be exact."""
        for doc_id in self.dirty:
            at = self.position.get(doc_id)
            if doc_id not in table:
                if at is not None:
                    return False  # removed without being reported as a removal
                continue  # reported but never written (an empty update)
            text = _reuse(made, doc_id, table[doc_id])
            if at is None:
                self.position[doc_id] = len(self.items)
                self.items.append(text)
            else:
                self.items[at] = text
        self.dirty.clear()
        self.joined = None
        return len(self.items) == len(table)

    def body(self) -> bytes:
        """The table's records joined by commas, without the braces (the caller's one join adds them)."""
        if self.joined is None:
            self.joined = b",".join(self.items)
        return self.joined


def _reuse(made: Made, doc_id: str, doc: Any) -> bytes:
    """The fragment a commit made of this very record object (taken), else a new one."""
    hit = made.pop(doc_id, None)
    return hit[1] if hit is not None and hit[0] is doc else fragment(doc_id, doc)


class DocumentEncoder:
    """``encode_document`` with memory: see the module docstring for the contract."""

    def __init__(self) -> None:
        self._tables: dict[str, _TableText] = {}
        self._made: dict[str, Made] = {}  # table -> fragments the commits made since the last encode

    def fragment(self, table: str, doc_id: str, doc: Any) -> bytes:
        """A record's fragment for a commit's frame, kept for the next :meth:`encode` (a new base).

        A commit encodes what it changed anyway; the next base reuses those bytes for records
        that are still the same objects (records are replaced, never changed in place, except
        through a change of unknown extent, which drops what was kept for the table).
        """
        text = fragment(doc_id, doc)
        self._made.setdefault(table, {})[doc_id] = (doc, text)
        return text

    def changed(self, table: str, ids: Iterable[str] | None, *, removed: bool = False) -> None:
        """Call BEFORE changing documents of ``table`` in place (``None``: any of them may change)."""
        made = self._made.get(table)
        if made is not None:
            if ids is None:
                del self._made[table]
            else:
                ids = list(ids)
                for doc_id in ids:
                    made.pop(doc_id, None)
        state = self._tables.get(table)
        if state is None:
            return
        if ids is None or removed:
            state.stale = True
            return
        state.joined = None
        state.dirty.update(dict.fromkeys(ids))

    def reset(self) -> None:
        """Forget everything (the document was replaced as a whole)."""
        self._tables.clear()
        self._made.clear()

    def encode(self, document: Mapping[str, Mapping[str, Any]]) -> bytes:
        """The compact JSON bytes of ``document``; raises ``ValueError``/``TypeError`` like ``json.dumps``."""
        for name in [n for n in self._tables if n not in document]:
            del self._tables[name]
        for name in [n for n in self._made if n not in document]:
            del self._made[name]
        parts = [b"{"]  # one final join: a 10,000-record document is ~5 MB, each extra copy ~1 ms
        for name, table in document.items():
            state = self._tables.get(name)
            made = self._made.pop(name, {})
            if state is None or state.stale or (state.dirty and not state.refresh(table, made)):
                state = self._tables[name] = _TableText(table, made)
            parts += [b"," if len(parts) > 1 else b"", compact(name).encode("ascii"), b":{", state.body(), b"}"]
        parts.append(b"}")
        return b"".join(parts)
