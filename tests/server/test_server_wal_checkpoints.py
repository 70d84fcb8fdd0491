"""SQLite's WAL is checkpointed by a thread of the server's own, never inside a writer's commit
(:mod:`companion.clinic.server.wal_checkpoints`).

A writer that filled the WAL past SQLite's default 1,000 pages used to copy it all back into the
database file before its ``COMMIT`` returned (4-9 ms more for about one commit in a hundred). The
first test writes ~3,000 pages with no background thread running: with the default, a writer's
checkpoint would have restarted the WAL and it would hold at most ~1,300 frames. The real server's
test reads the WAL index (``-shm``) from outside: every frame copied back, with nothing but a few
staff writes to trigger it (the default would not checkpoint below 1,000 pages).
"""

from __future__ import annotations

import struct
import threading
from pathlib import Path

from companion.clinic.server import messaging, patients
from companion.clinic.server.database import Database
from companion.clinic.server.wal_checkpoints import BACKSTOP_PAGES, WalCheckpointer
from companion.core.fields import utcnow
from tests.support.server_harness import ServerProcess
from tests.support.waiting import wait_until

PAGE_SIZED = "x" * 3000  # a message body that takes about a page of its own, and as much in its feed row


def _fill(db: Database, transactions: int) -> None:
    with db.write() as tx:
        patient = patients.create_patient(tx, {"name": "Ada Test"}, utcnow())["id"]
    for t in range(transactions):
        with db.write() as tx:
            messaging.receive_patient_messages(
                tx, patient, [(f"{t}.{i} {PAGE_SIZED}", "general", f"m-{t}-{i}") for i in range(100)], utcnow())


def test_a_writer_leaves_the_wal_it_fills_to_the_checkpoint_thread(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'clinic.db'}", pool_size=1)
    try:
        db.init_schema()
        with db.write() as tx:
            assert tx.conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == BACKSTOP_PAGES
        _fill(db, 15)
        assert db.wal is not None
        busy, frames, copied = db.wal.checkpoint()  # the first checkpoint of all: nothing was copied before
        assert busy == 0 and frames >= 2500, frames
        assert copied == frames  # and this one, run as the thread runs it, copied every frame
    finally:
        db.dispose()


def test_the_thread_checkpoints_after_writes_and_stops_with_the_database(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'clinic.db'}", pool_size=2)
    assert db.wal is not None
    db.wal.pace = 0.02
    try:
        db.init_schema()
        db.wal.dirty = False  # what init_schema wrote stays for this test's own first round
        db.wal.start()
        _fill(db, 2)
        assert wait_until(lambda: db.wal is not None and db.wal.runs >= 1, timeout=10)
        last = db.wal.last
        assert last is not None and last[0] == 0 and last[1] > 0
    finally:
        db.dispose()  # closes the thread first
    assert not [t for t in threading.enumerate() if t.name == "wal-checkpoint"]


def test_closing_does_not_wait_out_the_pause(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'clinic.db'}")
    checkpointer = WalCheckpointer(db.engine, pace=3600.0)
    checkpointer.start()
    closer = threading.Thread(target=checkpointer.close)
    closer.start()
    closer.join(timeout=10)
    assert not closer.is_alive()  # a close that waited for the hour would still be here
    db.dispose()


def _backfilled(shm: Path) -> tuple[int, int]:
    """``(mxFrame, nBackfill)`` from the WAL index: frames in the WAL, and how many are copied back
    (SQLite's WAL-index format: native byte order, ``mxFrame`` at byte 16, ``nBackfill`` at 96)."""
    head = shm.read_bytes()[:136]
    (frames,), (backfilled,) = struct.unpack_from("=I", head, 16), struct.unpack_from("=I", head, 96)
    return frames, backfilled


def test_the_real_server_checkpoints_a_few_writes_in_the_background(tmp_path: Path) -> None:
    db_file = tmp_path / "clinic.db"
    server = ServerProcess(f"sqlite:///{db_file}", tmp_path / "srv").start()
    try:
        patient = server.staff.add_patient(name="Ada Test")["id"]
        for i in range(3):
            server.staff.send_message(patient, f"message {i}")
        shm = Path(f"{db_file}-shm")

        def all_copied() -> bool:
            frames, backfilled = _backfilled(shm)
            return 0 < frames == backfilled

        assert wait_until(all_copied, timeout=15), _backfilled(shm)
    finally:
        server.close()
