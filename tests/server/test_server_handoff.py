"""The rows a commit hands to the long polls it wakes (:mod:`companion.clinic.server.handoff`) are
exactly what a read of the feed at that commit gives, or nothing (the pull then reads).

The clinic database is a real server's (SQLite, and PostgreSQL: a real patient, real paired
devices); this process opens the same database with its own :class:`Database` and
:class:`WakeupHub` wired as the server wires them, writes through the clinic's stores and compares
``hub.handed_page`` with ``feed.read_page`` of the same database. Writes by the server process
itself are "another server process" to this hub: it never hears of them (as a ``NOTIFY`` still on
its way). The HTTP side (a woken poll's ``Server-Timing`` says ``hand``) is
tests/server/test_server_longpoll.py.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from companion.clinic.server import articles, messaging, results
from companion.clinic.server.database import Database, Tx
from companion.clinic.server.devices import get_device, revoke_device
from companion.clinic.server.feed import HighWater, Page, read_page
from companion.clinic.server.schema import staff
from companion.clinic.server.wakeups import Poll, WakeupHub
from companion.core.fields import utcnow
from tests.fixtures.server import BACKENDS
from tests.support.server_harness import ServerProcess


@dataclass
class Clinic:
    server: ServerProcess
    db: Database
    hub: WakeupHub
    patient: str
    phones: list[str]  # device ids of the patient
    staff_id: str

    def write(self, change: Callable[[Tx], object]) -> None:
        with self.db.write() as tx:
            change(tx)

    def message(self, body: str = "Your appointment is confirmed") -> None:
        self.write(lambda tx: messaging.send_clinic_message(tx, self.patient, body, "general", self.staff_id,
                                                            "Pat PSR", utcnow()))

    def read(self, after: int, limit: int = 500) -> Page:
        with self.db.read() as conn:
            return read_page(conn, self.patient, after, limit, HighWater())

    def head(self) -> int:
        after = 0
        while True:
            page = self.read(after)
            after = page.last_seq
            if not page.has_more:
                return after

    def handed(self, after: int, phone: int = 0, limit: int = 500, *, later: bool = False) -> Page | None:
        """The handed page, checked against a read from the same cursor now; ``later``: another process
        may have committed since the handing commit, so the read may go on past its rows (which the
        device gets from its next pull, its cursor being below them) but must begin with them."""
        page = self.hub.handed_page(self.patient, self.phones[phone], after, limit)
        if page is not None:
            read = self.read(after, limit)
            if later:
                assert read.rows[:len(page.rows)] == page.rows and not page.has_more
                assert all(row[0] > page.last_seq for row in read.rows[len(page.rows):])
            else:
                assert page == read
        return page


@pytest.fixture(params=BACKENDS)
def clinic(server_factory: object, request: pytest.FixtureRequest) -> Iterator[Clinic]:
    server: ServerProcess = server_factory(request.param)  # type: ignore[operator]
    patient = server.staff.add_patient("Handed Over")["id"]
    phones = [server.pair_device(patient, name)["device_id"] for name in ("Phone", "Tablet")]
    db = Database(server.db_url)
    db.init_schema()
    hub = WakeupHub()
    hub.attach(db)
    with db.read() as conn:
        staff_id = conn.execute(sa.select(staff.c.id)).scalars().first()
    assert staff_id is not None
    try:
        yield Clinic(server, db, hub, patient, phones, staff_id)
    finally:
        db.dispose()


def _wait(clinic: Clinic, phone: int = 0) -> Poll:
    return clinic.hub.register_poll(clinic.phones[phone], clinic.patient)


def _revoke(clinic: Clinic, phone: int) -> None:
    def revoke(tx: Tx) -> None:
        device = get_device(tx, clinic.phones[phone])
        assert device is not None
        revoke_device(tx, device, None, utcnow())

    clinic.write(revoke)


def test_a_message_hands_its_row_over_as_a_read_would_find_it(clinic: Clinic) -> None:
    after = clinic.head()
    assert clinic.hub.handed_page(clinic.patient, clinic.phones[0], after, 500) is None
    _wait(clinic)
    clinic.message()
    page = clinic.handed(after)
    assert page is not None and len(page.rows) == 1 and page.rows[0][1] == "message" and not page.has_more
    assert clinic.handed(after, phone=1) is None  # the tablet was not waiting when it was written
    assert clinic.handed(page.last_seq) is None  # a cursor at or past the rows: nothing to hand over
    assert clinic.hub.handed_page(clinic.patient, clinic.phones[0], after, limit=1) is not None


def test_nobody_waiting_costs_nothing_and_hands_nothing(clinic: Clinic) -> None:
    after = clinic.head()
    clinic.message()
    _wait(clinic)  # registered after the commit
    assert clinic.handed(after) is None


def test_several_rows_a_set_based_insert_and_a_rolled_back_savepoint(clinic: Clinic) -> None:
    after = clinic.head()
    _wait(clinic)

    def many(tx: Tx) -> None:
        now = utcnow()
        messaging.receive_patient_messages(tx, clinic.patient, [("one", "general", "m1"), ("two", "general", "m2")],
                                           now)
        try:
            with tx.conn.begin_nested():
                messaging.send_clinic_message(tx, clinic.patient, "rolled back", "general", clinic.staff_id, "P",
                                              now)
                raise RuntimeError("refused")
        except RuntimeError:
            pass
        first = messaging.send_clinic_message(tx, clinic.patient, "kept", "general", clinic.staff_id, "P", now)
        messaging.mark_read_by_patient(tx, first, now)  # the same record written twice: in the feed once

    clinic.write(many)
    page = clinic.handed(after)
    assert page is not None and len(page.rows) == 3
    assert b"rolled back" not in repr(page.rows).encode()


def test_a_held_result_is_never_handed_over_and_its_release_is(clinic: Clinic) -> None:
    after = clinic.head()
    _wait(clinic)
    held: dict[str, object] = {}

    def add(tx: Tx) -> None:
        held.update(results.create_result(tx, clinic.patient, {"test": "HIV-1/2 Ag/Ab", "interpretation": "negative"},
                                          clinic.staff_id, utcnow()))
        messaging.send_clinic_message(tx, clinic.patient, "We have your sample", "general", clinic.staff_id, "P",
                                      utcnow())

    clinic.write(add)
    page = clinic.handed(after)
    assert page is not None and [r[1] for r in page.rows] == ["message"]
    clinic.write(lambda tx: results.release_result(tx, held, clinic.staff_id, utcnow()))
    released = clinic.handed(page.last_seq)
    assert released is not None and [(r[1], r[2]) for r in released.rows] == [("result", held["id"])]


def test_revocation_wins_over_a_handed_row(clinic: Clinic) -> None:
    after = clinic.head()
    _wait(clinic, 0)
    _wait(clinic, 1)
    clinic.message("before")
    assert clinic.handed(after, phone=0) is not None
    _revoke(clinic, 0)  # marks the scope, writes no rows: what the message handed over is forgotten
    assert clinic.handed(after, phone=0) is None and clinic.handed(after, phone=1) is None
    seen = clinic.head()
    clinic.message("after")
    assert clinic.handed(seen, phone=0) is None  # revoked as of that commit: the pull reads, and gets its 401
    assert clinic.handed(seen, phone=1) is not None


def test_when_every_waiting_device_is_revoked_nothing_is_handed_over(clinic: Clinic) -> None:
    _wait(clinic, 0)  # only the phone waits, and it is revoked (its poll not yet gone)
    _revoke(clinic, 0)
    seen = clinic.head()
    clinic.message("after the revocation")
    assert len(clinic.read(seen).rows) == 1  # the row is in the feed ...
    for phone in (0, 1):  # ... and handed to nobody: the revoked phone's pull reads (and gets its 401)
        assert clinic.hub.handed_page(clinic.patient, clinic.phones[phone], seen, 500) is None


def test_a_commit_this_process_never_heard_of_is_not_skipped(clinic: Clinic) -> None:
    after = clinic.head()
    _wait(clinic)
    clinic.server.staff.send_message(clinic.patient, "from the other server process")
    clinic.message("from this one")
    assert clinic.handed(after) is None  # the feed has the other process's row in between: read it
    assert len(clinic.read(after).rows) == 2


def test_a_later_commit_or_an_article_makes_the_pull_read(clinic: Clinic) -> None:
    after = clinic.head()
    _wait(clinic)
    clinic.message("first")
    first = clinic.read(after).last_seq
    clinic.message("second")
    assert clinic.handed(after) is None  # two commits since its cursor
    assert clinic.handed(first) is not None  # a pull that had the first gets the second
    clinic.write(lambda tx: articles.publish_article(tx, {"title": "Hours", "body": "Open Saturdays."},
                                                     clinic.staff_id, utcnow()))
    assert clinic.handed(first) is None and clinic.handed(clinic.read(first).last_seq) is None


def test_random_writes_by_both_processes_never_hand_over_anything_but_the_read(clinic: Clinic) -> None:
    """Messages here and in the server process (which this hub never hears of), the tablet waiting or
    not, cursors anywhere in the recent feed: every handed page is what a read at its commit gave,
    and the hand-off does happen."""
    rng = random.Random(14)
    _wait(clinic, 0)
    cursors = [clinic.head()]
    handed = 0
    tablet: Poll | None = None
    for step in range(60):
        action = rng.random()
        if action < 0.55:
            clinic.message(f"here {step}")
        elif action < 0.75:
            clinic.server.staff.send_message(clinic.patient, f"there {step}")
        elif action < 0.85:
            mine = [(f"mine {step}.{i}", "general", f"c{step}.{i}") for i in range(3)]

            def receive(tx: Tx, mine: list[tuple[str, str, str]] = mine) -> object:
                return messaging.receive_patient_messages(tx, clinic.patient, mine, utcnow())

            clinic.write(receive)
        elif tablet is None:
            tablet = _wait(clinic, 1)
        else:
            clinic.hub.unregister_poll(tablet)
            tablet = None
        cursors.append(clinic.head())
        for after in cursors[-4:]:
            for phone in (0, 1):
                handed += clinic.handed(after, phone=phone, later=True) is not None
    assert handed >= 20
