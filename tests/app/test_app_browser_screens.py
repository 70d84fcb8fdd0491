"""The real app in headless Chromium, as a patient reads it: a 600-character message from either side
fits the screen at phone and desktop width, a past visit asks for nothing, and every screen is
photographed at both sizes into build/screenshots (SHOTS) to be looked at."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.app.test_app_browser import SIZES, _go, _resize, _shoot
from tests.fixtures.app_state import PASSCODE, Clinic, paired_vault
from tests.fixtures.browser import SHOTS, by_id, fill, open_app, painted

pytestmark = pytest.mark.browser
LONG_CLINIC = ("Your results are ready and everything we tested for came back clear. " * 9)[:600]
LONG_PATIENT = ("Thank you so much, could I also book a follow-up visit in three months time please? " * 8)[:600]




def _newest_fits(page: Any) -> None:
    """At each size the newest message's bubble (the box its text wraps in) lies within the viewport
    and the thread's visible part: nothing cut at the right edge, nothing under the composer."""
    for w, h in SIZES.values():
        _resize(page, w, h)
        box = page.locator("[flt-semantics-identifier^='msg-body-']").last
        box.wait_for(timeout=10_000)
        rect, room = box.bounding_box(), by_id(page, "thread-messages").bounding_box()
        assert rect is not None and room is not None
        assert rect["x"] >= 0 and rect["x"] + rect["width"] <= w + 0.5, (w, rect)
        assert rect["y"] >= 0 and rect["y"] + rect["height"] <= h + 0.5, (h, rect)
        # and in the thread's visible part: not under the composer, not under the title
        assert room["y"] - 0.5 <= rect["y"] and rect["y"] + rect["height"] <= room["y"] + room["height"] + 0.5, \
            (room, rect)
    _resize(page, *SIZES["phone"])


def test_long_messages_fit_a_past_visit_asks_nothing_and_every_screen_is_shot(
        new_page: Callable[..., Any], start_app: Callable[..., Any], clinic: Clinic, tmp_path: Path) -> None:
    staff = clinic.server.staff
    past = staff.add_appointment(clinic.patient_id, start=datetime.now(UTC) - timedelta(days=3),
                                 kind="Follow-up", location="Riverside Clinic, Room 2")
    folder = tmp_path / "vault"
    paired_vault(folder, clinic, device_name="Screens test")
    app = start_app(folder, COMPANION_SYNC_WAIT="5")
    page = new_page(390, 844)
    open_app(page, app.url)
    for label, (w, h) in SIZES.items():  # no navigation on the lock screen: its field is its sign of life
        page.set_viewport_size({"width": w, "height": h})
        by_id(page, "passcode").wait_for()
        painted(page, 3)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"lock-{label}.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    fill(page, "passcode", PASSCODE)
    by_id(page, "unlock").click()
    by_id(page, "next-appointment").wait_for(timeout=15_000)

    # a past visit: no "Please confirm", nothing to do
    _go(page, "Visits")
    by_id(page, f"appt-{past['id']}").wait_for()
    _shoot(page, "visits")
    by_id(page, f"appt-{past['id']}").click()
    by_id(page, "appointment-facts").wait_for()
    assert page.get_by_text("Please confirm").count() == 0
    assert by_id(page, "confirm").count() == 0 and by_id(page, "checkin").count() == 0
    _shoot(page, "visit-past")
    by_id(page, "back").click()

    # add to calendar: the browser downloads the .ics (no path on the app's server), and the app says so
    by_id(page, f"appt-{clinic.appointment_id}").click()
    with page.expect_download(timeout=15_000) as download:
        by_id(page, "add-calendar").click()
    assert download.value.suggested_filename == "appointment.ics"
    ics = Path(download.value.path()).read_text(encoding="utf-8")
    assert "BEGIN:VEVENT" in ics and "STI" not in ics  # discreet: no visit type in the file
    page.get_by_label("appointment.ics is in your browser's downloads", exact=False).first.wait_for()
    by_id(page, "back").click()
    by_id(page, "request-appointment").click()
    by_id(page, "send-request").wait_for()
    _shoot(page, "request")

    # 600 characters from the clinic, then from the patient: each fits, at both sizes
    _go(page, "Messages")
    by_id(page, "thread-general").click()
    by_id(page, "composer").wait_for()
    mine = page.locator("[flt-semantics-identifier^='msg-']:not([flt-semantics-identifier^='msg-body-'])")
    shown = mine.count()
    sent = staff.send_message(clinic.patient_id, LONG_CLINIC)
    by_id(page, f"msg-body-{sent['id']}").wait_for(timeout=10_000)
    _newest_fits(page)
    fill(page, "compose", LONG_PATIENT)
    by_id(page, "send").click()
    page.wait_for_function("n => document.querySelectorAll(\"[flt-semantics-identifier^='msg-body-']\").length > n",
                           arg=shown + 1)
    by_id(page, "sync-chip").get_by_text("Up to date", exact=False).first.wait_for(timeout=20_000)
    _newest_fits(page)
    _shoot(page, "thread")
    by_id(page, "back").click()
    by_id(page, "thread-general").wait_for()
    _shoot(page, "messages-list")

    _go(page, "Results")
    by_id(page, f"result-{clinic.result_id}").wait_for()
    _shoot(page, "results-list")
    by_id(page, f"result-{clinic.result_id}").click()
    by_id(page, "result-protected").wait_for()
    _shoot(page, "result-protected")

    for route, ready, name in (("bills", "balance", "bills"), ("prep", "prep-card", "preparation"),
                               ("learn", None, "learn"), ("settings", "settings-device", "settings")):
        _go(page, "More")
        by_id(page, f"more-{route}").click()
        if ready == "prep-card":
            page.locator("[flt-semantics-identifier^='prep-card-']").first.wait_for()
        elif ready:
            by_id(page, ready).wait_for()
        else:
            page.locator("[flt-semantics-identifier^='article-']").first.wait_for()
        _shoot(page, name)
        if route == "settings":  # its lower half: this device, exports
            page.mouse.move(195, 400)
            page.mouse.wheel(0, 2000)
            painted(page, 3)
            page.screenshot(path=str(SHOTS / "settings-device-phone.png"))
        if route == "bills":
            page.locator("[flt-semantics-identifier^='bill-']").first.click()
            by_id(page, "how-to-pay").wait_for()
            _shoot(page, "bill")
    _go(page, "More")
    by_id(page, "more-lock").wait_for()
    _shoot(page, "more")
    page.close()
