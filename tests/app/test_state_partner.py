"""Telling partners from the app, against the real server: links are made offline from a positive
result (the infection prefilled), work once the clinic has them, open a neutral page for anyone, and
the clinic counts them against the result without keeping who made them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from companion.state import AppState, SyncClinicLink
from companion.vault import Vault
from tests.fixtures.app_state import PASSCODE, Clinic, make_services

SENTINEL_TEST = "Chlamydia trachomatis NAAT"


class _Quiet:
    def nudge(self) -> None:
        pass

    def stop(self) -> None:
        pass


class ManualLink(SyncClinicLink):
    """The real sync, run only when the test says (no live loop)."""

    def start_live(self, vault: Vault, on_synced: Callable[[], None],  # type: ignore[override]
                   on_state: Callable[[str, str | None], None]) -> _Quiet:
        on_state("offline", "cannot reach the clinic server")
        return _Quiet()


def _sync(state: AppState) -> None:
    state.services.link.sync_once(state.records.require_vault())
    state.records.refresh()


@pytest.fixture
def state(clinic: Clinic, tmp_path: Path) -> Iterator[tuple[AppState, str]]:
    positive = clinic.server.staff.add_result(clinic.patient_id, test=SENTINEL_TEST, interpretation="positive")
    clinic.server.staff.release_result(positive["id"])
    app = AppState(make_services(tmp_path / "vault", ManualLink()))
    app.start()
    app.session.create_passcode(PASSCODE, PASSCODE)
    app.session.pair(clinic.server.base_url, clinic.code())
    assert app.session.phase == "unlocked", app.feedback.error
    _sync(app)
    yield app, positive["id"]
    app.shutdown()


def test_links_made_offline_work_after_the_sync_and_name_nobody(state: tuple[AppState, str], clinic: Clinic) -> None:
    app, result_id = state
    assert app.partner.prefill(result_id) == "chlamydia"
    assert app.partner.prefill(clinic.result_id) is None  # a negative result prefills nothing
    before = clinic.server.staff.request("GET", "/v1/staff/notice-counts").json()
    codes = app.partner.make("chlamydia", 2, result_id)
    assert codes is not None and app.feedback.error is None
    links = app.partner.links()
    assert sorted(link.code for link in links) == sorted(codes)
    assert not any(link.ready for link in links)  # the clinic does not have them yet
    assert all(link.url.startswith(clinic.server.base_url + "/n/") for link in links)
    _sync(app)
    links = app.partner.links()
    assert all(link.ready for link in links)
    assert "does not say who I am" in app.partner.message(links[0]) and links[0].url in app.partner.message(links[0])
    with httpx.Client(timeout=10) as partner:
        page = partner.get(links[0].url)
    assert page.status_code == 200 and "chlamydia test" in page.text
    assert "Alex Rivera" not in page.text and clinic.patient_id not in page.text and result_id not in page.text
    after = clinic.server.staff.request("GET", "/v1/staff/notice-counts").json()
    assert (after["made"] - before["made"], after["opened"] - before["opened"]) == (2, 1)


def test_a_bad_choice_is_refused_before_anything_is_made(state: tuple[AppState, str]) -> None:
    app, _ = state
    assert app.partner.make("flu", 1) is None and app.feedback.error
    assert app.partner.make("hiv", 11) is None and app.feedback.error and "10" in app.feedback.error
    assert app.partner.links() == []
