"""Telling partners from the app, against the real server: links are made offline from a positive
result (the infection prefilled), work once the clinic has them, open a neutral page for anyone, and
the clinic counts them against the result without keeping who made them."""

from __future__ import annotations

import httpx
import pytest

from companion.state import AppState
from tests.fixtures.app_state import Clinic, sync_now

SENTINEL_TEST = "Chlamydia trachomatis NAAT"


@pytest.fixture
def state(clinic: Clinic, manual_sync_state: AppState) -> tuple[AppState, str]:
    positive = clinic.server.staff.add_result(clinic.patient_id, test=SENTINEL_TEST, interpretation="positive")
    clinic.server.staff.release_result(positive["id"])
    sync_now(manual_sync_state)
    return manual_sync_state, positive["id"]


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
    sync_now(app)
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
