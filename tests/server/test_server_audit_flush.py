"""The audit page flushes queued entries, then reads: a flush must return only once every entry
queued before it is written, even one the background flush took a moment earlier and is still
writing. (Seen as a flaky ``test_audit_trail_records_staff_actions_and_feed_reads``: the page
came back without the device's ``feed.read``.) Real SQLite on disk; another connection holding
the write lock keeps the first flush in the middle of its write."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from companion.clinic.server.audit import AuditLog
from companion.clinic.server.database import Database
from companion.clinic.server.principals import DevicePrincipal, SystemPrincipal
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


def test_a_read_that_sent_records_writes_its_own_devices_empty_reads_first_and_no_others(tmp_path: Path) -> None:
    """Empty reads are kept by device: a device's ``feed.read`` takes that device's counts (from each
    address) and leaves the other 2,000 waiting devices' counts for the summary flush."""
    db = Database(f"sqlite:///{tmp_path / 'clinic.db'}", pool_size=2)
    db.init_schema()
    audit = AuditLog(db, utcnow)
    phones = [DevicePrincipal(f"dev_waiting{i:04d}", f"pat_waiting{i:04d}", "phone") for i in range(2000)]
    try:
        for phone in phones:
            audit.count_empty_read(phone, phone.patient_id, 7, "10.0.0.1")
        reader = phones[1234]
        audit.count_empty_read(reader, reader.patient_id, 8, "10.0.0.2")  # the same phone on another network
        audit.count_empty_read(reader, reader.patient_id, 8, "10.0.0.2")
        audit.record_read(reader, reader.patient_id, {"count": 1}, "10.0.0.2")
        audit.flush()
        with db.read() as conn:
            rows = conn.exec_driver_sql("SELECT action, actor_id, address, detail FROM audit ORDER BY id").all()
        assert [(r[0], r[1], r[2]) for r in rows] == [
            ("feed.poll", reader.id, "10.0.0.1"), ("feed.poll", reader.id, "10.0.0.2"),
            ("feed.read", reader.id, "10.0.0.2")]
        assert json.loads(rows[1][3])["count"] == 2
        audit.flush(polls=True)  # the summary: every other device's count, once
        with db.read() as conn:
            polls = conn.exec_driver_sql("SELECT actor_id FROM audit WHERE action = 'feed.poll'").scalars().all()
        assert sorted(polls) == sorted([p.id for p in phones] + [reader.id])
    finally:
        db.dispose()
