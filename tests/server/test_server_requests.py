"""Visit requests on SQLite and PostgreSQL: a device's wishes (weekdays, times of day, a note) are
checked as the core says, become a requested visit under the id the device already shows, and the
answers that settle them close their inbox items. A hostile device's request is refused with one
clear line, alone: the rest of its batch and everything stored stay as they were."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from companion.core.requests import MAX_REQUEST_NOTE, request_appointment_id
from tests.support.server_harness import ServerProcess, mutation, pull_all


@pytest.fixture
def device(server: ServerProcess) -> Iterator[tuple[str, httpx.Client]]:
    pid = server.staff.add_patient("Request Patient")["id"]
    with server.device_client(server.pair_device(pid)["token"]) as http:
        yield pid, http


def _push(http: httpx.Client, *mutations: dict[str, Any]) -> list[dict[str, Any]]:
    response = http.post("/v1/sync", json={"mutations": list(mutations)})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def _requests(server: ServerProcess, pid: str, state: str = "open") -> list[dict[str, Any]]:
    return [i for i in server.staff.inbox(state, patient_id=pid) if i["kind"] == "appointment.request"]


def test_a_request_with_wishes_becomes_a_requested_visit_under_the_devices_id(
        server: ServerProcess, device: tuple[str, httpx.Client]) -> None:
    pid, http = device
    m = mutation("appointment.request", kind="STI screening", days=["wed", "mon"], times=["evening"],
                 note="After work please")
    assert _push(http, m)[0]["status"] == "applied"
    changes, _ = pull_all(http)
    visit = next(c["data"] for c in changes if c["kind"] == "appointment")
    assert visit["id"] == request_appointment_id(m["id"]) and visit["status"] == "requested"
    assert visit.get("note") is None  # the patient's note is for the desk, not shown back as the clinic's
    [item] = _requests(server, pid)
    assert item["ref_id"] == visit["id"]
    assert item["detail"]["days"] == ["mon", "wed"] and item["detail"]["times"] == ["evening"]
    assert item["detail"]["note"] == "After work please"


@pytest.mark.parametrize(("payload", "reason"), [
    ({"note": "x" * (MAX_REQUEST_NOTE + 1)}, "payload.note"),
    ({"days": ["funday"]}, "unknown weekday 'funday'"),
    ({"days": ["mon", "mon"]}, "names a weekday twice"),
    ({"days": "mon"}, "payload.days"),
    ({"days": ["mon"] * 500}, "payload.days"),
    ({"times": ["midnight"]}, "unknown time of day 'midnight'"),
    ({"times": [{"$ne": 1}]}, "payload.times"),
    ({"appointment_id": "apt_other"}, "payload.appointment_id"),
    ({"patient_id": "pat_other"}, "payload.patient_id"),
    ({"kind": "k" * 201}, "payload.kind"),
])
def test_hostile_requests_are_refused_alone_in_one_line(server: ServerProcess, device: tuple[str, httpx.Client],
                                                        payload: dict[str, Any], reason: str) -> None:
    pid, http = device
    bad = mutation("appointment.request", **{"kind": "STI screening", **payload})
    good = mutation("message.send", body="still here")
    first, second = _push(http, bad, good)
    assert first["status"] == "rejected" and reason in first["reason"] and "\n" not in first["reason"]
    assert len(first["reason"]) < 300
    assert second["status"] == "applied"
    assert _requests(server, pid) == []
    changes, _ = pull_all(http)
    assert [c["kind"] for c in changes if c["kind"] == "appointment"] == []
    assert _push(http, bad)[0] == first  # one decision per id


def test_the_same_uuid_spelt_another_way_is_not_a_second_request(
        server: ServerProcess, device: tuple[str, httpx.Client]) -> None:
    pid, http = device
    mid = uuid.uuid4()
    assert _push(http, mutation("appointment.request", str(mid), kind="HIV test"))[0]["status"] == "applied"
    again = _push(http, mutation("appointment.request", "{" + str(mid).upper() + "}", kind="HIV test"))[0]
    assert again["status"] == "rejected" and again["reason"] == "this request was already received"
    assert len(_requests(server, pid)) == 1


def test_answers_close_the_items_they_settle(server: ServerProcess, device: tuple[str, httpx.Client]) -> None:
    pid, http = device
    staff = server.staff
    req = mutation("appointment.request", kind="Counselling", days=["tue"])
    billing_q = mutation("message.send", body="Why two bills?", thread="billing")
    general_q = mutation("message.send", body="Are you open on Saturday?", thread="general")
    assert [r["status"] for r in _push(http, req, billing_q, general_q)] == ["applied"] * 3
    start = (datetime.now(UTC) + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
    booked = staff.add_appointment(pid, start=start, kind="Counselling")  # from the patient page
    assert booked["id"] == request_appointment_id(req["id"]) and booked["status"] == "scheduled"
    assert _requests(server, pid) == []
    [closed] = _requests(server, pid, "handled")
    assert closed["ref_id"] == booked["id"]
    staff.send_message(pid, "Yes, 9 to 1.", thread="general")  # a reply settles its own thread only
    open_messages = [i for i in staff.inbox(patient_id=pid) if i["kind"] == "message.send"]
    assert [i["detail"]["thread"] for i in open_messages] == ["billing"]
    second = staff.add_appointment(pid, start=start + timedelta(days=1), kind="Follow-up")
    assert second["id"] != booked["id"]  # no open request: an ordinary booking
    changes, _ = pull_all(http)
    seen = {c["data"]["id"]: c["data"]["status"] for c in changes if c["kind"] == "appointment"}
    assert seen == {booked["id"]: "scheduled", second["id"]: "scheduled"}


def test_scheduling_a_requested_visit_closes_its_item_and_a_cancellation_names_the_visit(
        server: ServerProcess, device: tuple[str, httpx.Client]) -> None:
    pid, http = device
    req = mutation("appointment.request", kind="Vaccination", times=["morning"])
    assert _push(http, req)[0]["status"] == "applied"
    start = (datetime.now(UTC) + timedelta(days=4)).replace(hour=9, minute=30, second=0, microsecond=0)
    aid = request_appointment_id(req["id"])
    answer = server.staff.request("PATCH", f"/v1/staff/appointments/{aid}",
                                  json={"status": "scheduled", "start": start.isoformat()})
    assert answer.status_code == 200, answer.text
    assert _requests(server, pid) == []
    assert _push(http, mutation("appointment.cancel", appointment_id=aid))[0]["status"] == "applied"
    [item] = [i for i in server.staff.inbox(patient_id=pid) if i["kind"] == "appointment.cancel"]
    assert item["detail"]["kind"] == "Vaccination"
    assert item["detail"]["start"] == start.isoformat().replace("+00:00", "Z") and item["detail"]["was"] == "scheduled"
    withdrawn = mutation("appointment.request", kind="HIV test")
    assert _push(http, withdrawn)[0]["status"] == "applied"
    assert _push(http, mutation("appointment.cancel", appointment_id=request_appointment_id(withdrawn["id"])))[0][
        "status"] == "applied"
    cancels = [i for i in server.staff.inbox(patient_id=pid) if i["kind"] == "appointment.cancel"]
    assert cancels[0]["detail"]["was"] == "requested" and cancels[0]["detail"]["kind"] == "HIV test"
