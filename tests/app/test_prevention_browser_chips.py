"""The Prevention screen's quick "when" choices in real Chromium, English and Spanish, at 390x844
and 1280x800: each one reads as a whole label (no trailing "…", which on a phone's button reads as
a label cut off: the clock or calendar icon says a picker opens) and lies inside its card.
Screenshots of the doxy-PEP log go to build/screenshots (``prevention-doxy-choices-*``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from companion.vault import Vault
from tests.app.test_app_browser import _go, _resize
from tests.fixtures.app_state import PASSCODE, mark_paired
from tests.fixtures.browser import SHOTS, by_id, fill, open_app, painted

pytestmark = pytest.mark.browser

# the choice's id -> its label, as the patient reads it
CHOICES = {
    "en": {"doxy-sex-log": "Just now", "doxy-sex-today": "Earlier today", "doxy-sex-yesterday": "Yesterday",
           "doxy-sex-day": "Another day", "doxy-dose-log": "Just now", "doxy-dose-today": "Earlier today",
           "doxy-dose-yesterday": "Yesterday", "prep-event-tonight": "Tonight", "prep-event-tomorrow": "Tomorrow",
           "prep-event-day": "Another day"},
    "es": {"doxy-sex-log": "Ahora mismo", "doxy-sex-today": "Hoy, más temprano", "doxy-sex-yesterday": "Ayer",
           "doxy-sex-day": "Otro día", "doxy-dose-log": "Ahora mismo", "doxy-dose-today": "Hoy, más temprano",
           "doxy-dose-yesterday": "Ayer", "prep-event-tonight": "Esta noche", "prep-event-tomorrow": "Mañana",
           "prep-event-day": "Otro día"},
}
LANG = {"en": {}, "es": {"LANGUAGE": "es_US.UTF-8", "LANG": "es_US.UTF-8"}}


def _choices_read_whole(page: Any, language: str, width: int) -> None:
    for identifier, label in CHOICES[language].items():
        choice = by_id(page, identifier)
        choice.scroll_into_view_if_needed()
        said = (choice.get_attribute("aria-label") or choice.inner_text()).strip()
        assert said == label, (language, width, identifier, said)  # the whole label, no "…"
        card = by_id(page, "doxy-log" if identifier.startswith("doxy") else "prep-reminders").bounding_box()
        box = choice.bounding_box()
        assert box is not None and card is not None
        assert card["x"] <= box["x"] and box["x"] + box["width"] <= card["x"] + card["width"], (identifier, box, card)
        assert box["x"] + box["width"] <= width, (identifier, box)


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_quick_when_choices_read_whole_at_phone_and_desktop_width(
        new_page: Callable[..., Any], start_app: Callable[..., Any], tmp_path: Path, language: str) -> None:
    folder = tmp_path / "vault"
    with Vault.create(folder, PASSCODE) as vault:
        mark_paired(vault)
    app = start_app(folder, **LANG[language])
    page = new_page(390, 844)
    open_app(page, app.url)
    fill(page, "passcode", PASSCODE)
    by_id(page, "unlock").click()
    by_id(page, "passcode").wait_for(state="detached", timeout=20_000)
    _go(page, "More" if language == "en" else "Más")
    by_id(page, "more-prevention").click()
    by_id(page, "prep-mode-event").click()  # 2-1-1: its "when" choices show too
    by_id(page, "prep-event-tomorrow").wait_for(timeout=15_000)
    for width, height in ((390, 844), (1280, 800)):
        _resize(page, width, height)
        _choices_read_whole(page, language, width)
        by_id(page, "doxy-sex-yesterday").scroll_into_view_if_needed()
        painted(page, 3)
        page.screenshot(path=str(SHOTS / f"prevention-doxy-choices-{language}-{width}.png"))
    page.close()
