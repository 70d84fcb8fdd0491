"""The local web app in real Chromium, with its CSP on: each browser session unlocks on its own.

The patient unlocks in one tab; a reload locks it again. Another browser (another profile, another
local user) without the printed key is refused; with the key it gets the lock screen, not the
records. A new tab of the patient's own browser asks for the passcode too, and so does one opened
after the first closed.
Every request of every page goes to the app itself, and the CSP blocks nothing the app needs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from companion.vault import Vault
from tests.fixtures.app_state import PASSCODE, mark_paired, seed_records
from tests.fixtures.browser import AppProcess, by_id, fill

pytestmark = pytest.mark.browser


def _watch(page: Any, requests: list[str], problems: list[str]) -> Any:
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    return page


def _lock_screen(page: Any, url: str) -> None:
    """Open ``url`` and wait for the lock screen (Playwright locators only: the CSP forbids eval'd waits)."""
    page.goto(url)
    by_id(page, "passcode").wait_for(timeout=30_000)


def test_each_browser_session_unlocks_on_its_own(new_page: Callable[..., Any], start_app: Callable[..., AppProcess],
                                                 tmp_path: Path) -> None:
    folder = tmp_path / "vault"
    with Vault.create(folder, PASSCODE) as vault:
        seed_records(vault, datetime.now(UTC))
        mark_paired(vault)
    app = start_app(folder)
    requests: list[str] = []
    problems: list[str] = []

    patient = _watch(new_page(390, 844, csp=True), requests, problems)
    _lock_screen(patient, app.url)
    assert patient.url == app.base + "/"  # the key left the address bar
    fill(patient, "passcode", PASSCODE)
    by_id(patient, "unlock").click()
    by_id(patient, "next-appointment").wait_for(timeout=20_000)
    assert patient.get_by_text("STI screening").count() > 0
    patient.reload()  # a reload is a new session: locked again, never the old unlocked screen
    by_id(patient, "passcode").wait_for(timeout=30_000)
    assert by_id(patient, "next-appointment").count() == 0
    fill(patient, "passcode", PASSCODE)
    by_id(patient, "unlock").click()
    by_id(patient, "next-appointment").wait_for(timeout=20_000)

    stranger = _watch(new_page(1280, 800, csp=True), requests, problems)  # another profile: no cookie
    stranger.goto(app.base + "/")
    stranger.get_by_text("printed when it started").wait_for(timeout=10_000)
    _lock_screen(stranger, app.url)  # even with the key: the lock screen, not the patient's records
    assert stranger.get_by_text("STI screening").count() == 0
    assert by_id(stranger, "next-appointment").count() == 0

    second_tab = _watch(patient.context.new_page(), requests, problems)  # the patient's own browser, a new tab
    _lock_screen(second_tab, app.base + "/")
    assert by_id(second_tab, "next-appointment").count() == 0
    assert by_id(patient, "next-appointment").count() == 1  # the first tab stays unlocked meanwhile

    browser_of_patient = patient.context
    patient.close()
    second_tab.close()
    reopened = _watch(browser_of_patient.new_page(), requests, problems)  # a tab opened after the others closed
    _lock_screen(reopened, app.base + "/")
    assert by_id(reopened, "next-appointment").count() == 0
    fill(reopened, "passcode", PASSCODE)
    by_id(reopened, "unlock").click()
    by_id(reopened, "next-appointment").wait_for(timeout=20_000)

    outside = [u for u in requests if not u.startswith((app.base + "/", "blob:" + app.base, "data:"))]
    assert requests and outside == []
    assert problems == []
