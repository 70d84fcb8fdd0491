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


def test_an_article_is_published_with_its_spanish_version_or_refused_half_written(
        desk_server: ServerProcess, desk: DeskState) -> None:
    drafts, feedback = desk.drafts, desk.feedback
    drafts.set_draft("article.title", "After your visit")
    drafts.set_draft("article.body", "# After your visit\n\nResults come in the app.")
    drafts.set_draft("article.title.es", "Después de su cita")
    desk.articles.publish()  # a Spanish title without its text
    assert feedback.error == "Give the Spanish version both a title and its text, or leave both empty."
    drafts.set_draft("article.body.es", "# Después de su cita\n\nLos resultados llegan a la aplicación.")
    desk.articles.publish()
    assert feedback.error is None and feedback.toast and "read it in Spanish" in feedback.toast
    published = next(a for a in desk.articles.published() if a["title"] == "After your visit")
    assert published["translations"]["es"]["title"] == "Después de su cita"
    assert "article.title.es" not in drafts.drafts  # the form is empty again
