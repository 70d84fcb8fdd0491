"""After a restart, the lock screen of a patient who chose Spanish on an English phone reads Spanish
(real app process, real vault on disk, headless Chromium): the chosen code kept beside the vault."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.app.test_app_browser import _go
from tests.fixtures.app_state import PASSCODE, Clinic
from tests.fixtures.browser import SHOTS, by_id, fill, onboard, open_app, seen

pytestmark = pytest.mark.browser

ENGLISH_PHONE = {"LANGUAGE": "en_US.UTF-8", "LANG": "en_US.UTF-8"}


def test_the_lock_screen_speaks_spanish_after_a_restart(new_page: Callable[..., Any], start_app: Callable[..., Any],
                                                        clinic: Clinic, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    app = start_app(vault, COMPANION_SYNC_WAIT="5", **ENGLISH_PHONE)
    page = new_page(390, 844)
    onboard(page, app.url, PASSCODE, clinic.server.base_url, clinic.code())
    _go(page, "More")
    by_id(page, "more-settings").click()
    by_id(page, "language-es").click()
    page.get_by_role("tab", name="Citas").wait_for(timeout=10_000)
    page.close()
    app.stop()
    assert (vault / "language.txt").read_text() == "es"

    again = start_app(vault, COMPANION_SYNC_WAIT="5", **ENGLISH_PHONE)
    page = new_page(390, 844)
    open_app(page, again.url)
    seen(page, "Companion está bloqueada")
    by_id(page, "passcode").wait_for()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "es-lock-after-restart-phone.png"))
    fill(page, "passcode", PASSCODE)
    by_id(page, "unlock").click()
    by_id(page, "next-appointment").wait_for(timeout=15_000)
    page.get_by_role("tab", name="Citas").wait_for(timeout=10_000)
    page.close()
