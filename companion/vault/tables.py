"""The TinyDB tables of the vault: documents keyed by the records' own ids, written through the storage.

:class:`RecordTable` keys TinyDB documents by the records' own string ids (no
separate id index) and adds ``put_many`` so that N upserts cost one commit
instead of N. Its writes change the in-memory document in place instead of
TinyDB's copy-the-whole-table ``_update_table``, and tell the storage
(:class:`~.storage.EncryptedStorage`) which ids are about to change — that is
what a journal frame holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from tinydb import TinyDB
from tinydb.table import Table

from .storage import EncryptedStorage

__all__ = ["RecordTable", "open_database"]


class RecordTable(Table):
    """A TinyDB table whose document ids are the records' string ids.

    TinyDB's own annotations assume integer ids, so the id-taking operations are
    re-declared here over our write path.
    """

    # str ids: TinyDB never generates an id here because every insert names one.
    document_id_class = str  # type: ignore[assignment]

    def put_many(self, docs: Mapping[str, dict[str, Any]]) -> None:
        """Insert or replace documents by id in one write; a replaced document keeps its position."""
        self._rewrite(lambda table: table.update(docs), docs.keys())

    def replace_all(self, docs: Mapping[str, dict[str, Any]]) -> None:
        """Make ``docs`` the whole content of the table in one write."""

        def updater(table: dict[str, dict[str, Any]]) -> None:
            table.clear()
            table.update(docs)

        self._rewrite(updater, None)

    def truncate(self) -> None:
        """Remove every document (records are dropped, never changed: no deep copy for the undo)."""
        self._rewrite(lambda table: table.clear(), None)

    def remove_ids(self, ids: Iterable[str]) -> None:
        """Remove the documents with these ids (absent ones are skipped) in one write."""
        ids = list(ids)

        def updater(table: dict[str, dict[str, Any]]) -> None:
            for doc_id in ids:
                table.pop(doc_id, None)

        self._rewrite(updater, ids, removed=True)

    def raw(self) -> Mapping[str, dict[str, Any]]:
        """The stored documents by id, in insertion order, without copies (callers must not mutate)."""
        return cast("Mapping[str, dict[str, Any]]", self._read_table())

    def _rewrite(self, updater: Callable[[dict[str, dict[str, Any]]], None], changed: Iterable[str] | None,
                 *, removed: bool = False) -> None:
        """Our write path: name what is about to change (``None``: anything), change in place, commit."""
        storage = self._storage
        if not isinstance(storage, EncryptedStorage):
            self._update_table(cast(Any, updater))
            return
        document = storage.read()
        storage.forget(self.name, changed, removed=removed)
        updater(document.setdefault(self.name, {}))
        storage.write(document)
        self.clear_cache()

    def _update_table(self, updater: Callable[[dict[int, Mapping[Any, Any]]], None]) -> None:
        """TinyDB's own write path (query updates): it may change any document, even in place."""
        if isinstance(self._storage, EncryptedStorage):
            self._storage.forget(self.name, None, deep=True)
        super()._update_table(updater)


class _VaultDatabase(TinyDB):
    table_class = RecordTable

    def drop_table(self, name: str) -> None:
        """Dropping removes the table from the document in place: the storage must be told first."""
        if isinstance(self.storage, EncryptedStorage):
            self.storage.forget(name, None)
        super().drop_table(name)


def open_database(storage: EncryptedStorage) -> TinyDB:
    """A TinyDB over ``storage`` whose tables are :class:`RecordTable`."""
    return _VaultDatabase(storage=lambda: storage)
