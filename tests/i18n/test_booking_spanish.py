"""The 'just taken' card in Spanish, against the real server: a booking made offline for a time
another device took meanwhile comes back, after the sync, as a card in the patient's language with
the nearest open times, on Visits and on the visit's own screen; and the booking's toast and refusal
read in Spanish too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from companion.i18n import set_language
from companion.state import AppState
from companion.state.booking import GONE
from tests.app.test_state_booking import ALL_DAY, _other_device_books
from tests.fixtures.app_state import Clinic, sync_now
from tests.fixtures.flet_session import ViewHarness, run_isolated


@pytest.fixture
def service(clinic: Clinic) -> dict[str, Any]:
    response = clinic.server.staff.request("POST", "/v1/staff/services", json={
        "name": f"Chequeo {clinic.patient_id[-4:]}", "minutes": 15,
        "hours": [dict(h, resource=f"Sala {clinic.patient_id}") for h in ALL_DAY]})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def state(service: dict[str, Any], manual_sync_state: AppState) -> Iterator[AppState]:
    set_language("es")  # pairing applied the patient's choice; this patient reads Spanish
    sync_now(manual_sync_state)
    yield manual_sync_state
    set_language("en")


def test_a_time_taken_meanwhile_comes_back_as_a_spanish_card_with_the_nearest_times(
        state: AppState, clinic: Clinic, service: dict[str, Any]) -> None:
    wanted = next(ts for _, ts in state.booking.days(service["id"]) if len(ts) > 5)[5]  # late on, today has few
    visit_id = state.booking.book(service["id"], wanted)
    assert visit_id is not None
    # offline (the sync runs when the test says): the app's note for that, in Spanish
    assert state.feedback.toast == \
        "Guardado en este dispositivo. Se enviará a la clínica cuando vuelva a tener conexión."
    _other_device_books(clinic.server, service["id"], wanted)
    sync_now(state)
    [entry] = state.booking.taken()
    assert len(state.booking.offers(entry)) == 3

    async def shown() -> list[list[str]]:
        ui = await ViewHarness.start(state, width=390)
        seen = []
        try:
            for route, arg in (("appointments", None), ("appointment", visit_id), ("book", service["id"])):
                state.nav.go(route, arg)
                await ui.settle()
                seen.append(ui.texts())
        finally:
            ui.close()
        return seen

    for texts in run_isolated(shown()):
        shown_text = "\n".join(texts)
        assert "Alguien acaba de tomar esa hora: estas son las tres más cercanas" in shown_text, texts
        assert "Usted eligió" in shown_text and "Descartar" in shown_text
        assert "just taken" not in shown_text and "Dismiss" not in shown_text

    state.booking.book(service["id"], wanted)  # no longer open on this device: refused, in Spanish
    assert state.feedback.error == "Esa hora ya no está disponible: elija otra, por favor."
    assert GONE == "That time is no longer open: please choose another."
