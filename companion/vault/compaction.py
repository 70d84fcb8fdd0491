"""Compaction: folding the journal into a new base, off the writer's path where it can be.

When the journal outgrows :data:`SHARE` of the document (its JSON, before the
base is compressed) and :data:`MIN_JOURNAL_BYTES`, the commit that crossed the
line schedules a compaction on a background thread. It takes the vault's lock three times,
briefly each time:

1. *snapshot*: the committed document as JSON (the incremental encoder re-encodes
   only the records changed since the last base, then joins), its generation,
   its chain tag, and the journal's length at that point;
2. *(no lock)* seal the base with AES-256-GCM and write it to a fsynced temp file —
   the expensive part, while the app keeps reading and writing;
3. *install*: the frames appended meanwhile are copied byte for byte into the new
   journal (they continue the chain from the snapshot's generation and tag, so
   they need no re-sealing), and :meth:`VaultFolder.install_base` swaps the pair.

A compaction that lost a race (the vault closed, the key or base was replaced)
drops its temp file. Its cost is kept in :class:`CompactionReport` (``last``).
:meth:`Compactor.run_now` does the same synchronously (repairs at open, tests,
benchmarks).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .journal import JOURNAL_HEADER

if TYPE_CHECKING:
    from .storage import EncryptedStorage

__all__ = ["MIN_JOURNAL_BYTES", "SHARE", "CompactionReport", "Compactor"]

SHARE = 0.25  # compact when the journal is larger than this share of the document (its JSON) …
MIN_JOURNAL_BYTES = 1 << 18  # … and larger than this (256 KiB: the previous journal is kept for recovery)
_log = logging.getLogger("companion.vault")


@dataclass(frozen=True, slots=True)
class CompactionReport:
    """What one compaction cost."""

    seconds: float  # start to installed
    locked_seconds: float  # of which the vault's lock was held
    base_bytes: int
    journal_bytes: int  # the journal it folded in
    background: bool


class Compactor:
    """Schedules and runs the compactions of one storage (see the module docstring)."""

    def __init__(self, storage: EncryptedStorage) -> None:
        self._storage = storage
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.last: CompactionReport | None = None
        self.count = 0
        self.error = ""  # the last background failure, in words
        self._retry_at = 0  # journal size before which a failed compaction is not retried
        self._held = 0  # > 0 while a bulk write defers compaction (see :meth:`hold`)

    def due(self) -> bool:
        journal = self._storage.journal_size - len(JOURNAL_HEADER)
        return journal > max(MIN_JOURNAL_BYTES, SHARE * self._storage.document_size)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def schedule_if_due(self) -> None:
        """Start a background compaction when one is due and none is running (call with the lock held).

        After a failure (a full disk, say) the next try waits until the journal has
        grown by another :data:`MIN_JOURNAL_BYTES`, so a failing disk is not hit
        with a whole-vault write at every commit.
        """
        if self._held or self.running or self._stop.is_set() or not self.due():
            return
        if self.error and self._storage.journal_size < self._retry_at:
            return
        self._thread = threading.Thread(target=self._background, name="vault-compaction", daemon=True)
        self._thread.start()

    def hold(self) -> None:
        """Defer compaction until :meth:`release` (call with the lock held; nests).

        For a long run of commits that grow the document (a first sync): compacting as it
        grows would rewrite the base at every quarter of growth (~5 times the final document
        in all); deferred, the journal holds the run and one compaction folds it in after.
        Every commit stays one fsynced frame: a crash meanwhile reopens from base + journal.
        """
        self._held += 1

    def release(self) -> None:
        """End a :meth:`hold`; the last one starts the compaction that became due (call with the lock held)."""
        self._held = max(0, self._held - 1)
        if not self._held and not self._storage.closed:
            self.schedule_if_due()

    def stop(self) -> None:
        """Make a running compaction give up, and wait for it (call without holding the lock)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def run_now(self, *, rotate: bool = True) -> CompactionReport:
        """Compact synchronously (call with the lock held); raises OSError when the disk refuses."""
        storage = self._storage
        started = time.perf_counter()
        journal_bytes = storage.journal_size
        plaintext, generation, tag, journal_from, _ = storage.snapshot()
        blob = storage.seal_base(plaintext, generation, tag)
        document_size = len(plaintext)
        del plaintext
        tmp = storage.write_temp_base(blob)
        storage.install_base(tmp, document_size, journal_from, rotate=rotate)
        seconds = time.perf_counter() - started
        return self._done(CompactionReport(seconds, seconds, len(blob), journal_bytes, background=False))

    def _background(self) -> None:
        storage = self._storage
        try:
            started = time.perf_counter()
            if not self._acquire():
                return
            try:
                if storage.closed or storage.in_batch:
                    return
                journal_bytes = storage.journal_size
                plaintext, generation, tag, journal_from, epoch = storage.snapshot()
                slot = storage.slot
            finally:
                storage.lock.release()
            locked = time.perf_counter() - started
            blob = storage.seal_base(plaintext, generation, tag)
            document_size = len(plaintext)
            del plaintext
            tmp = storage.write_temp_base(blob)
            if not self._acquire():
                storage.discard_temp(tmp)
                return
            try:
                held = time.perf_counter()
                if storage.closed or storage.epoch != epoch or storage.slot != slot:
                    storage.discard_temp(tmp)
                    return
                storage.install_base(tmp, document_size, journal_from, rotate=True)
                locked += time.perf_counter() - held
            finally:
                storage.lock.release()
            self._done(CompactionReport(time.perf_counter() - started, locked, len(blob), journal_bytes,
                                        background=True))
        except Exception as error:  # a thread must not die with a traceback; the next commit retries
            self.error = f"{type(error).__name__}: {error}"
            self._retry_at = storage.journal_size + MIN_JOURNAL_BYTES
            _log.warning("vault compaction failed: %s", self.error)

    def _acquire(self) -> bool:
        """Take the lock, giving up when :meth:`stop` was called (``stop`` may be waiting while holding it)."""
        while not self._stop.is_set():
            if self._storage.lock.acquire(timeout=0.05):
                return True
        return False

    def _done(self, report: CompactionReport) -> CompactionReport:
        self.last, self.error = report, ""
        self.count += 1
        return report
