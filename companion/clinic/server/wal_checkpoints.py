"""SQLite: the WAL is copied back into the database file by a thread of its own, not by a writer.

By default SQLite checkpoints inside the commit that takes the WAL past 1,000 pages: that writer
copies every page back into the database file and fsyncs it before its ``COMMIT`` returns. On this
project's machine that added 4-9 ms to about one commit in a hundred (a PSR's message behind it
answered late, and so did the long polls it wakes, which run after the commit), and one push of
100 messages in about sixteen.

Here a writer only notes that it wrote (:meth:`WalCheckpointer.note_write`, one attribute); a thread
runs a ``PASSIVE`` checkpoint at most every :data:`PACE` seconds when something was written. A
passive checkpoint takes no lock a writer or reader waits on: it copies what no open snapshot
still needs and leaves the rest for the next one. Every connection's own automatic checkpoint is
kept as a backstop at :data:`BACKSTOP_PAGES` (64 MiB of WAL): should the thread fall behind or fail,
a writer checkpoints as before, only later. Durability does not change: a commit is durable once
its WAL frames are fsynced (``synchronous=FULL``), whoever copies them back later.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

import sqlalchemy as sa

log = logging.getLogger("companion.server.db")

PACE = 1.0  # seconds: at most one checkpoint in this time, and only when something was written
BACKSTOP_PAGES = 16384  # a writer still checkpoints itself should the WAL reach this (4 KiB pages)


class WalCheckpointer:
    """The background checkpoint of one SQLite database (see the module docstring)."""

    def __init__(self, engine: sa.Engine, *, pace: float = PACE) -> None:
        self.engine = engine
        self.pace = pace
        self.dirty = False
        self.runs = 0  # checkpoints done
        self.last: tuple[int, int, int] | None = None  # SQLite's answer: (busy, WAL frames, frames copied)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def note_write(self) -> None:
        """A write committed: the next round checkpoints. Only an attribute is set (no thread is woken
        on a writer's path)."""
        self.dirty = True

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop the thread (at once, even mid-pause); the last connection's close checkpoints the rest."""
        if self._thread is not None:
            self._stopping.set()
            self._thread.join()
            self._thread = None

    def checkpoint(self) -> tuple[int, int, int]:
        """One passive checkpoint now, outside any transaction (the pool's connections run in
        autocommit: the server emits its own ``BEGIN``)."""
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            try:
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                busy, frames, copied = cursor.fetchone() or (1, -1, -1)  # it always answers one row
            finally:
                cursor.close()
        finally:
            raw.close()
        self.runs += 1
        self.last = (int(busy), int(frames), int(copied))
        return self.last

    def _run(self) -> None:
        while not self._stopping.wait(self.pace):
            if not self.dirty:
                continue
            self.dirty = False  # a write after this line is caught by the next round
            try:
                self.checkpoint()
            except (sa.exc.SQLAlchemyError, sqlite3.Error) as exc:  # the backstop still bounds the WAL
                log.warning("background WAL checkpoint failed: %s", str(exc).splitlines()[0][:200])
