"""Desk state and intents without Flet, against a real server process: what a PSR and a clinician
do all day goes through the staff API, roles hold, and an ended sign-in returns to the sign-in screen.
Each concern is its own observable: a test subscribes plain functions and counts who was told."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from companion.clinic.desk.api import DeskApi
from companion.clinic.desk.state import DeskState
from tests.fixtures.desk import DESK_USERS, PASSWORD
from tests.support.server_harness import ServerProcess, mutation
from tests.support.waiting import wait_until

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
    desk = DeskState(_api(server), tz=UTC)
    desk.drafts.set_draft("signin.name", DESK_USERS[role])
    desk.drafts.set_draft("signin.password", PASSWORD)
    desk.session.sign_in()
    assert desk.session.signed_in, desk.session.signin_note
    return desk


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
    desk = _desk(desk_server)
    feedback, drafts = desk.feedback, desk.drafts
    assert [s.name for s in desk.session.screens()] == ["today", "patients", "inbox", "articles", "schedule"]
    assert any(a["id"] == patient["appointment"] for a in desk.today.appointments)
    drafts.set_draft("search", "quinn")
    desk.search.search()
    assert [p["id"] for p in desk.search.results] == [patient["id"]]
    desk.patient.open(patient["id"])
    page = desk.patient.page
    assert page is not None and desk.navigation.route.name == "patient"
    assert [r["state"] for r in page.results] == ["held"]                  # visible to the PSR…
    desk.patient.release_result(patient["result"])                          # …but not hers to release
    assert feedback.error and "role may not" in feedback.error
    drafts.set_draft("book.date", (datetime.now(UTC) + timedelta(days=3)).date().isoformat())
    drafts.set_draft("book.time", "09:30")
    drafts.set_draft("book.template", "sti-urine")
    desk.patient.book_appointment()
    assert feedback.error is None and feedback.toast and "booked" in feedback.toast
    page = desk.patient.page
    assert page is not None and "book.time" not in drafts.drafts           # the form is empty again
    booked = [a for a in page.appointments if a["start"].endswith("09:30:00Z")]
    assert booked and [p["title"] for p in page.prep_for(booked[0]["id"])] == ["Don't urinate in the hour before"]
    drafts.set_draft("reply", "Your kit is at the front desk.")
    desk.patient.reply()
    assert desk.patient.page is not None
    assert desk.patient.page.messages[-1]["body"] == "Your kit is at the front desk."
    desk.patient.new_pairing_code()
    assert desk.patient.page.pairing and len(desk.patient.page.pairing["code"]) == 11
    drafts.set_draft("insurance.note", "card seen")
    desk.patient.verify_insurance("verified")
    assert desk.patient.page.profile["insurance"]["status"] == "verified"
    drafts.set_draft("book.date", "3 March")
    drafts.set_draft("book.time", "9")
    desk.patient.book_appointment()
    assert feedback.error == "Date: write it as YYYY-MM-DD, for example 2026-03-03."


def test_bills_money_through_the_core_and_the_plan_rule_decides(desk_server: ServerProcess,
                                                                patient: dict[str, str]) -> None:
    desk = _desk(desk_server)
    desk.patient.open(patient["id"])
    desk.drafts.set_draft("bill.amount", "45,00")                         # a decimal comma: refused, not 4500 cents
    desk.patient.add_bill()
    assert desk.feedback.error and "Amount" in desk.feedback.error and "45.00" in desk.feedback.error
    desk.drafts.set_draft("bill.amount", "$1,234.50")
    desk.drafts.set_draft("bill.description", "Lab work")
    desk.patient.add_bill()
    assert desk.feedback.error is None, desk.feedback.error
    page = desk.patient.page
    assert page is not None
    bill = next(b for b in page.bills if b["description"] == "Lab work")
    assert bill["patient_cents"] == 123450 and bill["status"] == "open"
    desk.drafts.set_draft(f"plan.{bill['id']}", "40")
    desk.patient.set_payment_plan(bill["id"], "active")
    assert desk.feedback.error == "Instalments: type a number from 1 to 36."
    desk.drafts.set_draft(f"plan.{bill['id']}", "4")
    desk.patient.set_payment_plan(bill["id"], "active")
    assert desk.feedback.toast == "Payment plan recorded.", desk.feedback.error
    page = desk.patient.page
    assert page is not None
    bill = next(b for b in page.bills if b["id"] == bill["id"])
    assert bill["status"] == "plan" and bill["payment_plan"]["installments"] == 4
    # a paid bill takes no plan: the core's rule answers before the server is asked
    paid = dict(bill, status="paid")
    page.bills = [paid if b["id"] == bill["id"] else b for b in page.bills]
    desk.patient.set_payment_plan(bill["id"], "active")
    assert desk.feedback.error == "The bill is paid: no payment plan for it."


def test_inbox_poll_accept_request_and_clinician_release(desk_server: ServerProcess,
                                                         patient: dict[str, str]) -> None:
    desk = _desk(desk_server)
    told: dict[str, int] = {"inbox": 0, "patient": 0, "navigation": 0}
    for name in told:
        getattr(desk, name).subscribe(lambda name=name: told.__setitem__(name, told[name] + 1))
    wish = (datetime.now(UTC) + timedelta(days=5)).replace(hour=14, minute=0, second=0, microsecond=0)
    with desk_server.device_client(patient["token"]) as http:
        pushed = http.post("/v1/sync", json={"mutations": [
            mutation("message.send", body="Can I bring a friend?", thread="general"),
            mutation("appointment.request", kind="PrEP review", preferred=[wish.isoformat()])]})
    assert pushed.status_code == 200, pushed.text
    desk.inbox.poll(background=True)
    assert told == {"inbox": 1, "patient": 0, "navigation": 0}              # a poll tells the inbox only
    desk.inbox.poll(background=True)
    assert told["inbox"] == 1                                               # and only when something changed
    kinds = [i["kind"] for i in desk.inbox.items[:2]]
    assert kinds == ["appointment.request", "message.send"]                 # newest first
    assert desk.inbox.unread >= 2 and desk.inbox.names[patient["id"]] == "Robin Quinn"
    request = desk.inbox.items[0]
    desk.inbox.set_filter("message.send")
    assert all(i["kind"] == "message.send" for i in desk.inbox.shown())
    desk.inbox.accept_request(request["id"])
    assert desk.feedback.toast and desk.feedback.toast.startswith("Booked PrEP review")
    appointment = desk_server.staff.request("GET", f"/v1/staff/appointments/{request['ref_id']}").json()
    assert appointment["status"] == "scheduled"
    assert next(i for i in desk.inbox.items if i["id"] == request["id"])["handled"]

    clinician = _desk(desk_server, "clinician")
    assert [s.name for s in clinician.session.screens()] == ["today", "patients", "articles"]
    clinician.patient.open(patient["id"])
    page = clinician.patient.page
    assert page is not None and page.devices == []                          # devices are not a clinician's
    clinician.patient.release_result(patient["result"])
    assert clinician.feedback.error is None and clinician.patient.page is not None
    assert clinician.patient.page.results[0]["state"] == "released"


def test_the_poller_runs_only_while_signed_in(desk_server: ServerProcess) -> None:
    desk = DeskState(_api(desk_server), tz=UTC)
    desk.poll_when_signed_in(every=0.05)
    assert not desk.inbox.polling                                           # nobody signed in: no thread
    desk.drafts.set_draft("signin.name", DESK_USERS["psr"])
    desk.drafts.set_draft("signin.password", PASSWORD)
    desk.session.sign_in()
    assert desk.inbox.polling
    desk.session.sign_out()
    assert wait_until(lambda: not desk.inbox.polling, 5) and desk.session.signin_note == "You signed out."
    desk.stop()


def test_admin_audit_wrong_password_and_ended_session(desk_server: ServerProcess) -> None:
    admin = _desk(desk_server, "admin")
    assert [s.name for s in admin.session.screens()] == ["audit"] and admin.navigation.route.name == "audit"
    assert any(e["action"] == "staff.signin" for e in admin.audit.entries)

    wrong = DeskState(_api(desk_server), tz=UTC)
    wrong.drafts.set_draft("signin.name", DESK_USERS["psr"])
    wrong.drafts.set_draft("signin.password", "nope nope nope")
    wrong.session.sign_in()
    assert not wrong.session.signed_in and wrong.session.signin_note == "Wrong name or password."
    assert "signin.password" not in wrong.drafts.drafts

    psr = _desk(desk_server)
    psr.drafts.set_draft("reply", "half a message about a patient")
    token = psr.api.token
    other = _api(desk_server)
    other.token = token
    other.sign_out()                          # the same session ended elsewhere
    psr.navigation.go("patients")
    assert not psr.session.signed_in and psr.session.signin_note == "You signed out: sign in again."
    assert psr.search.results == [] and psr.patient.page is None and psr.today.appointments == []
    assert psr.inbox.items == [] and psr.drafts.drafts == {"signin.name": DESK_USERS["psr"]}


def test_a_call_answered_after_the_sign_in_it_was_made_in_ended_changes_nothing(desk_server: ServerProcess) -> None:
    """A poll sent while signed in and answered 401 after the person signed out (or out and in again)
    is about a sign-in that is already over here: "You signed out." stays news, the next sign-in stays."""
    psr = _desk(desk_server)
    late = _api(desk_server)
    late.token = psr.api.token  # the request in flight carries the sign-in it was sent in

    def signed_out_meanwhile() -> object:
        psr.session.sign_out()
        return late.me()  # answered 401: that session is gone

    psr.session.quietly(signed_out_meanwhile)
    assert (psr.session.signin_note, psr.session.signin_tone) == ("You signed out.", "info")

    psr.drafts.set_draft("signin.password", PASSWORD)
    psr.session.sign_in()
    late.token = psr.api.token

    def out_and_in_again() -> object:
        psr.session.sign_out()
        psr.drafts.set_draft("signin.password", PASSWORD)
        psr.session.sign_in()
        return late.me()

    assert psr.session.attempt(out_and_in_again) is None
    assert psr.session.signed_in and psr.session.signin_note is None
    late.close()
    psr.stop()
