"""Live mode against the real server: a PSR message lands within a second, a nudge pushes at once,
offline is detected and left quietly, revocation stops the loop, stop() never waits for a long poll."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from companion.core.errors import DeviceRevoked, SyncError
from companion.sync.client import LiveHooks, LiveSync, SyncReport, client_for_vault, queue_mutation, read_status
from companion.vault import Vault
from tests.fixtures.sync import Clinic
from tests.support.waiting import wait_until


class Recorder(LiveHooks):
    """Remembers every state and report; tests wait on conditions instead of sleeping."""

    def __init__(self) -> None:
        self.states: list[tuple[str, str | None]] = []
        self.reports: list[SyncReport] = []
        self.stopped_with: list[SyncError | None] = []
        self.changed = threading.Condition()

    def _note(self, fn: Callable[[], None]) -> None:
        with self.changed:
            fn()
            self.changed.notify_all()

    def state_changed(self, state: str, error: str | None) -> None:
        self._note(lambda: self.states.append((state, error)))

    def synced(self, report: SyncReport) -> None:
        self._note(lambda: self.reports.append(report))

    def stopped(self, error: SyncError | None) -> None:
        self._note(lambda: self.stopped_with.append(error))

    def wait_for(self, test: Callable[[], bool], timeout: float = 10.0) -> bool:
        with self.changed:
            return self.changed.wait_for(test, timeout)

    @property
    def state(self) -> str | None:
        return self.states[-1][0] if self.states else None


@pytest.fixture
def live(sqlite_server: object, tmp_path: Path) -> Iterator[tuple[Clinic, Vault, LiveSync, Recorder]]:
    clinic = Clinic(sqlite_server)
    assert clinic.server.waiting_pulls() == 0  # so a test's await_pulls(1) counts its own loop's poll
    vault = clinic.pair(tmp_path / "vault")
    client = client_for_vault(vault)
    hooks = Recorder()
    loop = LiveSync(vault, client, hooks=hooks, wait=25)
    loop.start()
    assert hooks.wait_for(lambda: hooks.state == "idle" and bool(hooks.reports))
    try:
        yield clinic, vault, loop, hooks
    finally:
        loop.stop()  # abandons its long poll: the module's server would hold it for up to 25 s, and the
        # next test's await_pulls(1) would count it before that test's own loop had one (CI, twice)
        clinic.staff.send_message(clinic.patient_id, "answers the poll the stopped loop left")
        assert wait_until(lambda: clinic.server.waiting_pulls() == 0, 10)
        client.close()
        vault.close()


def test_a_psr_message_lands_in_the_vault_from_the_waiting_long_poll(
        live: tuple[Clinic, Vault, LiveSync, Recorder]) -> None:
    """Each message comes in the answer of the poll that was waiting when it was sent (one woken page
    each), not at a later pull; how soon is the bench's to measure (bench/sync.py), not a test's."""
    clinic, vault, loop, hooks = live
    for i in range(5):
        clinic.server.await_pulls(1)  # the loop is in its long poll
        before = len(hooks.reports)
        msg_id = clinic.staff.send_message(clinic.patient_id, f"Your results are ready ({i})")["id"]
        def landed(m: str = msg_id, n: int = before) -> bool:
            return len(hooks.reports) > n and vault.messages.get(m) is not None

        assert hooks.wait_for(landed, 10)
        assert len(hooks.reports) == before + 1 and "server.wake" in loop.last_timing, loop.last_timing


def test_the_loop_records_where_a_live_page_spent_its_time(live: tuple[Clinic, Vault, LiveSync, Recorder]) -> None:
    """The bench's breakdown: received -> decoded -> picked -> applied, and the server's durations (a
    staff message hands its row to the waiting pull: no re-read)."""
    clinic, vault, loop, hooks = live
    clinic.server.await_pulls(1)
    before = len(hooks.reports)
    msg_id = clinic.staff.send_message(clinic.patient_id, "Your appointment is confirmed")["id"]
    assert hooks.wait_for(lambda: len(hooks.reports) > before and vault.messages.get(msg_id) is not None)
    timing = loop.last_timing
    assert timing["received"] <= timing["decoded"] <= timing["picked"] <= timing["applied"], timing
    assert {"server.wake", "server.hand", "server.render"} <= set(timing), timing
    assert "server.read" not in timing, timing


def test_a_nudge_pushes_what_was_queued_at_once(live: tuple[Clinic, Vault, LiveSync, Recorder]) -> None:
    clinic, vault, loop, _ = live
    clinic.server.await_pulls(1)
    entry = queue_mutation(vault, "message.send", {"body": "running late"})
    loop.nudge()
    assert wait_until(lambda: vault.outbox.get(entry.id) is None, 5)
    assert wait_until(lambda: not [m for m in vault.messages.all() if m.id.startswith("local-")], 5)
    assert clinic.inbox_mutations().count(entry.id) == 1


def test_stop_does_not_wait_for_the_long_poll(live: tuple[Clinic, Vault, LiveSync, Recorder]) -> None:
    clinic, _, loop, hooks = live
    clinic.server.await_pulls(1)  # in the long poll now
    started = time.monotonic()
    loop.stop()
    assert time.monotonic() - started < 1.0 and not loop.running
    assert hooks.stopped_with == [None]


def test_a_page_that_comes_after_stop_is_not_written(live: tuple[Clinic, Vault, LiveSync, Recorder]) -> None:
    """The poll's own thread applies its page (no hand-over to the loop thread); once the loop was
    asked to stop it writes nothing: the app may be closing the vault. The message comes at the
    next start, from the cursor the vault kept."""
    clinic, vault, loop, hooks = live
    clinic.server.await_pulls(1)
    poll = loop._poll
    assert poll is not None and not poll.done.is_set()
    cursor, reports = vault.meta.get("sync.cursor"), len(hooks.reports)
    loop.stop()
    msg_id = clinic.staff.send_message(clinic.patient_id, "Sent while the app was closing")["id"]
    assert poll.done.wait(10) and poll.error is None, poll.error
    assert poll.page is not None and [c.id for c in poll.page.changes] == [msg_id]  # it did come
    assert poll.need_sync and poll.report is None  # and was dropped
    assert vault.messages.get(msg_id) is None and vault.meta.get("sync.cursor") == cursor
    assert len(hooks.reports) == reports
    again = LiveSync(vault, loop.client, hooks=hooks, wait=25)
    again.start()
    try:
        assert hooks.wait_for(lambda: vault.messages.get(msg_id) is not None)
    finally:
        again.stop()


def test_revocation_stops_the_loop(live: tuple[Clinic, Vault, LiveSync, Recorder]) -> None:
    clinic, vault, _loop, hooks = live
    clinic.staff.revoke_device(vault.meta.get("sync.device_id"))
    clinic.staff.send_message(clinic.patient_id, "wakes the long poll")  # a revoked token is refused at once
    assert hooks.wait_for(lambda: bool(hooks.stopped_with), 10)
    assert isinstance(hooks.stopped_with[0], DeviceRevoked)
    assert hooks.state == "revoked" and read_status(vault).state == "revoked"
    assert vault.meta.get("sync.token") is None and vault.messages.count() == 0


def test_offline_is_detected_and_left_quietly(server_factory: object, tmp_path: Path) -> None:
    server = server_factory()  # type: ignore[operator]
    clinic = Clinic(server)
    vault = clinic.pair(tmp_path / "vault")
    hooks = Recorder()
    with client_for_vault(vault) as client:
        loop = LiveSync(vault, client, hooks=hooks, wait=25, backoff_base=0.1, backoff_cap=0.5)
        loop.start()
        try:
            assert hooks.wait_for(lambda: hooks.state == "idle")
            server.stop()
            assert hooks.wait_for(lambda: hooks.state == "offline", 15)
            entry = queue_mutation(vault, "message.send", {"body": "written on the train"})
            loop.nudge()
            # Elapsed time meant: a few offline retries (backoff 0.1-0.5 s) must keep the entry and the loop.
            time.sleep(0.3)
            assert vault.outbox.get(entry.id) is not None and loop.running  # kept, no crash, still trying
            server.start()
            assert hooks.wait_for(lambda: hooks.state == "idle" and vault.outbox.get(entry.id) is None, 15)
            msg_id = clinic.staff.send_message(clinic.patient_id, "welcome back")["id"]
            assert wait_until(lambda: vault.messages.get(msg_id) is not None, 5)
        finally:
            loop.stop()
    assert clinic.inbox_mutations().count(entry.id) == 1
    errors = [e for s, e in hooks.states if s == "offline"]
    assert errors and all(e is not None and "\n" not in e for e in errors)
    vault.close()
