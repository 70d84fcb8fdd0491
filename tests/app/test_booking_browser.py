"""Self-booking as two patients do it, in headless Chromium against one real server: both open
"Book a visit" and choose the same open time; the phone (390x844) is cut off from the clinic (a proxy
answering 500) and books it anyway — "Booking…"; the desktop app (1280x800) books it online and gets
the confirmed visit with its prep checklist. Back online, the phone is told "That time was just
taken — here are the nearest three", books one of them while cut off again, and sees it confirmed
after the next sync. The desk's Today shows both visits as booked in the app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from companion.core.open_times import is_booking
from tests.fixtures.app_state import PASSCODE, seed_clinic
from tests.fixtures.browser import by_id, onboard, painted, seen, shoot
from tests.fixtures.desk import show_day_of, signed_in_desk_page
from tests.support.fault_proxy import FaultProxy
from tests.support.server_harness import ServerProcess
from tests.support.waiting import wait_until

pytestmark = pytest.mark.browser
ALL_DAY = [{"day": d, "opens": "00:00", "closes": "24:00", "resource": "Room B"}
           for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]
FIRST_TIME = "[flt-semantics-identifier^='time-']"


@pytest.fixture
def proxy(desk_server: ServerProcess) -> Iterator[FaultProxy]:
    cut = FaultProxy(("127.0.0.1", desk_server.port)).start()
    try:
        yield cut
    finally:
        cut.stop()


def _service(server: ServerProcess) -> dict[str, Any]:
    response = server.staff.request("POST", "/v1/staff/services", json={
        "name": "STI screening", "minutes": 15, "hours": ALL_DAY,
        "prep": [{"title": "Don't urinate in the hour before", "body": "", "before_minutes": 60},
                 {"title": "Bring photo ID", "body": "A driving licence or passport.", "before_minutes": 0}]})
    assert response.status_code == 201, response.text
    service: dict[str, Any] = response.json()
    return service


def _open_booking(page: Any, service_id: str) -> None:
    painted(page)
    tab = page.get_by_role("tab", name="Visits")
    (tab if tab.count() else page.get_by_role("button", name="Visits")).first.click()  # a phone's tab, the rail
    by_id(page, "book-appointment").click()
    by_id(page, f"service-{service_id}").click()
    page.locator(FIRST_TIME).first.click()
    by_id(page, "booking-confirm").wait_for(timeout=10_000)


def test_two_patients_race_for_one_open_time_offline_and_online(
        new_page: Callable[..., Any], start_app: Callable[..., Any], desk_server: ServerProcess,
        proxy: FaultProxy, tmp_path: Path) -> None:
    service = _service(desk_server)
    phone_patient, desktop_patient = seed_clinic(desk_server), seed_clinic(desk_server)
    phone_app = start_app(tmp_path / "phone", COMPANION_SYNC_WAIT="3")
    desktop_app = start_app(tmp_path / "desktop", COMPANION_SYNC_WAIT="3")
    phone, desktop = new_page(390, 844), new_page(1280, 800)
    onboard(phone, phone_app.url, PASSCODE, proxy.url, phone_patient.code())
    onboard(desktop, desktop_app.url, PASSCODE, desk_server.base_url, desktop_patient.code())

    # both choose the first open time of the first day
    _open_booking(phone, service["id"])
    _open_booking(desktop, service["id"])
    seen(phone, "Don't urinate in the hour before")  # the prep checklist is shown before booking
    shoot(phone, "booking-app-times")
    shoot(desktop, "booking-app-times-desktop")

    # the phone is cut off from the clinic and books anyway: "Booking…"
    proxy.set_faults(error500=1.0)
    by_id(phone, "book-confirm").click()
    expect(by_id(phone, "appointment-facts").get_by_text("Booking…", exact=False)).to_have_count(1, timeout=10_000)
    shoot(phone, "booking-app-pending")

    # the desktop books the same time online and gets it, with its prep checklist
    by_id(desktop, "book-confirm").click()
    expect(by_id(desktop, "appointment-facts").get_by_text("Confirmed", exact=False)).to_have_count(1, timeout=30_000)
    seen(desktop, "Bring photo ID")
    shoot(desktop, "booking-app-confirmed-desktop")

    # back online, the phone hears that the time went and is offered the nearest three
    proxy.set_faults()
    seen(phone, "That time was just taken — here are the nearest three", 40_000)
    expect(phone.get_by_text("Booking…")).to_have_count(0)
    for i in range(3):
        by_id(phone, f"offer-{i}").wait_for(timeout=5_000)
    shoot(phone, "booking-app-taken")

    # it takes the first one while cut off again, and sees it confirmed after the next sync
    proxy.set_faults(error500=1.0)
    by_id(phone, "offer-0").click()
    expect(phone.get_by_text("That time was just taken", exact=False)).to_have_count(0, timeout=10_000)
    expect(by_id(phone, "appointment-facts").get_by_text("Booking…", exact=False)).to_have_count(1, timeout=10_000)
    proxy.set_faults()
    expect(by_id(phone, "appointment-facts").get_by_text("Confirmed", exact=False)).to_have_count(1, timeout=40_000)

    def booked() -> list[dict[str, Any]]:
        return [a for p in (phone_patient, desktop_patient) for a in desk_server.staff.as_role("psr").appointments(
            p.patient_id) if is_booking(a["id"])]

    assert wait_until(lambda: len(booked()) == 2, 10), [(a["id"], a["start"], a["status"]) for a in booked()]
    visits = booked()
    assert len({a["start"] for a in visits}) == 2 and all(a["status"] == "confirmed" for a in visits)
    phone.get_by_text("STI screening").first.wait_for()
    shoot(phone, "booking-app-confirmed")

    # the desk's Today lists both as booked in the app (late in the day, on Tomorrow)
    desk = signed_in_desk_page(new_page, desk_server)
    for visit in visits:
        show_day_of(desk, visit["start"])
        expect(by_id(desk, f"today-{visit['id']}").get_by_text("Booked in the app", exact=False)).to_have_count(
            1, timeout=15_000)
    shoot(desk, "booking-desk-today")
