"""A first sync says how far it is: the server tells the size of a pull from the beginning
(``Companion-Remaining`` on its first page), the client reports records so far of the total after
each page, and the app's onboarding shows it (bar and busy line) on a real server and vault."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from companion.core.protocol import MAX_PAGE, REMAINING_HEADER
from companion.state import AppState
from companion.state.formatting import first_sync_text
from companion.state.services import SyncClinicLink
from companion.sync.client import build_client, synchronize
from companion.sync.pull import FIRST_PAGE, pull_changes
from companion.sync.retry import RetryPolicy
from companion.vault import Vault
from tests.fixtures.app_state import PASSCODE, make_services
from tests.fixtures.sync import PASSCODE as SYNC_PASSCODE
from tests.fixtures.sync import Clinic
from tests.support.clinic_seed import seed_records
from tests.support.server_harness import ServerProcess, pull_all
from tests.support.waiting import wait_until

RECORDS = 2600  # a first sync's pages: FIRST_PAGE (500), then MAX_PAGE (2,000), then the rest


@pytest.fixture
def big_clinic(sqlite_server: ServerProcess) -> Clinic:
    clinic = Clinic(sqlite_server, name="Many Records")
    seed_records(sqlite_server.db_url, clinic.patient_id, RECORDS)
    return clinic


def _feed_size(server: ServerProcess, token: str) -> int:
    with server.device_client(token) as http:
        changes, _ = pull_all(http)
    return len(changes)


def test_only_the_first_page_from_the_beginning_says_what_remains(big_clinic: Clinic) -> None:
    server = big_clinic.server
    device = server.pair_device(big_clinic.patient_id)
    total = _feed_size(server, device["token"])
    with server.device_client(device["token"]) as http:
        first = http.get("/v1/sync", params={"limit": 500})
        assert first.status_code == 200 and first.json()["has_more"]
        assert int(first.headers[REMAINING_HEADER]) == total - 500
        second = http.get("/v1/sync", params={"limit": 500, "cursor": first.json()["cursor"]})
        assert REMAINING_HEADER.lower() not in second.headers  # a cursor: not a first sync
        whole = http.get("/v1/sync", params={"limit": MAX_PAGE, "cursor": second.json()["cursor"]})
        assert not whole.json()["has_more"] and REMAINING_HEADER.lower() not in whole.headers
        last = http.get("/v1/sync", params={"cursor": whole.json()["cursor"]})
        assert not last.json()["has_more"] and REMAINING_HEADER.lower() not in last.headers


def test_a_first_sync_reports_records_so_far_of_the_total(big_clinic: Clinic, tmp_path: Path) -> None:
    vault = big_clinic.pair(tmp_path / "vault")
    total = _feed_size(big_clinic.server, vault.meta.get("sync.token"))
    seen: list[tuple[int, int]] = []
    with build_client(big_clinic.server.base_url) as client:
        synchronize(vault, client, limit=1000, progress=lambda done, of: seen.append((done, of)))
        assert seen == [(min(done, total), total) for done in range(FIRST_PAGE, total + 999, 1000)]
        seen.clear()
        big_clinic.staff.send_message(big_clinic.patient_id, "one more")
        pull_changes(vault, client, vault.meta.get("sync.token"), policy=RetryPolicy(),
                     progress=lambda done, of: seen.append((done, of)))
        assert seen == []  # from a cursor: nothing to count
    vault.close()


def test_the_onboarding_shows_the_first_download_filling_up(big_clinic: Clinic, tmp_path: Path) -> None:
    services = make_services(tmp_path / "vault", SyncClinicLink(wait=2.0))
    state = AppState(services)
    shown: list[tuple[tuple[int, int] | None, str | None]] = []
    state.start()
    state.session.create_passcode(PASSCODE, PASSCODE)
    state.session.subscribe(lambda: shown.append((state.session.first_sync, state.feedback.busy)))
    try:
        code = big_clinic.server.staff.pairing_code(big_clinic.patient_id)["code"]
        state.session.pair(big_clinic.server.base_url, code)
        assert state.session.phase == "unlocked", state.feedback.error
        steps = [(progress, busy) for progress, busy in shown if progress is not None]
        assert len(steps) >= 3, shown  # pages of 500, 2,000 and the rest of 2,600 and more
        done, total = steps[-1][0]
        assert done == total and steps[0][0][0] < total
        assert steps[-1][1] == f"Downloading your records… {first_sync_text(total, total)}"
        assert state.session.first_sync is None  # gone once the download is over
    finally:
        state.shutdown()


def test_the_syncing_step_draws_its_bar_from_the_progress(offline_services: object) -> None:
    """The onboarding's bar is determinate once the clinic said the size, and spins before that."""
    from companion.state import Services
    from tests.fixtures.flet_session import ViewHarness, run_isolated

    assert isinstance(offline_services, Services)
    state = AppState(offline_services)
    state.start()

    async def run() -> None:
        ui = await ViewHarness.start(state)
        try:
            state.session.create_passcode(PASSCODE, PASSCODE)
            state.session.onboarding_step = "syncing"
            state.session.notify()
            assert await ui.until(lambda: "first-sync" in ui.ids())
            assert ui.by_id("first-sync").value is None  # no size told yet: it spins
            state.session.first_sync = (300, 1200)
            state.session.notify()
            assert await ui.until(lambda: ui.by_id("first-sync").value == 0.25)
        finally:
            ui.close()
            state.shutdown()

    run_isolated(run())


def test_a_first_sync_compacts_once_after_its_pages(big_clinic: Clinic, tmp_path: Path) -> None:
    """While the pages of a first sync come in, no compaction starts and cyclic GC waits (from the
    first page on); after it, what the pull made is in the collector's oldest generation (no
    collection walks it on the way), one compaction folds the whole journal into a base, and every
    record reads back after a reopen."""
    vault = big_clinic.pair(tmp_path / "vault")
    compactor = vault._storage.compactor
    during: list[tuple[int, bool, bool]] = []
    collections: list[int] = []  # pages written when a collection started

    def collection(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(len(during))

    with build_client(big_clinic.server.base_url) as client:
        gc.collect()  # what the test made before: the push phase alone does not reach a collection
        gc.callbacks.append(collection)
        try:
            synchronize(vault, client, progress=lambda done, of: during.append(
                (compactor.count, compactor.running, gc.isenabled())))
        finally:
            gc.callbacks.remove(collection)
        oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert len(during) >= 3 and 0 not in collections, (during, collections)  # none during the first page
    assert all(state == (0, False, False) for state in during[1:]), during
    assert gc.isenabled()
    tracked = [doc for doc in vault._storage.read()["bill"].values() if gc.is_tracked(doc)]  # lines: a list
    assert tracked and all(id(doc) in oldest for doc in tracked)
    assert wait_until(lambda: compactor.count == 1 and not compactor.running, 30), "no compaction after the pull"
    assert compactor.count == 1 and not compactor.error
    count, folder = vault.appointments.count() + vault.messages.count(), vault.folder
    vault.close()
    with Vault.open(folder, SYNC_PASSCODE) as reopened:
        assert reopened.appointments.count() + reopened.messages.count() == count > 0
