"""The desk's Schedule (no Flet): a PSR adds a bookable service with its weekly hours, pauses and
resumes it, blocks days and unblocks them; each change is what the server publishes as open times.
The partner notices' counts are totals only."""

from __future__ import annotations

from datetime import date, timedelta

from companion.clinic.desk.state import DeskState
from companion.clinic.desk.views.schedule import _hours_text
from tests.support.server_harness import ServerProcess


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
