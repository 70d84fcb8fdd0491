"""The real app in headless Chromium with a real clinic server: onboarding, live messages, offline compose,
a sensitive result, auto-lock, a neutral page title; screenshots for docs/screenshots/."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.app_state import PASSCODE, Clinic, paired_vault
from tests.fixtures.browser import SHOTS, by_id, fill, open_app, painted
from tests.support.waiting import wait_until

pytestmark = pytest.mark.browser
SIZES = {"phone": (390, 844), "desktop": (1280, 800)}


def _shoot(page: Any, name: str) -> None:
    """Screenshots at phone and desktop width, then back to the phone. The app lays itself out anew
    for a width (the server hears the resize): each shot waits for that width's navigation."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, (w, h) in SIZES.items():
        _resize(page, w, h)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"))
    _resize(page, *SIZES["phone"])


def _resize(page: Any, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    by_id(page, "nav-rail" if width >= 840 else "nav-bar").wait_for(timeout=10_000)
    painted(page, 3)


def _go(page: Any, label: str) -> None:
    """Tap a destination once it is drawn: a phone's tab (until it shows as selected, as a person
    taps again when nothing happened: a tab tapped the frame the screen appeared was lost once),
    else the rail's or More's entry."""
    painted(page)
    tab = page.get_by_role("tab", name=label)
    if not tab.count():
        page.get_by_text(label, exact=True).first.click()
        return
    for tap in range(1, 4):
        tab.first.click()
        try:
            tab.first.and_(page.locator("[aria-selected='true']")).wait_for(timeout=5_000)
            return
        except Exception:
            print(f"tab {label!r}: not selected after tap {tap}", file=sys.stderr)
            painted(page)
    raise AssertionError(f"tab {label!r} was not selected after 3 taps")




def test_onboarding_live_messages_offline_compose_sensitive_result(
        new_page: Callable[..., Any], start_app: Callable[..., Any], clinic: Clinic, tmp_path: Path) -> None:
    app = start_app(tmp_path / "vault", COMPANION_SYNC_WAIT="5")
    page = new_page(390, 844)
    open_app(page, app.url)
    assert page.title() == "Companion"

    # onboarding: passcode (strength shown), pair, first sync
    fill(page, "field-new.passcode", PASSCODE)
    by_id(page, "passcode-strength").wait_for()
    fill(page, "field-new.confirm", PASSCODE)
    by_id(page, "create-passcode").click()
    fill(page, "field-pair.url", clinic.server.base_url)
    fill(page, "field-pair.code", clinic.code())
    by_id(page, "pair").click()
    try:
        page.get_by_text("STI screening").first.wait_for(timeout=20_000)
    except Exception:
        page.screenshot(path=str(tmp_path / "pair-failed.png"))
        raise
    by_id(page, "home-prep").wait_for()
    page.get_by_label("Stop eating 12 h before", exact=False).first.wait_for()
    assert page.title() == "Companion"
    _shoot(page, "home")

    # appointment detail
    by_id(page, "next-appointment").click()
    by_id(page, "appointment-facts").wait_for()
    _shoot(page, "appointment")

    # a PSR message appears live: on the open screen, no reload, no tap (how fast is printed, not asserted)
    _go(page, "Messages")
    by_id(page, "thread-general").wait_for()
    clinic.server.staff.send_message(clinic.patient_id, "Your test kit is ready at the front desk.")
    started = time.monotonic()
    page.get_by_text("Your test kit is ready at the front desk.").first.wait_for(timeout=10_000)
    print(f"a PSR message reached the open app in {time.monotonic() - started:.2f} s", file=sys.stderr)

    # a message written while the clinic is unreachable is queued, then reaches the inbox once
    by_id(page, "thread-general").click()
    clinic.server.stop()
    fill(page, "compose", "Can I come 10 minutes late?")
    by_id(page, "send").click()
    page.get_by_label("Can I come 10 minutes late? (queued)", exact=False).first.wait_for(timeout=5_000)
    _shoot(page, "messages")
    clinic.server.start()
    assert wait_until(lambda: any("Can I come 10 minutes late?" in str(i)
                                   for i in clinic.server.staff.inbox(patient_id=clinic.patient_id)), 40)
    # once the app says nothing waits to be sent, it can send nothing again: the clinic has it once
    by_id(page, "sync-chip").get_by_text("Up to date", exact=False).first.wait_for(timeout=20_000)
    inbox = clinic.server.staff.inbox(patient_id=clinic.patient_id)
    assert sum("Can I come 10 minutes late?" in str(i) for i in inbox) == 1

    # a sensitive result asks for the passcode again
    _go(page, "Results")
    by_id(page, f"result-{clinic.result_id}").click()
    by_id(page, "result-protected").wait_for()
    assert page.get_by_text("HIV-1/2 Ag/Ab").count() == 0
    fill(page, "reveal-passcode", PASSCODE)
    by_id(page, "reveal").click()
    page.get_by_text("Not found (negative)").first.wait_for(timeout=10_000)
    _shoot(page, "results")
    assert page.title() == "Companion"
    page.close()


def test_app_locks_after_idle(new_page: Callable[..., Any], start_app: Callable[..., Any], clinic: Clinic,
                              tmp_path: Path) -> None:
    folder = tmp_path / "vault"
    paired_vault(folder, clinic, device_name="Idle test")
    app = start_app(folder, COMPANION_AUTO_LOCK_SECONDS="4")
    page = new_page(390, 844)
    open_app(page, app.url)
    fill(page, "passcode", PASSCODE)
    by_id(page, "unlock").click()
    by_id(page, "next-appointment").wait_for(timeout=15_000)
    by_id(page, "unlock").wait_for(timeout=15_000)  # locked by itself after 4 s without use
    assert page.get_by_text("STI screening").count() == 0
    assert page.title() == "Companion"
    page.close()
