"""Desk state and intents without Flet, against a real server process: what a PSR and a clinician
do all day goes through the staff API, roles hold, and an ended sign-in returns to the sign-in screen."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from companion.clinic.desk.api import DeskApi
from companion.clinic.desk.state import DeskState
from tests.fixtures.desk import DESK_USERS, PASSWORD
from tests.support.server_harness import ServerProcess, mutation

OPEN: list[DeskApi] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().close()


def _api(server: ServerProcess) -> DeskApi:
    OPEN.append(DeskApi(server.base_url))
    return OPEN[-1]


def _desk(server: ServerProcess, role: str = "psr") -> DeskState:
    state = DeskState(_api(server), tz=UTC)
    state.set_draft("signin.name", DESK_USERS[role])
    state.set_draft("signin.password", PASSWORD)
    state.sign_in()
    assert state.signed_in, state.signin_note
    return state


@pytest.fixture(scope="module")
def patient(desk_server: ServerProcess) -> dict[str, str]:
    staff = desk_server.staff
    pid = staff.add_patient("Robin Quinn", phone="+1 555 0199", insurance={"payer": "Acme Health"})["id"]
    appt = staff.add_appointment(pid, start=datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
                                 + timedelta(minutes=5), kind="STI screening")
    result = staff.add_result(pid, test="Chlamydia NAAT", interpretation="negative", sensitive=True)
    device = desk_server.pair_device(pid)
    return {"id": pid, "appointment": appt["id"], "result": result["id"], "token": device["token"]}


def test_psr_day_today_search_book_with_template_reply_and_pair(desk_server: ServerProcess,
                                                                patient: dict[str, str]) -> None:
    state = _desk(desk_server)
    assert [s.name for s in state.screens()] == ["today", "patients", "inbox", "articles"]
    assert any(a["id"] == patient["appointment"] for a in state.today)
    state.set_draft("search", "quinn")
    state.search()
    assert [p["id"] for p in state.search_results] == [patient["id"]]
    state.open_patient(patient["id"])
    assert state.patient is not None and state.route.name == "patient"
    assert [r["state"] for r in state.patient.results] == ["held"]       # visible to the PSR…
    state.release_result(patient["result"])                                 # …but not hers to release
    assert state.error and "role may not" in state.error
    state.set_draft("book.date", (datetime.now(UTC) + timedelta(days=3)).date().isoformat())
    state.set_draft("book.time", "09:30")
    state.set_draft("book.template", "sti-urine")
    state.book_appointment()
    assert state.error is None and state.toast and "booked" in state.toast
    booked = [a for a in state.patient.appointments if a["start"].endswith("09:30:00Z")]
    assert booked and [p["title"] for p in state.patient.prep_for(booked[0]["id"])] == [
        "Don't urinate in the hour before"]
    state.set_draft("reply", "Your kit is at the front desk.")
    state.reply()
    assert state.patient.messages[-1]["body"] == "Your kit is at the front desk."
    state.new_pairing_code()
    assert state.patient.pairing and len(state.patient.pairing["code"]) == 11
    state.set_draft("insurance.note", "card seen")
    state.verify_insurance("verified")
    assert state.patient.profile["insurance"]["status"] == "verified"
    state.set_draft("book.date", "3 March")
    state.set_draft("book.time", "9")
    state.book_appointment()
    assert state.error == "Date: write it as YYYY-MM-DD, for example 2026-03-03."


def test_inbox_poll_accept_request_and_clinician_release(desk_server: ServerProcess,
                                                         patient: dict[str, str]) -> None:
    state = _desk(desk_server)
    wish = (datetime.now(UTC) + timedelta(days=5)).replace(hour=14, minute=0, second=0, microsecond=0)
    with desk_server.device_client(patient["token"]) as http:
        pushed = http.post("/v1/sync", json={"mutations": [
            mutation("message.send", body="Can I bring a friend?", thread="general"),
            mutation("appointment.request", kind="PrEP review", preferred=[wish.isoformat()])]})
    assert pushed.status_code == 200, pushed.text
    state.poll_inbox(background=True)
    kinds = [i["kind"] for i in state.inbox_items[:2]]
    assert kinds == ["appointment.request", "message.send"]                     # newest first
    assert state.inbox_unread >= 2 and state.names[patient["id"]] == "Robin Quinn"
    request = state.inbox_items[0]
    state.set_inbox_filter("message.send")
    assert all(i["kind"] == "message.send" for i in state.shown_inbox())
    state.accept_request(request["id"])
    assert state.toast and state.toast.startswith("Booked PrEP review")
    appointment = desk_server.staff.request("GET", f"/v1/staff/appointments/{request['ref_id']}").json()
    assert appointment["status"] == "scheduled"
    assert next(i for i in state.inbox_items if i["id"] == request["id"])["handled"]

    clinician = _desk(desk_server, "clinician")
    assert [s.name for s in clinician.screens()] == ["today", "patients", "articles"]
    clinician.open_patient(patient["id"])
    assert clinician.patient is not None and clinician.patient.devices == []  # devices are not a clinician's
    clinician.release_result(patient["result"])
    assert clinician.error is None and clinician.patient.results[0]["state"] == "released"


def test_admin_audit_wrong_password_and_ended_session(desk_server: ServerProcess) -> None:
    admin = _desk(desk_server, "admin")
    assert [s.name for s in admin.screens()] == ["audit"] and admin.route.name == "audit"
    assert any(e["action"] == "staff.signin" for e in admin.audit_entries)

    wrong = DeskState(_api(desk_server), tz=UTC)
    wrong.set_draft("signin.name", DESK_USERS["psr"])
    wrong.set_draft("signin.password", "nope nope nope")
    wrong.sign_in()
    assert not wrong.signed_in and wrong.signin_note == "Wrong name or password."
    assert "signin.password" not in wrong.drafts

    psr = _desk(desk_server)
    token = psr.api.token
    other = _api(desk_server)
    other.token = token
    other.sign_out()                          # the same session ended elsewhere
    psr.go("patients")
    assert not psr.signed_in and psr.signin_note == "You signed out: sign in again."
    assert psr.search_results == [] and psr.patient is None
