"""The TinyDB storage of the vault: the document in memory, sealed into a file on every commit.

A TinyDB middleware only sees dicts, so encryption has to be the storage itself:
:class:`EncryptedStorage` owns serialisation (document -> compact JSON ->
AES-256-GCM -> :class:`~companion.vault.files.VaultFolder`). Because the vault
holds the exclusive writer lock for its whole life, nobody else can change the
file, so ``read()`` returns the decrypted document kept in memory instead of
parsing a file each time (stock ``JSONStorage`` re-reads and re-parses).

Batches: between :meth:`EncryptedStorage.begin` and :meth:`EncryptedStorage.end`,
TinyDB's writes only update the in-memory document; the outermost ``end`` seals
it once. A failed batch restores the document from the last committed file
bytes (kept in memory, encrypted), so nothing half-applied stays visible.

:class:`RecordTable` keys TinyDB documents by the records' own string ids (no
separate id index) and adds ``put_many`` so that N upserts cost one write
instead of N. Its writes change the in-memory document in place (the vault owns
the only writer lock, so nobody else reads it meanwhile) instead of TinyDB's
copy-the-whole-table ``_update_table``, and tell the storage which ids changed.

Encoding cost: the storage's :class:`~companion.vault.encoder.DocumentEncoder`
keeps each record's compact JSON from commit to commit, so a commit re-encodes
only the records that changed, then joins strings. The sealed bytes are exactly
``encode_document(document)``; encryption still covers the whole document in
one fresh AES-GCM seal per generation, so nothing about the file changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from ..core.errors import VaultError
from .encoder import DocumentEncoder
from .fileformat import KeySlot, decode_document, encode_document, parse_file, seal
from .files import VaultFolder

__all__ = ["EncryptedStorage", "RecordTable", "open_database"]

Document = dict[str, dict[str, Any]]


class RecordTable(Table):
    """A TinyDB table whose document ids are the records' string ids.

    TinyDB's own annotations assume integer ids, so the id-taking operations are
    re-declared here over ``Table._update_table``, TinyDB's single write path.
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
        """Our write path: change the table in place, name what changed (``None``: anything), commit."""
        storage = self._storage
        if not isinstance(storage, EncryptedStorage):
            self._update_table(cast(Any, updater))
            return
        document = storage.read()
        table = document.setdefault(self.name, {})
        storage.forget(self.name, changed, removed=removed)
        updater(table)
        storage.write(document)
        self.clear_cache()

    def _update_table(self, updater: Callable[[dict[int, Mapping[Any, Any]]], None]) -> None:
        """TinyDB's own write path (``truncate``, query updates): it may change any document."""
        if isinstance(self._storage, EncryptedStorage):
            self._storage.forget(self.name, None)
        super()._update_table(updater)


class _VaultDatabase(TinyDB):
    table_class = RecordTable

    def drop_table(self, name: str) -> None:
        """Dropping rewrites the document in place without naming ids: the encoder must forget the table."""
        if isinstance(self.storage, EncryptedStorage):
            self.storage.forget(name, None)
        super().drop_table(name)


def open_database(storage: EncryptedStorage) -> TinyDB:
    """A TinyDB over ``storage`` whose tables are :class:`RecordTable`."""
    return _VaultDatabase(storage=lambda: storage)


