"""Record ids and mutation ids sort by creation time, so a write costs what it writes, not what the
database holds: new rows go to the right edge of each index keyed by an id.

Measured as pages, not milliseconds: the SQLite WAL frames one transaction of 100 messages from a
patient (the bench's push) writes into a real clinic database of 500 and of 20,000 messages (half
from the clinic, half from the patient). With random record ids the second wrote 4x the first (a
page per row per index), with random mutation ids (``messages.client_id``) 2x.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from companion.clinic.server import messaging, patients
from companion.clinic.server.database import Database
from companion.clinic.server.tokens import ID_ALPHABET, TIME_SYMBOLS, new_id
from companion.core.fields import utcnow
from companion.sync.outbox import new_mutation_id
from tests.support.clinic_seed import seed_records

WAL_HEADER, PAGE, FRAME_HEADER = 32, 4096, 24


def _in_later_milliseconds(make: object, count: int) -> list[str]:
    """``count`` ids, each made in a later millisecond than the one before (no sleep: the clock is watched)."""
    ids: list[str] = []
    while len(ids) < count:
        now = time.time_ns() // 1_000_000
        ids.append(make())  # type: ignore[operator]
        while time.time_ns() // 1_000_000 == now:
            pass
    return ids


def test_record_ids_sort_as_they_were_made_and_keep_70_random_bits() -> None:
    later = _in_later_milliseconds(lambda: new_id("msg"), 5)
    assert later == sorted(later)
    same_moment = [new_id("msg") for _ in range(20_000)]
    assert len(set(same_moment)) == len(same_moment)
    assert len({i[4 + TIME_SYMBOLS:] for i in same_moment}) == len(same_moment)  # the random part alone differs
    for rid in same_moment[:100]:
        assert rid.startswith("msg_") and len(rid) == 4 + TIME_SYMBOLS + 14 and set(rid[4:]) <= set(ID_ALPHABET)


def test_mutation_ids_are_uuid7_and_sort_as_they_were_made() -> None:
    later = _in_later_milliseconds(new_mutation_id, 5)
    assert later == sorted(later)
    assert {uuid.UUID(m).version for m in later} == {7}
    assert {uuid.UUID(m).variant for m in later} == {uuid.RFC_4122}
    millis = uuid.UUID(later[0]).int >> 80
    assert abs(millis - time.time_ns() // 1_000_000) < 60_000  # the first 48 bits are the time it was made
    assert len({new_mutation_id() for _ in range(20_000)}) == 20_000


def _frames_of_a_push(tmp_path: Path, held: int) -> int:
    url = f"sqlite:///{tmp_path / f'clinic-{held}.db'}"
    db = Database(url, pool_size=1)
    db.init_schema()
    with db.write() as tx:
        patient = patients.create_patient(tx, {"name": "Ada Test"}, utcnow())["id"]
    db.dispose()
    seed_records(url, patient, held // 2, kinds=("message",))  # half from the clinic, half from the patient
    db = Database(url, pool_size=1)
    try:
        with db.write() as tx:
            messaging.receive_patient_messages(
                tx, patient, [(f"earlier {i}", "general", new_mutation_id()) for i in range(held // 2)], utcnow())
        with db.read() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        wal = tmp_path / f"clinic-{held}.db-wal"
        size = wal.stat().st_size
        with db.write() as tx:
            pushed = [(f"message {i} " + "x" * 300, "general", new_mutation_id()) for i in range(100)]
            messaging.receive_patient_messages(tx, patient, pushed, utcnow())
        return (wal.stat().st_size - max(size, WAL_HEADER)) // (PAGE + FRAME_HEADER)
    finally:
        db.dispose()


def test_a_push_of_100_messages_writes_as_many_pages_into_a_big_database_as_into_a_small_one(tmp_path: Path) -> None:
    small, big = _frames_of_a_push(tmp_path, 500), _frames_of_a_push(tmp_path, 20_000)
    assert small > 0
    assert big <= small * 1.25 + 3, (small, big)
