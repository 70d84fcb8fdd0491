"""Request -> booking as two people do it, in headless Chromium against one real server: the patient
asks for a visit in the app (days, time of day, a note) and sees "Requested" at once; the PSR sees
the note and the wishes in the desk's inbox, picks a proposed free time and accepts; the patient's
app shows the booking, and the inbox item is closed. On the patient's page the PSR books with the
same time picker and a 45-minute length, and "Cancel visit" asks before it cancels. Screenshots at
390x844 (app), 1280x800 (desk)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.fixtures.app_state import PASSCODE, seed_clinic
from tests.fixtures.browser import by_id, fill, onboard, seen, shoot
from tests.fixtures.desk import signed_in_desk_page
from tests.support.server_harness import ServerProcess
from tests.support.waiting import wait_until

pytestmark = pytest.mark.browser
NOTE = "Mornings before work, please. I may need a note for my employer."


def _request_items(server: ServerProcess, patient_id: str) -> list[dict[str, Any]]:
    return [i for i in server.staff.inbox(patient_id=patient_id) if i["kind"] == "appointment.request"]




def test_a_request_with_wishes_is_booked_from_the_inbox_and_reaches_the_patient(
        new_page: Callable[..., Any], start_app: Callable[..., Any], desk_server: ServerProcess,
        tmp_path: Path) -> None:
    clinic = seed_clinic(desk_server)
    app = start_app(tmp_path / "vault", COMPANION_SYNC_WAIT="5")
    phone = new_page(390, 844)
    onboard(phone, app.url, PASSCODE, desk_server.base_url, clinic.code())

    # the patient asks: what for, which days, what time of day, a note
    phone.get_by_role("tab", name="Visits").first.click()
    by_id(phone, "request-appointment").click()
    by_id(phone, "kind-hiv-test").click()
    by_id(phone, "day-tue").click()
    by_id(phone, "day-thu").click()
    by_id(phone, "time-morning").click()
    fill(phone, "field-request.note", NOTE)
    shoot(phone, "request-app-asking")
    by_id(phone, "send-request").click()
    seen(phone, "Waiting for the clinic to offer you a time")  # under Visits at once
    shoot(phone, "request-app-requested")
    assert wait_until(lambda: _request_items(desk_server, clinic.patient_id), 30)  # sent by the live loop
    [item] = _request_items(desk_server, clinic.patient_id)
    by_id(phone, f"appt-{item['ref_id']}").click()  # its page has no time yet, so nothing to add to a calendar
    seen(phone, "waiting for the clinic to offer you a time")
    assert by_id(phone, "add-calendar").count() == 0
    shoot(phone, "request-app-requested-detail")
    by_id(phone, "back").click()
    by_id(phone, "request-appointment").wait_for(timeout=10_000)

    # the PSR sees the note and the wishes in the inbox and books a proposed free time
    desk = signed_in_desk_page(new_page, desk_server)
    desk.get_by_role("button", name="Inbox").or_(desk.get_by_text("Inbox")).first.click()
    by_id(desk, f"request-note-{item['id']}").wait_for(timeout=15_000)
    seen(desk, "Wants: HIV test · prefers Tue, Thu · morning")
    shoot(desk, "desk-request")
    # any other time: Flet's own date and time pickers (a dialog with a calendar, then a clock)
    by_id(desk, f"pick-date-{item['id']}").click()
    desk.get_by_role("button", name="OK", exact=True).first.wait_for(timeout=10_000)
    shoot(desk, "desk-request-date-picker")
    desk.get_by_role("button", name="OK", exact=True).first.click()  # today's date, no time yet: nothing to book
    expect(desk.get_by_role("button", name="OK", exact=True)).to_have_count(0, timeout=10_000)
    seen(desk, "No time chosen yet")
    by_id(desk, f"slot-{item['id']}-0").click()
    seen(desk, "Book ")
    by_id(desk, f"accept-{item['id']}").click()
    seen(desk, "Booked HIV test")
    shoot(desk, "desk-request-booked")
    assert not [i for i in desk_server.staff.inbox(patient_id=clinic.patient_id)
                if i["kind"] == "appointment.request"]  # the item closed itself

    # the patient's app shows the booking at its next sync: a time to confirm, no longer "Requested"
    expect(phone.get_by_text("Waiting for the clinic to offer you a time")).to_have_count(0, timeout=30_000)
    expect(by_id(phone, f"appt-{item['ref_id']}").get_by_text("Please confirm")).to_have_count(1)
    shoot(phone, "request-app-booked")

    # the PSR books another visit from the patient's page with the same pickers, then cancels the
    # accepted one: Cancel visit asks first
    desk.get_by_text("Wants: HIV test", exact=False).first.click()  # the item opens the patient's page
    by_id(desk, "book-time").wait_for(timeout=15_000)
    by_id(desk, "book-time").click()
    desk.get_by_role("button", name="OK", exact=True).first.wait_for(timeout=10_000)
    desk.get_by_role("button", name="OK", exact=True).first.click()  # the picker's own time
    expect(desk.get_by_role("button", name="OK", exact=True)).to_have_count(0, timeout=10_000)
    by_id(desk, "book-minutes-45").click()
    by_id(desk, "book").click()
    seen(desk, "Appointment booked")
    booked = [a for a in desk_server.staff.as_role("psr").appointments(clinic.patient_id) if a["minutes"] == 45]
    assert len(booked) == 1, booked
    by_id(desk, f"cancel-{item['ref_id']}").click()
    seen(desk, "Cancel this visit?")
    shoot(desk, "desk-cancel-asks")
    assert desk_server.staff.request("GET", f"/v1/staff/appointments/{item['ref_id']}").json()["status"] == "scheduled"
    by_id(desk, f"cancel-yes-{item['ref_id']}").click()
    seen(desk, "Appointment cancelled.")
    assert desk_server.staff.request("GET", f"/v1/staff/appointments/{item['ref_id']}").json()["status"] == "cancelled"
