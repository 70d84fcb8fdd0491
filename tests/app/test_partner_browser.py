"""An anonymous partner notice as three people meet it, in headless Chromium against one real server:
the patient opens a positive result, chooses "Tell partners anonymously" (the infection prefilled),
makes two links and sees them ready to share (phone 390x844, then desktop 1280x800); a partner opens
one link in a fresh browser context (its own strict CSP kept), sees the neutral page, books a
fast-track time with a first name only; a second partner, whose browser speaks Spanish, gets the page
in Spanish, switches to English and back, and books in Spanish; the desk's Today shows the first
visit as a new patient from a partner notice, with no trace of the patient who sent it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.fixtures.app_state import PASSCODE, seed_clinic
from tests.fixtures.browser import by_id, onboard, painted, seen, shoot
from tests.fixtures.desk import show_day_of, signed_in_desk_page
from tests.support.server_harness import ServerProcess

pytestmark = pytest.mark.browser
ALL_DAY = [{"day": d, "opens": "00:00", "closes": "24:00", "resource": "Room P"}
           for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]


def _tab(page: Any, label: str) -> None:
    painted(page)
    tab = page.get_by_role("tab", name=label)
    (tab if tab.count() else page.get_by_role("button", name=label)).first.click()


def _notice_code(label: str | None) -> str:
    found = re.search(r"/n/([A-Z0-9]+)", label or "")
    assert found, label
    return found.group(1)


def test_a_partner_link_books_a_fast_track_visit_that_names_nobody(
        new_page: Callable[..., Any], start_app: Callable[..., Any], desk_server: ServerProcess,
        tmp_path: Path) -> None:
    made = desk_server.staff.request("POST", "/v1/staff/services", json={
        "name": "Fast-track STI test", "minutes": 15, "hours": ALL_DAY, "fast_track": True})
    assert made.status_code == 201, made.text
    clinic = seed_clinic(desk_server, sensitive_result=False)
    positive = desk_server.staff.add_result(clinic.patient_id, test="Chlamydia trachomatis NAAT",
                                            interpretation="positive")
    desk_server.staff.release_result(positive["id"])
    app = start_app(tmp_path / "vault", COMPANION_SYNC_WAIT="3")
    phone = new_page(390, 844)
    onboard(phone, app.url, PASSCODE, desk_server.base_url, clinic.code())

    # the patient tells two partners from the positive result
    _tab(phone, "Results")
    by_id(phone, f"result-{positive['id']}").click()
    by_id(phone, "tell-partners").click()
    by_id(phone, "make-links").wait_for(timeout=10_000)
    by_id(phone, "partners-more").click()
    seen(phone, "Make 2 links")
    by_id(phone, "make-links").click()
    seen(phone, "Ready to share", 30_000)  # the live loop took them to the clinic
    by_id(phone, "notice-link-1").wait_for(timeout=10_000)
    assert (by_id(phone, "notice-link-0").get_attribute("aria-label") or "").startswith("Chlamydia")  # prefilled
    by_id(phone, "notice-link-1").scroll_into_view_if_needed()
    shoot(phone, "partner-app-links")
    found = re.search(r"http://\S+/n/[A-Z0-9]+", by_id(phone, "notice-link-0").get_attribute("aria-label") or "")
    url = found.group(0) if found else ""
    assert url.startswith(desk_server.base_url + "/n/"), url
    phone.set_viewport_size({"width": 1280, "height": 800})
    by_id(phone, "nav-rail").wait_for(timeout=10_000)
    shoot(phone, "partner-app-links-desktop")

    # a partner opens the link in a fresh browser, with the page's own CSP in force
    partner = new_page(390, 844, csp=True)
    partner.goto(url)
    expect(partner.get_by_role("heading", level=1)).to_have_text("Someone you have been with suggests you get tested")
    for text in ("chlamydia test", "free and confidential", "Report misuse"):
        expect(partner.get_by_text(text, exact=False).first).to_be_visible()
    body = partner.content()
    for secret in ("Alex Rivera", clinic.patient_id, positive["id"], "NAAT", "555 0142"):
        assert secret not in body
    shoot(partner, "partner-page-phone")
    partner.get_by_role("radio").first.check()
    partner.get_by_label("First name or initials").fill("Jo")
    partner.get_by_role("button", name="Book this time").click()
    expect(partner.get_by_role("heading", level=1)).to_have_text("You are booked")
    shoot(partner, "partner-page-booked")

    # a second partner's browser speaks Spanish: the page does too, and its switch is a plain link
    other = url.rsplit("/", 1)[0] + "/" + _notice_code(by_id(phone, "notice-link-1").get_attribute("aria-label"))
    spanish = new_page(390, 844, csp=True, locale="es-MX")
    spanish.goto(other)
    expect(spanish.locator("html")).to_have_attribute("lang", "es")
    expect(spanish.get_by_role("heading", level=1)).to_have_text(
        "Una persona con quien usted estuvo le sugiere hacerse una prueba")
    expect(spanish.get_by_text("una prueba de clamidia", exact=False).first).to_be_visible()
    shoot(spanish, "partner-page-phone-es")
    spanish.get_by_role("link", name="English").click()
    expect(spanish.get_by_role("heading", level=1)).to_have_text("Someone you have been with suggests you get tested")
    spanish.get_by_role("link", name="Español").click()
    expect(spanish.locator("html")).to_have_attribute("lang", "es")
    spanish.set_viewport_size({"width": 1280, "height": 800})
    shoot(spanish, "partner-page-desktop-es")
    spanish.get_by_role("radio").first.check()
    spanish.get_by_label("Nombre de pila o iniciales").fill("Ana")
    spanish.get_by_role("button", name="Reservar esta hora").click()
    expect(spanish.get_by_role("heading", level=1)).to_have_text("Su cita está reservada")
    shoot(spanish, "partner-page-booked-es")

    # the desk sees a new patient from a partner notice, linked to nobody
    desk = signed_in_desk_page(new_page, desk_server)
    [newcomer] = [p for p in desk_server.staff.collect("/v1/staff/patients", "patients", params={"q": "Jo"})
                  if p["name"] == "Jo"]
    [visit] = desk_server.staff.as_role("psr").appointments(newcomer["id"])
    show_day_of(desk, visit["start"])
    row = by_id(desk, f"today-{visit['id']}")
    expect(row.get_by_text("From a partner notice", exact=False)).to_have_count(1, timeout=15_000)
    assert "Alex Rivera" not in (row.text_content() or "") + (row.get_attribute("aria-label") or "")
    shoot(desk, "partner-desk-today")

    # the desk's Schedule: the services patients can book, blocks, and the notices' counts (totals only)
    desk.get_by_role("button", name="Schedule").first.click()
    by_id(desk, "services").wait_for(timeout=15_000)
    expect(by_id(desk, "notice-counts").get_by_text("2 booked a visit", exact=False)).to_have_count(1,
                                                                                                   timeout=10_000)
    shoot(desk, "desk-schedule")
    counts = desk_server.staff.request("GET", "/v1/staff/notice-counts").json()
    assert counts["made"] >= 2 and counts["opened"] >= 2 and counts["booked"] >= 2  # both partners
