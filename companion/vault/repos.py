"""Typed access to the vault's tables: one :class:`Repo` per record kind, the profile, and meta.

Nothing above the vault sees TinyDB. A repo takes and returns the frozen records
of :mod:`companion.core.models`; it stores ``record.to_dict()`` and reads back
through ``from_dict``. Every record is validated on the way in (``from_dict`` of
its own ``to_dict``), so a record that could not be read back is refused with a
:class:`~companion.core.errors.RecordError` naming the field, instead of making the
vault unreadable at the next start.

Parsed records are cached per repo (the vault is the only writer), so ``all()``
and ``get()`` cost no parsing after the first call; the cache is rebuilt when a
failed batch rolls the document back.

Every public method takes the vault's ``RLock``: Flet runs handlers in threads.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from tinydb import TinyDB

from ..core.errors import RecordError, VaultCorrupted
from ..core.models import Record
from .storage import EncryptedStorage
from .tables import RecordTable

__all__ = ["Meta", "Repo", "RepoContext", "SingletonRepo"]

R = TypeVar("R", bound=Record)

_SINGLETON_KEY = "current"
# One encoder for every record: json.dumps with options builds a new encoder at each call.
_ENCODER = json.JSONEncoder(allow_nan=False, separators=(",", ":"))
MAX_META_KEY = 200


@dataclass(frozen=True, slots=True)
class RepoContext:
    """What every repo of one open vault shares."""

    db: TinyDB  # from tables.open_database: its tables are RecordTable
    storage: EncryptedStorage
    lock: threading.RLock

    def table(self, name: str) -> RecordTable:
        return cast(RecordTable, self.db.table(name))


class _TypedTable(Generic[R]):
    """Validation and the parsed-record cache shared by :class:`Repo` and :class:`SingletonRepo`."""

    def __init__(self, ctx: RepoContext, kind: str, record_type: type[R]) -> None:
        self.kind = kind
        self.record_type = record_type
        self._ctx = ctx
        self._table = ctx.table(kind)
        self._cache: dict[str, R] | None = None
        self._cache_reloads = -1

    def _records(self) -> dict[str, R]:
        """Parsed records by storage key, rebuilt after a rollback (call with the lock held)."""
        storage = self._ctx.storage
        storage.require_open()
        if self._cache is None or self._cache_reloads != storage.reloads:
            cache: dict[str, R] = {}
            for key, doc in self._table.raw().items():
                try:
                    cache[key] = self.record_type.from_dict(doc, self.kind)
                except RecordError as error:
                    raise VaultCorrupted(f"a stored {self.kind} record cannot be read ({error})") from None
            self._cache, self._cache_reloads = cache, storage.reloads
        return self._cache

    def _validated(self, records: Iterable[R]) -> tuple[dict[str, dict[str, Any]], dict[str, R]]:
        """The documents to store and the records as they will read back, by id (the last of an id wins).

        Refuses (before anything changes) what could not be read back. A JSON round
        trip gives private deep copies (later changes to nested values of the
        caller's records cannot leak in) and refuses values that cannot be stored;
        it is done for the whole batch at once, the cost of a batch being mostly
        per call, and record by record only to name the record that failed.
        """
        records = list(records)
        for record in records:
            if not isinstance(record, self.record_type):
                raise RecordError(self.kind, f"expected a {self.record_type.__name__}, got {type(record).__name__}")
        try:
            copies = json.loads(_ENCODER.encode([record.to_dict() for record in records]))
        except (TypeError, ValueError):
            for record in records:
                try:
                    _ENCODER.encode(record.to_dict())
                except (TypeError, ValueError) as error:
                    raise RecordError(self.kind, f"{record.id!r} cannot be stored: {error}") from None
            raise
        docs: dict[str, dict[str, Any]] = {}
        parsed: dict[str, R] = {}
        for doc in copies:
            canonical = self.record_type.from_dict(doc, self.kind)
            docs[canonical.id] = doc
            parsed[canonical.id] = canonical
        return docs, parsed

    def _put(self, docs: dict[str, dict[str, Any]], records: dict[str, R], *, replace: bool = False) -> None:
        """Write documents (one file write, or part of the current batch) and keep the cache in step."""
        cache = self._records()
        if replace:
            self._table.replace_all(docs)
            cache.clear()
        else:
            self._table.put_many(docs)
        cache.update(records)

    def clear(self) -> None:
        """Remove every record of this kind (no write when already empty)."""
        with self._ctx.lock:
            cache = self._records()
            if self._table.raw():
                self._table.truncate()
            cache.clear()


class Repo(_TypedTable[R]):
    """The records of one kind, by id. ``all()`` is in insertion order (an update keeps a record's place)."""

    def get(self, id: str) -> R | None:
        with self._ctx.lock:
            return self._records().get(id)

    def all(self) -> list[R]:
        with self._ctx.lock:
            return list(self._records().values())

    def count(self) -> int:
        with self._ctx.lock:
            self._ctx.storage.require_open()
            return len(self._table.raw())

    def upsert(self, record: R) -> None:
        """Insert or replace ``record`` (by ``record.id``): one file write outside a batch."""
        self.upsert_many((record,))

    def upsert_many(self, records: Iterable[R]) -> None:
        """Insert or replace many records in one file write; all are validated before anything changes."""
        docs, parsed = self._validated(records)
        if not docs:
            return
        with self._ctx.lock:
            self._put(docs, parsed)

    def upsert_decoded(self, records: Iterable[R]) -> None:
        """Insert or replace records that ``from_dict`` of their type has just made from decoded JSON.

        The pull's path (a page's records, validated once when the page was parsed): such a
        record reads back from its ``to_dict()`` unchanged (``tests/core/test_models.py``), and
        ``to_dict()`` builds new JSON values (text, numbers, new lists and objects), so it is
        stored as is, without :meth:`upsert_many`'s JSON round trip and second parse. A record
        made or changed in code (``replace``, a conflict's merge) goes through :meth:`upsert_many`.
        """
        docs: dict[str, dict[str, Any]] = {}
        parsed: dict[str, R] = {}
        for record in records:
            if type(record) is not self.record_type:
                raise RecordError(self.kind, f"expected a {self.record_type.__name__}, got {type(record).__name__}")
            docs[record.id] = record.to_dict()
            parsed[record.id] = record
        if not docs:
            return
        with self._ctx.lock:
            self._put(docs, parsed)

    def delete(self, id: str) -> bool:
        """Remove the record; ``False`` (and no write) when there was none."""
        with self._ctx.lock:
            cache = self._records()
            if id not in self._table.raw():
                return False
            self._table.remove_ids([id])
            cache.pop(id, None)
            return True

    def delete_many(self, ids: Iterable[str]) -> int:
        """Remove these records in one file write (or one change of the current batch); returns how many
        there were (none: no write). A push settling 100 acknowledged entries costs one removal, not 100."""
        with self._ctx.lock:
            cache = self._records()
            stored = self._table.raw()
            present = [id for id in dict.fromkeys(ids) if id in stored]
            if present:
                self._table.remove_ids(present)
                for id in present:
                    cache.pop(id, None)
            return len(present)


class SingletonRepo(_TypedTable[R]):
    """A table holding at most one record (the patient's profile).

    ``upsert``/``delete``/``all``/``count`` mirror :class:`Repo` so that sync code
    can apply any kind through :meth:`Vault.repo` without special cases.
    """

    def get(self, id: str | None = None) -> R | None:
        """The record, or ``None``; with ``id``, only if the stored record has that id."""
        with self._ctx.lock:
            record = self._records().get(_SINGLETON_KEY)
        if record is None or (id is not None and record.id != id):
            return None
        return record

    def set(self, record: R) -> None:
        docs, parsed = self._validated((record,))
        (doc,), (canonical,) = docs.values(), parsed.values()
        with self._ctx.lock:
            self._put({_SINGLETON_KEY: doc}, {_SINGLETON_KEY: canonical}, replace=True)

    def upsert(self, record: R) -> None:
        self.set(record)

    def delete(self, id: str) -> bool:
        """Clear the record if it has this id; ``False`` otherwise."""
        with self._ctx.lock:
            if self.get(id) is None:
                return False
            self.clear()
            return True

    def all(self) -> list[R]:
        record = self.get()
        return [] if record is None else [record]

    def count(self) -> int:
        return len(self.all())


class Meta:
    """Small JSON values by key: device token, server URL, sync cursor, settings, delivered reminders.

    Values are JSON (``None``, bool, numbers, text, lists, objects); ``get`` returns
    a private copy, so changing a returned list does not change the vault. A
    ``set`` that would not change the value writes nothing.
    """

    def __init__(self, ctx: RepoContext) -> None:
        self._ctx = ctx
        self._table = ctx.table("meta")

    def get(self, key: str, default: Any = None) -> Any:
        with self._ctx.lock:
            self._ctx.storage.require_open()
            doc = self._table.raw().get(key)
            if doc is None:
                return default
            value = doc["value"]
            return copy.deepcopy(value) if isinstance(value, dict | list) else value

    def set(self, key: str, value: Any) -> None:
        _check_key(key)
        try:
            stored = json.loads(_ENCODER.encode(value))
        except (TypeError, ValueError) as error:
            raise RecordError(f"meta.{key}", f"cannot be stored: {error}") from None
        with self._ctx.lock:
            self._ctx.storage.require_open()
            current = self._table.raw().get(key)
            if current is not None and _same_json(current["value"], stored):
                return
            self._table.put_many({key: {"value": stored}})

    def delete(self, key: str) -> bool:
        """Remove ``key``; ``False`` (and no write) when it was not set."""
        return self.delete_many([key]) > 0

    def __contains__(self, key: object) -> bool:
        with self._ctx.lock:
            self._ctx.storage.require_open()
            return key in self._table.raw()

    def keys(self, prefix: str = "") -> list[str]:
        with self._ctx.lock:
            self._ctx.storage.require_open()
            return [k for k in self._table.raw() if k.startswith(prefix)]

    def delete_prefix(self, prefix: str) -> int:
        """Remove every key starting with ``prefix`` in one write; returns how many."""
        with self._ctx.lock:
            return self.delete_many(self.keys(prefix))

    def delete_many(self, keys: Iterable[str]) -> int:
        with self._ctx.lock:
            self._ctx.storage.require_open()
            raw = self._table.raw()
            present = [k for k in keys if k in raw]
            if present:
                self._table.remove_ids(present)
            return len(present)


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key.strip():
        raise RecordError("meta.key", "must be non-empty text")
    if len(key) > MAX_META_KEY:
        raise RecordError("meta.key", f"longer than {MAX_META_KEY} characters")


def _same_json(a: Any, b: Any) -> bool:
    """Equality as JSON sees it (``1 == True`` in Python, not in JSON)."""
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return json.dumps(a) == json.dumps(b)
    return type(a) is type(b) and bool(a == b)
