"""The desk in headless Chromium (Debian's) against a real server process that serves it at /desk:
a PSR signs in, finds a patient and messages them (the patient's vault has it after `companion sync`);
a patient's message reaches the open inbox without a reload; a PSR cannot release a result, a
clinician can; wrong passwords back off; an idle sign-in expires. Screenshots for docs/screenshots/."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.fixtures.browser import by_id, enable_semantics, fill, seen, shoot
from tests.fixtures.desk import add_desk_user, open_desk_page, sign_in_page, signed_in_desk_page
from tests.fixtures.sync import cli
from tests.support.server_harness import ServerProcess, mutation
from tests.support.waiting import wait_until

pytestmark = pytest.mark.browser


def _go(page: Any, label: str) -> None:
    """Click a navigation rail destination (its name may carry a count: "Inbox (2)")."""
    name = re.compile("^" + label)
    page.get_by_role("tab", name=name).or_(page.get_by_role("button", name=name)).or_(
        page.get_by_text(name)).first.click()


def _open_patient(page: Any, patient_id: str) -> None:
    """Search for the patient and open their page.

    The list is re-rendered when the search answers; a click that lands while Flutter swaps the
    row's semantics node is lost (the page never opens), so the click is repeated until it opens.
    """
    # the search field and its button are drawn side by side on the screen (an unbounded row once drew neither)
    field, button = by_id(page, "patient-search").bounding_box(), by_id(page, "search").bounding_box()
    assert field and button and field["width"] > 300 and button["x"] >= field["x"] + field["width"], (field, button)
    assert button["x"] + button["width"] <= page.viewport_size["width"]
    fill(page, "patient-search", "rivera")
    by_id(page, "search").click()
    for _ in range(4):
        by_id(page, f"patient-{patient_id}").click()
        try:
            by_id(page, "profile").wait_for(timeout=5_000)
            return
        except Exception:
            continue
    by_id(page, "profile").wait_for(timeout=5_000)


def _shoot(page: Any, name: str) -> None:
    shoot(page, f"desk-{name}")


def _seed(server: ServerProcess) -> dict[str, str]:
    staff = server.staff
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    pid = staff.add_patient("Alex Rivera", phone="+1 555 0142", email="alex@example.org",
                            insurance={"payer": "Acme Health", "member_id": "AC-77812"})["id"]
    for name, offset, kind in (("Jordan Lee", 1, "PrEP review"), ("Sam Ortiz", 2, "HIV test"),
                               ("Casey Park", 3, "Cervical screening")):
        other = staff.add_patient(name)["id"]
        staff.add_appointment(other, start=hour + timedelta(minutes=30 * offset) - timedelta(hours=1), kind=kind)
    appt = staff.add_appointment(pid, start=hour + timedelta(minutes=30), kind="STI screening")
    staff.add_prep(appt["id"], title="Don't urinate in the hour before", body="For the urine test.", before_minutes=60)
    staff.add_bill(pid, amount_cents=4500, description="Clinic visit")
    result = staff.add_result(pid, test="Chlamydia/gonorrhoea NAAT", interpretation="negative", sensitive=True)
    return {"id": pid, "result": result["id"]}


def test_psr_messages_a_patient_inbox_live_and_only_a_clinician_releases(
        new_page: Callable[..., Any], desk_server: ServerProcess, tmp_path: Path) -> None:
    patient = _seed(desk_server)
    vault = tmp_path / "vault"
    cli(vault, "init", check=True)
    cli(vault, "pair", desk_server.base_url, desk_server.staff.pairing_code(patient["id"])["code"], check=True)

    page = signed_in_desk_page(new_page, desk_server)
    seen(page, "Alex Rivera", 10_000)

    # the patient writes and asks for an appointment from the app: Today shows both without a reload
    cli(vault, "send", "Could I come in earlier tomorrow?", check=True)
    cli(vault, "sync", check=True)
    wish = (datetime.now(UTC) + timedelta(days=2)).replace(hour=15, minute=0, second=0, microsecond=0)
    with desk_server.device_client(desk_server.pair_device(patient["id"])["token"]) as http:
        assert http.post("/v1/sync", json={"mutations": [
            mutation("appointment.request", kind="PrEP review", preferred=[wish.isoformat()])]}).status_code == 200
    seen(page, "Could I come in earlier tomorrow?")
    seen(page, "Wants: PrEP review · asked for ", 10_000)  # the time the patient named, said as such
    _shoot(page, "today")

    # find the patient, send a message; the patient's vault has it after a sync
    _go(page, "Patients")
    _open_patient(page, patient["id"])
    by_id(page, "reply").wait_for(timeout=10_000)
    assert by_id(page, f"release-{patient['result']}").count() == 0       # a PSR sees the state, no Release
    seen(page, "Held: not released")
    fill(page, "reply", "Your test kit is ready at the front desk.")
    by_id(page, "send-reply").click()
    by_id(page, "toast").wait_for(timeout=10_000)
    by_id(page, "pair-device").click()
    by_id(page, "pairing-code").wait_for(timeout=10_000)
    page.mouse.move(800, 400)
    page.mouse.wheel(0, -5000)  # back to the top: the code, the QR and the patient's summary
    _shoot(page, "patient")
    cli(vault, "sync", check=True)
    shown = json.loads(cli(vault, "show", "messages", "--json", check=True).stdout)
    assert any(m["body"] == "Your test kit is ready at the front desk." for m in shown)

    # the inbox is open; a patient's message appears without a reload
    _go(page, "Inbox")
    by_id(page, "inbox-list").wait_for(timeout=10_000)
    cli(vault, "send", "Thanks, I'll pick it up at 4.", check=True)
    cli(vault, "sync", check=True)
    started = time.monotonic()
    seen(page, "Thanks, I'll pick it up at 4.", 10_000)  # the inbox polls every 2 s
    print(f"a patient's message reached the open inbox in {time.monotonic() - started:.2f} s", file=sys.stderr)
    _shoot(page, "inbox")
    assert page.title() == "Clinic desk"
    page.close()

    # a clinician can release the result
    doctor = signed_in_desk_page(new_page, desk_server, role="clinician")
    _go(doctor, "Patients")
    _open_patient(doctor, patient["id"])
    by_id(doctor, f"release-{patient['result']}").click()
    seen(doctor, "Released to patient", 10_000)
    doctor.close()
    assert "Alex Rivera" not in desk_server.log_text() and "test kit" not in desk_server.log_text()


def test_wrong_password_backoff_and_idle_expiry(new_page: Callable[..., Any], server_factory: Any) -> None:
    server = server_factory(env={"COMPANION_SIGNIN_FREE": "2", "COMPANION_SESSION_IDLE": "3"})
    add_desk_user(server, "Quinn Desk", "psr")
    page = open_desk_page(new_page, server)
    for _ in range(2):
        sign_in_page(page, "Quinn Desk", "wrong password!")
        seen(page, "Wrong name or password.", 20_000)
        # the attempt has landed once the desk cleared the password it took (each click runs in a thread
        # of its own: typing the next one earlier would have it cleared by this one)
        expect(by_id(page, "signin-password").locator("input").first).to_have_value("", timeout=20_000)
    sign_in_page(page, "Quinn Desk")  # even the right password must wait now
    seen(page, "Too many wrong passwords. Try again in", 20_000)

    other = server_factory(env={"COMPANION_SESSION_IDLE": "3"})
    add_desk_user(other, "Idle Desk", "psr")
    page2 = open_desk_page(new_page, other)
    sign_in_page(page2, "Idle Desk")
    by_id(page2, "today-list").wait_for(timeout=15_000)
    # nobody touches the desk; the background inbox poll does not keep it signed in
    seen(page2, "without activity", 30_000)
    by_id(page2, "sign-in").wait_for()
    page.close()
    page2.close()


def test_a_desk_reload_within_the_grace_comes_back_signed_in(new_page: Callable[..., Any],
                                                             desk_server: ServerProcess) -> None:
    """A PSR's reload (or a tab closed by mistake and reopened in that browser within 60 s) resumes the
    signed-in desk: no second sign-in at the counter."""
    page = signed_in_desk_page(new_page, desk_server)
    page.reload()
    enable_semantics(page)
    by_id(page, "today-list").wait_for(timeout=15_000)
    assert by_id(page, "sign-in").count() == 0
    page.close()


def test_a_closed_desk_tab_signs_out_while_the_server_keeps_answering(new_page: Callable[..., Any],
                                                                       server_factory: Any) -> None:
    """With ``COMPANION_DESK_RELOAD=0`` closing the tab ends its session at once. Its close work (stop
    the inbox poll, sign out, close the connection) runs off the event loop that serves the whole API:
    on that loop, the sign-out (a request to this same server) had the server answer nothing for 15 s,
    the staff client's timeout, and the desk's sign-in was never ended."""
    server = server_factory(env={"COMPANION_DESK_RELOAD": "0"})
    user = add_desk_user(server, "Closing Desk", "psr")
    page = open_desk_page(new_page, server)
    sign_in_page(page, "Closing Desk")
    by_id(page, "today-list").wait_for(timeout=15_000)
    page.close()

    def signouts() -> list[dict[str, Any]]:
        answer = server.staff.request("GET", "/v1/staff/audit", "admin", timeout=10,
                                      params={"action": "staff.signout", "limit": 10})
        entries: list[dict[str, Any]] = answer.json()["entries"]
        return entries

    assert wait_until(signouts, 10, step=0.1), "the closed tab's desk did not sign out within 10 s"
    assert [e["actor_id"] for e in signouts()] == [user["id"]], signouts()
