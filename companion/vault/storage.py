"""The TinyDB storage of the vault: the document in memory, each commit one journal frame.

A TinyDB middleware only sees dicts, so encryption has to be the storage itself:
:class:`EncryptedStorage` owns serialisation. The document lives in memory (the
vault holds the exclusive writer lock for its whole life, so nobody else can
change the files and ``read()`` returns it without parsing anything). On disk
it is a base (the whole document, :mod:`.fileformat`) plus a journal of sealed
frames (:mod:`.journal`), so **a write costs what changed**: a commit seals the
records it changed into one frame, appends it and fsyncs once (or, for what the clinic's
server sends again, leaves the fsync to the journal's timer: :meth:`Vault.batch`); when the journal
outgrows a share of the base, :mod:`.compaction` writes a new base off the
writer's path.

Batches: between :meth:`EncryptedStorage.begin` and :meth:`EncryptedStorage.end`,
TinyDB's writes only change the in-memory document; the outermost ``end``
commits once. A failed batch or a refused append puts the document back from
the undo kept by :class:`~companion.vault.changes.ChangeSet`, so nothing
half-applied stays visible.

The tables over it (:mod:`.tables`) tell the storage which ids are about to
change before they change them in place: that is what a frame holds.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Iterable
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from tinydb.storages import Storage

from ..core.errors import VaultError
from .changes import ChangeSet
from .compaction import CompactionReport, Compactor
from .encoder import DocumentEncoder
from .fileformat import CHAIN_BYTES, KeySlot, seal
from .files import MAIN, JournalFile, VaultFolder
from .journal import JOURNAL_HEADER, seal_frame
from .unlock import Unlocked

__all__ = ["EncryptedStorage"]

Document = dict[str, dict[str, Any]]


class EncryptedStorage(Storage):
    """TinyDB storage: the document in memory, one sealed journal frame per commit."""

    def __init__(self, folder: VaultFolder, unlocked: Unlocked) -> None:
        self.lock = threading.RLock()  # the vault's lock: repos, batches and the compactor share it
        self._folder = folder
        self._slot = unlocked.slot
        self._set_key(unlocked.dek)
        self._doc: Document = unlocked.document
        self.generation = unlocked.generation  # the number of the last committed frame
        self._tag = unlocked.tag
        self.document_size = unlocked.document_size  # the base's JSON, before compression
        self.epoch = 0  # bumped whenever the key or the base is replaced under a running compaction
        self._journal: JournalFile | None = None
        self._changes = ChangeSet()
        self._encoder = DocumentEncoder()  # JSON of unchanged records is kept from base to base
        self._depth = 0
        self._dirty = self._doomed = self._closed = self._deferred = False
        self._unsynced_from: int | None = None  # the first generation whose frame is not yet fsynced
        self.writes = 0  # commits written through this object
        self.reloads = 0  # times the document was put back to its committed state
        self.compactor = Compactor(self)

    @classmethod
    def create_new(cls, folder: VaultFolder, slot: KeySlot, dek: bytes) -> EncryptedStorage:
        """Write an empty vault (base + empty journal) as both generations."""
        tag = secrets.token_bytes(CHAIN_BYTES)
        base = seal(slot, dek, b"{}", 0, tag)
        try:
            folder.install_fresh(base, JOURNAL_HEADER, journal_first=True)
            storage = cls(folder, Unlocked(slot, dek, {}, 0, tag, len(base), len(JOURNAL_HEADER),
                                           recovered=False))
            storage._journal = folder.open_journal()
        except OSError as error:
            raise VaultError(f"could not create the vault: {error.strerror or error}") from None
        return storage

    @classmethod
    def open_unlocked(cls, folder: VaultFolder, unlocked: Unlocked) -> EncryptedStorage:
        """The storage of an unlocked state; migrates, repairs or cuts a torn tail first (raises OSError)."""
        storage = cls(folder, unlocked)
        with storage.lock:
            if unlocked.legacy:
                storage.rewrite_both()  # format 1 -> 2, under the same data key
            elif unlocked.repair:
                # Never push damage into the .bak pair. If the disk refuses, the data
                # is still readable and the first commit writes the new base instead.
                with contextlib.suppress(OSError):
                    storage.compactor.run_now(rotate=False)
            else:
                journal = storage._journal = folder.open_journal()
                if journal.size != unlocked.journal_end:  # a torn append: cut it off before appending
                    try:
                        journal.truncate(unlocked.journal_end)
                    except OSError:
                        journal.broken = True
                storage.compactor.schedule_if_due()
        return storage

    # --- the TinyDB Storage interface ------------------------------------------

    def read(self) -> Document:
        self.require_open()
        return self._doc

    def write(self, data: Document) -> None:
        self.require_open()
        if data is not self._doc:  # a whole new document (TinyDB's drop_tables): every table changed
            for name in set(self._doc) | set(data):
                self.forget(name, None)
            self._encoder.reset()
            self._doc = data
        if self._doomed:
            self._restore()
            raise VaultError("this batch was discarded because a nested batch failed; nothing can be written in it")
        if self._depth:
            self._dirty = True
            return
        self._commit(sync=True)

    def close(self) -> None:
        with self.lock:
            self._closed = True
            self._encoder.reset()
            self._changes.clear()
            self._doc = {}
            self._set_key(b"\0" * 32)
            if self._journal is not None:
                self._journal.close()

    def forget(self, table: str, ids: Iterable[str] | None, *, removed: bool = False, deep: bool = False) -> None:
        """Call BEFORE changing documents of ``table`` in place: the next commit writes them."""
        self._changes.changed(self._doc, table, ids, removed=removed, deep=deep)
        self._encoder.changed(table, ids, removed=removed)

    # --- state -------------------------------------------------------------------

    def require_open(self) -> None:
        if self._closed:
            raise VaultError("the vault is closed")

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def slot(self) -> KeySlot:
        return self._slot

    @property
    def in_batch(self) -> bool:
        return self._depth > 0

    @property
    def durable_generation(self) -> int:
        """The generation a power loss cannot take: :attr:`generation` unless commits deferred their fsync."""
        journal, first = self._journal, self._unsynced_from
        if journal is None or first is None or not journal.unsynced:
            return self.generation
        return first - 1

    @property
    def journal_size(self) -> int:
        return self._journal.size if self._journal is not None else 0

    @property
    def last_compaction(self) -> CompactionReport | None:
        return self.compactor.last

    # --- batches -----------------------------------------------------------------

    def begin(self, *, durable: bool = True) -> None:
        """Enter a batch; nested batches join the outermost one, whose commit defers its fsync
        only when every batch in it asked so (``durable=False``, see :meth:`Vault.batch`)."""
        self.require_open()
        if self._depth == 0:
            self._dirty = self._doomed = False
            self._deferred = not durable
        elif durable:
            self._deferred = False
        self._depth += 1

    def end(self, ok: bool) -> None:
        """Leave a batch: the outermost successful ``end`` commits once; any failure discards the whole batch."""
        self._depth -= 1
        if not ok and not self._doomed:
            if self._dirty or self._changes:
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
            self._commit(sync=not self._deferred)

    # --- writing -------------------------------------------------------------------

    def _commit(self, *, sync: bool) -> None:
        """The one place where changes become durable, and why it is the only one.

        Sealing and appending a frame is all-or-nothing: on any failure the
        in-memory document is put back to the last committed state, so what the
        app shows never differs from what a restart would read. Callers reach
        this through TinyDB's write path -> :meth:`write`, or the end of a batch.
        """
        if not self._changes:
            return
        try:
            payload = self._changes.payload(self._doc, self._encoder.fragment)
        except (TypeError, ValueError) as error:
            self._restore()
            raise VaultError(f"could not save the vault: a value is not storable as JSON ({error})") from None
        journal = self._journal
        try:
            if journal is None or journal.broken or not self._append(journal, payload, sync=sync):
                # the journal refused to be cut back, or an fsync of it failed: a new base holds it all
                committed = self.generation, self._tag
                self.generation, self._tag = self.generation + 1, secrets.token_bytes(CHAIN_BYTES)
                try:
                    self.compactor.run_now(rotate=False)
                except BaseException:
                    self.generation, self._tag = committed
                    raise
                self._changes.clear()
        except OSError as error:
            if self._changes:
                self._restore()
            raise VaultError(f"could not save the vault: {error.strerror or error}") from None
        self.writes += 1
        self.compactor.schedule_if_due()

    def _append(self, journal: JournalFile, payload: bytes, *, sync: bool) -> bool:
        """Seal the payload as the next frame and append it; False when the journal broke meanwhile."""
        frame = seal_frame(self._aead, self.generation + 1, self._tag, payload)
        was_synced = not journal.unsynced
        if not journal.append(frame, sync=sync):  # a deferred fsync failed since the check: nothing written
            return False
        self._changes.clear()
        self.generation += 1
        self._tag = frame[-16:]
        if sync:
            self._unsynced_from = None
        elif was_synced:
            self._unsynced_from = self.generation
        return True

    def advance_generation(self, at_least: int) -> None:
        """A new base at generation ``at_least`` (with a new chain tag); raises OSError when the disk refuses."""
        if at_least <= self.generation:
            return
        committed = self.generation, self._tag
        self.generation, self._tag = at_least, secrets.token_bytes(CHAIN_BYTES)
        try:
            self.compactor.run_now()
        except BaseException:
            self.generation, self._tag = committed
            raise

    def _restore(self) -> None:
        """Put the document back to its last committed state (after a failed batch or write)."""
        for name in self._changes.undo(self._doc):
            self._encoder.changed(name, None)
        self.reloads += 1

    # --- new bases (called by the compactor and the vault, with ``lock`` held) ------

    def snapshot(self) -> tuple[bytes, int, bytes, int, int]:
        """The committed document as JSON, its generation and chain tag, the journal size, and the epoch."""
        return self._encoder.encode(self._doc), self.generation, self._tag, self.journal_size, self.epoch

    def seal_base(self, plaintext: bytes, generation: int, tag: bytes) -> bytes:
        return seal(self._slot, self._dek, plaintext, generation, tag)

    def install_base(self, tmp: Any, document_size: int, journal_from: int, *, rotate: bool) -> None:
        """Swap in a new base (fsynced temp ``tmp``, of a ``document_size``-byte JSON document) and a journal
        of the frames written after ``journal_from``."""
        tail = self._journal.read_from(journal_from) if self._journal is not None else b""
        self._folder.install_base(tmp, JOURNAL_HEADER + tail, rotate=rotate)
        if self._journal is not None:
            self._journal.close(sync=False)  # its unsynced frames are in the new journal's tail, fsynced
        self._journal = self._folder.open_journal()
        self._unsynced_from = None
        self.document_size = document_size
        self.epoch += 1

    def write_temp_base(self, blob: bytes) -> Any:
        return self._folder.write_temp(MAIN, blob)

    def discard_temp(self, tmp: Any) -> None:
        self._folder.discard(tmp)

    def rewrite_both(self, slot: KeySlot | None = None, dek: bytes | None = None) -> None:
        """Write the document as a new base for BOTH generations (migration; passcode change with a new key).

        With a new key, afterwards the old passcode unlocks neither generation, and
        an old copy of the files opens nothing written after the change; a crash
        in between leaves the old pair under the old key or the new under the new.
        """
        self.require_open()
        if self._depth:
            raise VaultError("the passcode cannot be changed inside a batch")
        slot, dek = slot or self._slot, dek or self._dek
        try:
            plaintext = self._encoder.encode(self._doc)
        except (TypeError, ValueError) as error:
            raise VaultError(f"could not save the vault: a value is not storable as JSON ({error})") from None
        base = seal(slot, dek, plaintext, self.generation, self._tag)
        first_time = self._journal is None  # a migration: no format-2 journal exists yet
        self._folder.install_fresh(base, JOURNAL_HEADER, journal_first=first_time)
        if self._journal is not None:
            self._journal.close(sync=False)  # the new base holds all it had
        self._journal = self._folder.open_journal()
        self._unsynced_from = None
        self._slot, self.document_size = slot, len(plaintext)
        self._set_key(dek)
        self.epoch += 1

    def _set_key(self, dek: bytes) -> None:
        self._dek = dek
        self._aead = AESGCM(dek)
