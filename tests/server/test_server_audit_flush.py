"""The audit page flushes queued entries, then reads: a flush must return only once every entry
queued before it is written, even one the background flush took a moment earlier and is still
writing. (Seen as a flaky ``test_audit_trail_records_staff_actions_and_feed_reads``: the page
came back without the device's ``feed.read``.) Real SQLite on disk; another connection holding
the write lock keeps the first flush in the middle of its write."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from companion.clinic.server.audit import AuditLog
from companion.clinic.server.database import Database
from companion.clinic.server.principals import SystemPrincipal
from companion.core.fields import utcnow
from tests.support.waiting import wait_until


def _reads(db: Database) -> int:
    with db.read() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM audit WHERE action = 'feed.read'").scalar_one())


def test_a_flush_waits_for_the_entries_another_flush_is_still_writing(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'clinic.db'}", pool_size=2)
    db.init_schema()
    audit = AuditLog(db, utcnow)
    blocker = sqlite3.connect(tmp_path / "clinic.db", isolation_level=None)
    try:
        audit.record_later(SystemPrincipal(), "feed.read", patient_id="pat_waiting1", detail={"count": 1})
        blocker.execute("BEGIN IMMEDIATE")  # the database is busy: the first flush takes the entry and waits
        first = threading.Thread(target=audit.flush)
        first.start()
        assert wait_until(lambda: audit.queued() == 0, 10), "the first flush never took the entry"
        seen: list[int] = []

        def audit_page() -> None:
            audit.flush()
            seen.append(_reads(db))

        page = threading.Thread(target=audit_page)
        page.start()
        page.join(0.3)  # the page's flush has begun (if it is slower, it finds the entry written: no harm)
        blocker.execute("COMMIT")
        page.join(30)
        first.join(30)
        assert seen == [1], "the page read the audit before the entry it flushed for was written"
        assert _reads(db) == 1  # written once
    finally:
        blocker.close()
        db.dispose()
