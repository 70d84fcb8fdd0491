"""The desk's Schedule (its state, and its screen in the in-process Flet session): a PSR adds a
bookable service with its weekly hours, edits it, pauses and resumes it, blocks days and unblocks
them; each change is what the server publishes as open times. The partner notices' counts are
totals only."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import pairwise

from companion.clinic.desk.state import DeskState
from companion.clinic.desk.views.schedule import _hours_text
from tests.fixtures.flet_session import ViewHarness, drive
from tests.support.server_harness import ServerProcess

WAIT = 15.0  # intents run in Flet's thread pool and wait on HTTP


def _open(server: ServerProcess, service_id: str) -> list[str]:
    opened: list[str] = server.staff.request("GET", f"/v1/staff/services/{service_id}/open-times").json()["open"]
    return opened


def test_a_service_added_paused_and_blocked_from_the_schedule(desk: DeskState, desk_server: ServerProcess) -> None:
    board = desk.schedule
    board.refresh()
    before = len(board.services)
    for key, text in (("service.name", "Walk-in STI screening"), ("service.resource", "Room 7"),
                      ("service.opens", "09:00"), ("service.closes", "12:00")):
        desk.drafts.set_draft(key, text)
    desk.drafts.set_draft("service.days", ",".join(("mon", "tue", "wed", "thu", "fri", "sat", "sun")))
    desk.drafts.set_draft("service.minutes", "20")
    desk.drafts.set_draft("service.fast_track", "yes")
    board.add_service()
    assert desk.feedback.error is None, desk.feedback.error
    assert len(board.services) == before + 1
    [made] = [s for s in board.services if s["name"] == "Walk-in STI screening"]
    assert made["minutes"] == 20 and made["fast_track"] and len(made["hours"]) == 7
    assert {h["resource"] for h in made["hours"]} == {"Room 7"} and _open(desk_server, made["id"])

    board.set_active(made["id"], False)
    assert _open(desk_server, made["id"]) == [] and not next(s for s in board.services if s["id"] == made["id"])[
        "active"]
    board.set_active(made["id"], True)
    opened = _open(desk_server, made["id"])
    assert opened

    tomorrow = date.fromisoformat(opened[-1][:10]) - timedelta(days=1)
    board.pick_block_day("from", tomorrow)
    desk.drafts.set_draft("block.resource", "Room 7")
    desk.drafts.set_draft("block.reason", "Training")
    board.add_block()
    assert desk.feedback.error is None, desk.feedback.error
    [block] = [b for b in board.blocks if b["resource"] == "Room 7"]
    assert not [t for t in _open(desk_server, made["id"]) if t[:10] == tomorrow.isoformat()]
    board.remove_block(block["id"])
    assert _open(desk_server, made["id"]) == opened
    assert set(board.counts) == {"made", "opened", "booked", "reported", "active"}


def test_an_incomplete_service_or_block_is_refused_with_one_line(desk: DeskState) -> None:
    board = desk.schedule
    board.refresh()
    before = list(board.services)
    desk.drafts.set_draft("service.name", "No room")
    desk.drafts.pop("service.resource")
    board.add_service()
    assert desk.feedback.error and "room or provider" in desk.feedback.error
    desk.drafts.set_draft("service.resource", "Room 1")
    desk.drafts.set_draft("service.opens", "9am")
    board.add_service()
    assert desk.feedback.error and "09:00" in desk.feedback.error
    board.add_block()
    assert desk.feedback.error and "first and the last day" in desk.feedback.error
    assert board.services == before


def test_the_desk_books_an_open_time_for_a_patient(desk: DeskState, desk_server: ServerProcess) -> None:
    made = desk_server.staff.request("POST", "/v1/staff/services", json={
        "name": "Desk-booked screening", "minutes": 15,
        "hours": [{"day": d, "opens": "00:00", "closes": "24:00", "resource": "Room 9"}
                  for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]}).json()
    pid = desk_server.staff.add_patient("Walk-in Patient")["id"]
    board = desk.schedule
    board.load_open_times(made["id"])
    start = board.open_times[made["id"]][0]
    reloaded: list[str] = []
    board.book_for(pid, made["id"], start, lambda: reloaded.append(pid))
    assert desk.feedback.error is None and reloaded == [pid]
    [visit] = desk_server.staff.as_role("psr").appointments(pid)
    assert visit["kind"] == "Desk-booked screening" and visit["provider"] == "Room 9"
    assert start not in board.open_times[made["id"]]  # reloaded after booking
    board.book_for(pid, made["id"], start, lambda: reloaded.append("again"))
    assert desk.feedback.error and "just taken" in desk.feedback.error and reloaded == [pid]


def test_a_services_weekly_hours_read_as_a_person_writes_them() -> None:
    def hours(days: str, opens: str = "09:00", closes: str = "12:30") -> list[dict[str, str]]:
        return [{"day": d, "opens": opens, "closes": closes, "resource": "Room 2"} for d in days.split()]

    assert _hours_text({"hours": hours("sun sat fri thu wed tue mon", "00:00", "24:00")}) == \
        "Every day 00:00–24:00 · Room 2"
    assert _hours_text({"hours": hours("fri mon wed tue thu") + hours("thu tue", "14:00", "17:00")}) == \
        "Mon–Fri 09:00–12:30 · Room 2; Tue, Thu 14:00–17:00 · Room 2"
    assert _hours_text({"hours": hours("mon wed thu fri")}) == "Mon, Wed–Fri 09:00–12:30 · Room 2"
    assert _hours_text({"hours": []}) == "No hours yet"


def test_a_service_is_edited_on_the_schedule_and_keeps_what_the_form_does_not_show(
        desk: DeskState, desk_server: ServerProcess) -> None:
    prep = [{"title": "Drink water", "body": "Half a litre.", "before_minutes": 60}]
    made = desk_server.staff.request("POST", "/v1/staff/services", json={
        "name": "Evening clinic", "minutes": 15, "prep": prep, "sensitive": True,
        "hours": [{"day": d, "opens": "17:00", "closes": "19:00", "resource": "Room 4"} for d in ("mon", "wed")],
    }).json()
    board = desk.schedule
    board.refresh()
    board.edit_service(made["id"])
    drafts = desk.drafts
    assert board.editing == made["id"] and drafts.draft("service.name") == "Evening clinic"
    assert drafts.draft("service.days") == "mon,wed" and drafts.draft("service.opens") == "17:00"
    assert drafts.draft("service.resource") == "Room 4" and drafts.draft("service.fast_track") == "no"

    drafts.set_draft("service.closes", "16:00")  # before it opens: refused, nothing changes
    board.add_service()
    assert desk.feedback.error and "closing after opening" in desk.feedback.error
    assert board.editing == made["id"]
    assert next(s for s in board.services if s["id"] == made["id"])["hours"] == made["hours"]

    for key, text in (("service.name", "Late clinic"), ("service.minutes", "30"), ("service.days", "tue,thu,sat"),
                      ("service.opens", "18:00"), ("service.closes", "21:00"), ("service.resource", "Room 5"),
                      ("service.fast_track", "yes")):
        drafts.set_draft(key, text)
    count = len(board.services)
    board.add_service()
    assert desk.feedback.error is None, desk.feedback.error
    assert board.editing is None and len(board.services) == count  # replaced, not added
    listed = desk_server.staff.request("GET", "/v1/staff/services").json()["services"]
    [edited] = [s for s in listed if s["id"] == made["id"]]
    assert edited["name"] == "Late clinic" and edited["minutes"] == 30 and edited["fast_track"]
    assert sorted((h["day"], h["opens"], h["closes"], h["resource"]) for h in edited["hours"]) == [
        ("sat", "18:00", "21:00", "Room 5"), ("thu", "18:00", "21:00", "Room 5"), ("tue", "18:00", "21:00", "Room 5")]
    assert edited["prep"] == prep and edited["sensitive"] and edited["active"]  # kept
    starts = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in _open(desk_server, made["id"])]
    assert starts and all(b - a >= timedelta(minutes=30) for a, b in pairwise(starts))


def test_editing_a_service_can_be_cancelled(desk: DeskState, desk_server: ServerProcess) -> None:
    made = desk_server.staff.request("POST", "/v1/staff/services", json={
        "name": "Morning clinic", "minutes": 20,
        "hours": [{"day": "fri", "opens": "08:00", "closes": "10:00", "resource": "Room 6"}]}).json()
    board = desk.schedule
    board.refresh()
    board.edit_service(made["id"])
    desk.drafts.set_draft("service.name", "")
    board.add_service()
    assert desk.feedback.error and "name" in desk.feedback.error
    board.stop_editing()
    assert board.editing is None and desk.drafts.draft("service.name") == ""
    assert next(s for s in board.services if s["id"] == made["id"])["name"] == "Morning clinic"


def test_the_schedule_screen_edits_a_service_from_its_row(desk: DeskState, desk_server: ServerProcess) -> None:
    """In the Flet session (no browser): Edit fills the form, a bad closing time is one line, Save
    replaces the service, and the row reads the new hours."""
    made = desk_server.staff.request("POST", "/v1/staff/services", json={
        "name": "Lunch clinic", "minutes": 15,
        "hours": [{"day": "tue", "opens": "12:00", "closes": "14:00", "resource": "Room 8"}]}).json()

    async def scenario(ui: ViewHarness) -> None:
        assert await ui.until(lambda: "nav-rail" in ui.ids(), WAIT)
        names = [s.name for s in ui.state.session.screens()]
        rail = ui.by_id("nav-rail")
        ui.session.apply_patch(rail._i, {"selected_index": names.index("schedule")})
        await ui.fire(rail, "change", None)
        assert await ui.until(lambda: f"service-edit-{made['id']}" in ui.ids(), WAIT), ui.state.feedback.error
        assert "add-service" in ui.ids() and "save-service" not in ui.ids()
        await ui.click(f"service-edit-{made['id']}")
        assert await ui.until(lambda: "save-service" in ui.ids() and ui.has_text("Edit Lunch clinic"), WAIT)
        assert "add-service" not in ui.ids()
        await ui.type("service-closes", "11:00")
        await ui.click("save-service")
        feedback = ui.state.feedback
        assert await ui.until(lambda: feedback.error is not None, WAIT)
        assert "closing after opening" in feedback.error
        await ui.type("service-closes", "15:30")
        await ui.type("service-name", "Long lunch clinic")
        await ui.click("service-day-thu")
        await ui.click("save-service")
        assert await ui.until(lambda: feedback.toast is not None and feedback.busy is None, WAIT), feedback.error
        assert feedback.error is None and "add-service" in ui.ids()
        assert await ui.until(lambda: ui.has_text("Tue, Thu 12:00–15:30 · Room 8"), WAIT)
        assert ui.has_text("Long lunch clinic · 15 min")

    drive(desk, scenario, desk=True)
    [saved] = [s for s in desk_server.staff.request("GET", "/v1/staff/services").json()["services"]
               if s["id"] == made["id"]]
    assert saved["name"] == "Long lunch clinic" and {h["day"] for h in saved["hours"]} == {"tue", "thu"}
    assert {h["closes"] for h in saved["hours"]} == {"15:30"}
