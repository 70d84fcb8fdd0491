"""The desk shows each patient's language beside their name: what the patient's app said in its
last pull (real server), in the search results, on the patient's page, on Today's visits and on the
Inbox's items; nothing before a device said."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from companion.clinic.desk.state import DeskState
from companion.clinic.desk.state.timefmt import reads
from companion.core.protocol import LANGUAGE_HEADER
from tests.fixtures.desk import DESK_USERS, sign_in_view
from tests.fixtures.flet_session import ViewHarness, drive
from tests.support.server_harness import ServerProcess, mutation

WAIT = 15.0  # intents run in Flet's thread pool and wait on HTTP


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


def _spanish_reader_with_a_visit_and_a_message(server: ServerProcess, name: str) -> dict[str, str]:
    """A patient whose app speaks Spanish, with a visit in 20 minutes and a message in the inbox."""
    staff = server.staff
    pid = staff.add_patient(name)["id"]
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=20)
    appt = staff.add_appointment(pid, start=start, kind="STI screening")
    token = server.pair_device(pid)["token"]
    _pull(server, token, "es")
    with server.device_client(token) as http:
        answer = http.post("/v1/sync", json={"mutations": [mutation("message.send", body="¿Puedo ir con una amiga?")]})
        assert answer.status_code == 200, answer.text
    return {"patient": pid, "appointment": appt["id"]}


def test_todays_visits_and_the_inbox_carry_the_language(desk_server: ServerProcess, desk: DeskState) -> None:
    seeded = _spanish_reader_with_a_visit_and_a_message(desk_server, "Marisol Fuentes")
    quiet = desk_server.staff.add_patient("Kim Park")["id"]  # no device: no language
    desk_server.staff.add_appointment(quiet, start=datetime.now(UTC) + timedelta(minutes=40), kind="PrEP review")
    desk.today.show_day(None)
    visit = next(a for a in desk.today.appointments if a["id"] == seeded["appointment"])
    assert visit["patient_language"] == "es"  # in the schedule's own rows: no lookup per patient
    assert all(a["patient_language"] is None for a in desk.today.appointments if a["patient_id"] == quiet)
    desk.inbox.languages.clear()  # the inbox learns languages with names, from the patients list
    desk.inbox.names.clear()
    desk.inbox.poll(background=False)
    assert desk.inbox.languages.get(seeded["patient"]) == "es" and quiet not in desk.inbox.languages
    assert any(i["patient_id"] == seeded["patient"] for i in desk.inbox.items)


def test_the_schedule_reads_the_newest_devices_language(desk_server: ServerProcess, desk: DeskState) -> None:
    seeded = _spanish_reader_with_a_visit_and_a_message(desk_server, "Tomás Ibarra")
    _pull(desk_server, desk_server.pair_device(seeded["patient"])["token"], "en")  # a second phone, seen last
    desk.today.show_day(None)
    visit = next(a for a in desk.today.appointments if a["id"] == seeded["appointment"])
    assert visit["patient_language"] == "en"


def test_the_desk_shows_reads_spanish_on_today_and_in_the_inbox(desk_server: ServerProcess,
                                                               desk_view_state: DeskState) -> None:
    seeded = _spanish_reader_with_a_visit_and_a_message(desk_server, "Rocío Alvarado")

    async def scenario(ui: ViewHarness) -> None:
        await sign_in_view(ui, DESK_USERS["psr"])
        assert await ui.until(lambda: ui.has_text("Reads Spanish"), WAIT), ui.state.feedback.error
        assert ui.has_text("Rocío Alvarado")
        names = [s.name for s in ui.state.session.screens()]
        rail = ui.by_id("nav-rail")
        ui.session.apply_patch(rail._i, {"selected_index": names.index("inbox")})
        await ui.fire(rail, "change", None)

        def inbox_row_shown() -> bool:
            items = [i for i in ui.state.inbox.items if i["patient_id"] == seeded["patient"]]
            return bool(items) and f"inbox-{items[0]['id']}" in ui.ids()

        assert await ui.until(inbox_row_shown, WAIT)
        assert f"today-{seeded['appointment']}" not in ui.ids()  # Today is gone: the text is the inbox row's
        assert ui.has_text("Reads Spanish")

    drive(desk_view_state, scenario, desk=True)