class EncryptedStorage(Storage):
    """TinyDB storage: cached document in memory, one sealed vault generation per commit."""

    def __init__(self, folder: VaultFolder, slot: KeySlot, dek: bytes, document: Document,
                 committed: bytes, *, main_is_good: bool) -> None:
        self._folder = folder
        self._slot = slot
        self._dek = dek
        self._doc = document
        # The file bytes of the last committed generation; a failed batch or write
        # is rolled back from these, and they are the previous generation's
        # content where the file system refuses hard links.
        self._committed = committed
        # After a recovery the main file is damaged: the next write must replace it
        # without rotating it into .bak.
        self._rotate = main_is_good
        self._depth = 0
        self._dirty = False
        self._doomed = False
        self._closed = False
        self.writes = 0  # vault generations written through this object
        self.reloads = 0  # times the document was replaced from the committed state
        self._encoder = DocumentEncoder()  # JSON of unchanged records is kept from commit to commit

    @classmethod
    def create_new(cls, folder: VaultFolder, slot: KeySlot, dek: bytes) -> EncryptedStorage:
        """Write an empty vault as both generations, so a ``.bak`` exists from the start."""
        document: Document = {}
        plaintext = encode_document(document)
        main = seal(slot, dek, plaintext)
        try:
            folder.commit_both(main, seal(slot, dek, plaintext))
        except OSError as error:
            raise VaultError(f"could not create the vault: {error.strerror or error}") from None
        return cls(folder, slot, dek, document, main, main_is_good=True)

    # --- the TinyDB Storage interface ------------------------------------------

    def read(self) -> Document:
        self.require_open()
        return self._doc

    def write(self, data: Document) -> None:
        self.require_open()
        if data is not self._doc:  # a whole new document: nothing cached describes it
            self._encoder.reset()
        self._doc = data
        if self._doomed:
            self._restore()
            raise VaultError("this batch was discarded because a nested batch failed; nothing can be written in it")
        if self._depth:
            self._dirty = True
            return
        self._persist()

    def close(self) -> None:
        self._closed = True
        self._encoder.reset()
        self._doc = {}
        self._dek = b""
        self._committed = b""

    def forget(self, table: str, ids: Iterable[str] | None, *, removed: bool = False) -> None:
        """Call before changing documents of ``table`` in place: their cached JSON is re-made at the commit."""
        self._encoder.changed(table, ids, removed=removed)

    # --- state -------------------------------------------------------------------

    def require_open(self) -> None:
        if self._closed:
            raise VaultError("the vault is closed")

    @property
    def slot(self) -> KeySlot:
        return self._slot

    @property
    def in_batch(self) -> bool:
        return self._depth > 0

    # --- batches -----------------------------------------------------------------

    def begin(self) -> None:
        """Enter a batch; nested batches join the outermost one."""
        self.require_open()
        if self._depth == 0:
            self._dirty = self._doomed = False
        self._depth += 1

    def end(self, ok: bool) -> None:
        """Leave a batch: the outermost successful ``end`` writes once; any failure discards the whole batch."""
        self._depth -= 1
        if not ok and not self._doomed:
            if self._dirty:
                self._restore()
            self._doomed = True
        if self._depth:
            return
        doomed, dirty = self._doomed, self._dirty
        self._doomed = self._dirty = False
        if doomed:
            if ok:  # an inner batch failed and its exception was swallowed inside the outer one
                raise VaultError("a nested batch failed, so the whole batch was discarded; nothing was written")
            return
        if dirty:
            self._persist()

    # --- writing -------------------------------------------------------------------

    def rekey(self, slot: KeySlot) -> None:
        """Re-wrap: write the current document under a new key slot as BOTH generations.

        Both files are replaced (``.bak`` first) so that afterwards the old passcode
        unlocks neither; a crash in between leaves one file under each slot with
        the same data, so either passcode unlocks.
        """
        self.require_open()
        if self._depth:
            raise VaultError("the passcode cannot be changed inside a batch")
        try:
            plaintext = self._encoder.encode(self._doc)
        except (TypeError, ValueError) as error:
            self._restore()
            raise VaultError(f"could not save the vault: a value is not storable as JSON ({error})") from None
        main = seal(slot, self._dek, plaintext)
        try:
            self._folder.commit_both(main, seal(slot, self._dek, plaintext))
        except OSError as error:
            raise VaultError(f"could not save the vault: {error.strerror or error}") from None
        self._slot, self._committed, self._rotate = slot, main, True
        self.writes += 1

    def save_now(self) -> None:
        """Write the current document as a new generation now (repairs a damaged main file after a recovery)."""
        self.require_open()
        self._persist()

    def _persist(self) -> None:
        """The one place where the document becomes a vault file, and why it is the only one.

        Sealing and installing a generation is all-or-nothing: on any failure the
        in-memory document is rolled back to the last committed state, so what
        the app shows never differs from what a restart would read. Callers reach
        this through TinyDB's ``Table._update_table`` -> :meth:`write`, or through
        the end of a batch.
        """
        try:
            plaintext = self._encoder.encode(self._doc)
        except (TypeError, ValueError) as error:
            self._restore()
            raise VaultError(f"could not save the vault: a value is not storable as JSON ({error})") from None
        blob = seal(self._slot, self._dek, plaintext)
        try:
            self._folder.commit(blob, rotate=self._rotate, previous=self._committed)
        except OSError as error:
            self._restore()
            raise VaultError(f"could not save the vault: {error.strerror or error}") from None
        self._committed, self._rotate = blob, True
        self.writes += 1

    def _restore(self) -> None:
        """Replace the in-memory document with the last committed one (after a failed batch or write)."""
        self._encoder.reset()
        self._doc = decode_document(parse_file(self._committed).open(self._dek))
        self.reloads += 1

