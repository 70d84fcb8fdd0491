"""The desk answers a visit request: the note and wishes shown, free times that match them proposed
from the schedule, a time picked, Accept books it in one step and the item closes by itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from companion.clinic.desk.state import DeskState
from companion.core.requests import WEEKDAYS, request_appointment_id
from tests.support.server_harness import ServerProcess, mutation, pull_all


def test_accept_books_a_proposed_free_time_and_closes_the_item(desk_server: ServerProcess, desk: DeskState) -> None:
    staff = desk_server.staff
    pid = staff.add_patient("Jamie Park")["id"]
    token = desk_server.pair_device(pid)["token"]
    # the first Thursday morning slot is taken: it must not be proposed
    now = datetime.now(UTC)
    thursday = (now + timedelta(days=(3 - now.weekday()) % 7 or 7)).replace(hour=8, minute=0, second=0,
                                                                             microsecond=0)
    other = staff.add_patient("Someone Else")["id"]
    staff.add_appointment(other, start=thursday, minutes=30, kind="STI screening")
    m = mutation("appointment.request", kind="HIV test", days=["thu"], times=["morning"], note="Before work")
    with desk_server.device_client(token) as http:
        assert http.post("/v1/sync", json={"mutations": [m]}).json()["results"][0]["status"] == "applied"
        desk.inbox.poll(background=False)
        [item] = [i for i in desk.inbox.waiting_requests() if i["patient_id"] == pid]
        assert item["detail"]["note"] == "Before work"
        slots = desk.inbox.proposals(item["id"])
        assert slots and thursday not in slots
        assert all(WEEKDAYS[s.weekday()] == "thu" and 8 <= s.hour < 12 for s in slots)

        desk.inbox.accept_request(item["id"])  # nothing picked yet
        assert desk.feedback.error == "Pick one of the free times, or a date and a time, first."
        desk.inbox.pick_time(item["id"], slots[0])
        assert desk.inbox.picked(item["id"]) == slots[0]
        desk.inbox.accept_request(item["id"])
        assert desk.feedback.toast and desk.feedback.toast.startswith("Booked HIV test")
        assert not [i for i in desk.inbox.waiting_requests() if i["patient_id"] == pid]
        assert item["id"] not in desk.inbox.proposed
        changes, _ = pull_all(http)
    booked = [c["data"] for c in changes if c["kind"] == "appointment"][-1]
    assert booked["id"] == request_appointment_id(m["id"]) and booked["status"] == "scheduled"
    assert booked["start"] == slots[0].isoformat().replace("+00:00", "Z")


def test_the_pickers_choose_any_date_and_time(desk_server: ServerProcess, desk: DeskState) -> None:
    staff = desk_server.staff
    pid = staff.add_patient("Sky Lee")["id"]
    with desk_server.device_client(desk_server.pair_device(pid)["token"]) as http:
        http.post("/v1/sync", json={"mutations": [mutation("appointment.request", kind="Counselling")]})
    desk.inbox.poll(background=False)
    [item] = [i for i in desk.inbox.waiting_requests() if i["patient_id"] == pid]
    day = (datetime.now(UTC) + timedelta(days=40)).date()
    desk.inbox.pick_date(item["id"], day)
    assert desk.inbox.picked(item["id"]) is None  # a date alone is not a time
    desk.inbox.pick_clock(item["id"], datetime(2000, 1, 1, 15, 45).time())
    desk.inbox.accept_request(item["id"])
    made = staff.request("GET", f"/v1/staff/appointments/{item['ref_id']}").json()
    assert made["status"] == "scheduled" and made["start"] == f"{day.isoformat()}T15:45:00Z"


def test_inbox_rows_say_what_was_asked_and_which_visit_was_cancelled(desk_server: ServerProcess,
                                                                    desk: DeskState) -> None:
    from companion.clinic.desk.views.work import _item_title

    staff = desk_server.staff
    pid = staff.add_patient("Ari Stone")["id"]
    start = datetime(2031, 3, 4, 10, 30, tzinfo=UTC)
    booked = staff.add_appointment(pid, start=start, kind="STI screening")
    asked = mutation("appointment.request", kind="Counselling", days=["mon", "fri"], times=["evening"], note="Hi")
    with desk_server.device_client(desk_server.pair_device(pid)["token"]) as http:
        http.post("/v1/sync", json={"mutations": [
            mutation("appointment.cancel", appointment_id=booked["id"], reason="away"), asked]})
        http.post("/v1/sync", json={"mutations": [
            mutation("appointment.cancel", appointment_id=request_appointment_id(asked["id"]))]})
    desk.inbox.poll(background=False)
    titles = [_item_title(desk, i) for i in desk.inbox.items if i["patient_id"] == pid]
    assert "Withdrew the request for Counselling" in titles
    assert "Wants: Counselling · prefers Mon, Fri · evening" in titles
    assert any(t.startswith("Cancelled STI screening, ") and "10:30" in t and t.endswith("reason: away")
               for t in titles), titles


def test_a_request_row_tells_the_wishes_from_a_time_the_patient_named(desk_server: ServerProcess,
                                                                      desk: DeskState) -> None:
    """No wishes read "any day, any time"; a time the patient named is "asked for" that time (never run
    on after the wishes, where it read as the time the request was sent)."""
    from companion.clinic.desk.views.work import _item_title

    staff = desk_server.staff
    pid = staff.add_patient("Noor Hale")["id"]
    named = [datetime(2031, 3, 4, 15, 0, tzinfo=UTC), datetime(2031, 3, 5, 9, 30, tzinfo=UTC)]
    with desk_server.device_client(desk_server.pair_device(pid)["token"]) as http:
        answer = http.post("/v1/sync", json={"mutations": [
            mutation("appointment.request", kind="Counselling"),
            mutation("appointment.request", kind="PrEP review", preferred=[named[0].isoformat()]),
            mutation("appointment.request", kind="HIV test", preferred=[t.isoformat() for t in named],
                     days=["tue"], times=["afternoon"])]})
        assert [r["status"] for r in answer.json()["results"]] == ["applied"] * 3
    desk.inbox.poll(background=False)
    titles = {_item_title(desk, i) for i in desk.inbox.items if i["patient_id"] == pid}
    assert titles == {"Wants: Counselling · any day, any time",
                      "Wants: PrEP review · asked for 4 Mar 2031 15:00",
                      "Wants: HIV test · prefers Tue · afternoon · asked for 4 Mar 2031 15:00 (or 1 other time)"}


def test_a_time_the_patient_named_is_what_accept_books_and_the_card_says_so(desk_server: ServerProcess,
                                                                           desk: DeskState) -> None:
    """With nothing picked, Accept books the time the patient asked for: the answer row says
    "Book … , the time asked for" first (it said "No time chosen yet" and booked it unseen); a time
    the PSR picks replaces it, and a request that named none still asks for a pick."""
    staff = desk_server.staff
    pid = staff.add_patient("Rowan Vale")["id"]
    asked = (datetime.now(UTC) + timedelta(days=9)).replace(hour=15, minute=0, second=0, microsecond=0)
    with desk_server.device_client(desk_server.pair_device(pid)["token"]) as http:
        answer = http.post("/v1/sync", json={"mutations": [
            mutation("appointment.request", kind="PrEP review", preferred=[asked.isoformat()]),
            mutation("appointment.request", kind="HIV test", preferred=[asked.isoformat()]),
            mutation("appointment.request", kind="Counselling")]})
        assert [r["status"] for r in answer.json()["results"]] == ["applied"] * 3
    desk.inbox.poll(background=False)
    items = {i["detail"]["kind"]: i["id"] for i in desk.inbox.waiting_requests() if i["patient_id"] == pid}
    named, repicked, unnamed = items["PrEP review"], items["HIV test"], items["Counselling"]
    assert desk.inbox.picked(named) == desk.inbox.named(named) == asked
    assert desk.inbox.picked(unnamed) is None and desk.inbox.named(unnamed) is None
    other = asked + timedelta(days=1, hours=-5)
    desk.inbox.pick_time(repicked, other)
    assert desk.inbox.picked(repicked) == other  # the PSR's pick wins
    desk.inbox.accept_request(named)  # nothing picked: the time asked for, as the row said
    assert desk.feedback.toast and desk.feedback.toast.startswith("Booked PrEP review")
    [visit] = [a for a in staff.as_role("psr").appointments(pid) if a["kind"] == "PrEP review"]
    assert datetime.fromisoformat(visit["start"].replace("Z", "+00:00")) == asked
    desk.inbox.accept_request(unnamed)
    assert desk.feedback.error == "Pick one of the free times, or a date and a time, first."


def test_two_patients_of_one_name_are_told_apart_by_their_birth_date(desk_server: ServerProcess,
                                                                      desk: DeskState) -> None:
    """In the inbox and on Today, every name carries its date of birth (when the clinic has it)."""
    staff = desk_server.staff
    born = {"1990-04-02": "Sam Lee · born 2 Apr 1990", "2001-11-30": "Sam Lee · born 30 Nov 2001"}
    pids = {dob: staff.add_patient("Sam Lee", dob=dob)["id"] for dob in born}
    soon = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    for pid in pids.values():
        token = desk_server.pair_device(pid)["token"]
        with desk_server.device_client(token) as http:
            wish = mutation("appointment.request", kind="STI screening", days=["mon"], times=["morning"])
            assert http.post("/v1/sync", json={"mutations": [wish]}).json()["results"][0]["status"] == "applied"
        staff.add_appointment(pid, start=soon, minutes=30, kind="Check-up")
    desk.inbox.poll(background=False)
    assert {desk.inbox.names[pid] for pid in pids.values()} == set(born.values())
    desk.today.names.clear()
    desk.today.show_day(soon.date())
    assert {desk.today.names[pid] for pid in pids.values()} == set(born.values())
