"""The desk shows each patient's language beside their name: what the patient's app said in its
last pull (real server), in the search results and on the patient's page; nothing before a device said."""

from __future__ import annotations

from companion.clinic.desk.state import DeskState
from companion.clinic.desk.state.timefmt import reads
from companion.core.protocol import LANGUAGE_HEADER
from tests.support.server_harness import ServerProcess


def _pull(server: ServerProcess, token: str, language: str) -> None:
    with server.device_client() as http:
        answer = http.get("/v1/sync", params={"limit": 1},
                          headers={"Authorization": f"Bearer {token}", LANGUAGE_HEADER: language})
    assert answer.status_code == 200, answer.text


def test_the_patients_language_beside_their_name(desk_server: ServerProcess, desk: DeskState) -> None:
    staff = desk_server.staff
    pid = staff.add_patient("Lucía Ortega")["id"]
    desk.drafts.set_draft("search", "Ortega")
    desk.search.search()
    assert [(p["id"], p["language"]) for p in desk.search.results] == [(pid, None)]  # no device yet
    token = desk_server.pair_device(pid)["token"]
    _pull(desk_server, token, "es")
    desk.search.search()
    assert [(p["id"], reads(p["language"])) for p in desk.search.results] == [(pid, "Reads Spanish")]
    desk.patient.open(pid)
    page = desk.patient.page
    assert page is not None and reads(page.profile["language"]) == "Reads Spanish"
    _pull(desk_server, token, "en")
    desk.patient.open(pid)
    assert desk.patient.page is not None and reads(desk.patient.page.profile["language"]) == "Reads English"
    assert reads(None) == "" and reads("fr") == "Reads fr"
