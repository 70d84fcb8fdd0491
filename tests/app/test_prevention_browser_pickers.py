"""The Prevention screen's pickers and the in-app reminder banner in real Chromium, at phone width:
the patient sets the daily reminder time in Flet's TimePicker (typing it in the picker's own input
mode, as a person who prefers the keyboard does), the reminder arrives as the in-app banner (no
system notifications here), and the end of the screen stays reachable above the banner. Doxy-PEP
sex yesterday is picked in the dial and taken with OK. Screenshots of the open pickers and of the
screen's end with the banner, at 390x844 and 1280x800, go to build/screenshots."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from companion.vault import Vault
from tests.app.test_app_browser import _go, _resize
from tests.app.test_prevention_browser import midday_zone, pick_time_typed
from tests.fixtures.app_state import PASSCODE, mark_paired
from tests.fixtures.browser import SHOTS, by_id, fill, open_app, painted, seen

pytestmark = pytest.mark.browser


def test_daily_time_is_picked_and_the_banner_leaves_the_screen_end_reachable(
        new_page: Callable[..., Any], start_app: Callable[..., Any], tmp_path: Path) -> None:
    folder = tmp_path / "vault"
    with Vault.create(folder, PASSCODE) as vault:
        mark_paired(vault)
    zone, offset = midday_zone(datetime.now(UTC))
    app = start_app(folder, TZ=zone, DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent/bus")
    page = new_page(390, 844)
    open_app(page, app.url)
    fill(page, "passcode", PASSCODE)
    by_id(page, "unlock").click()
    by_id(page, "passcode").wait_for(state="detached", timeout=20_000)
    _go(page, "More")
    by_id(page, "more-prevention").click()
    by_id(page, "prep-mode-daily").click()
    by_id(page, "prep-daily-status").wait_for()
    local_now = datetime.now(UTC).astimezone(timezone(timedelta(hours=offset)))
    by_id(page, "prep-daily-time").click()
    page.get_by_role("button", name="Switch to text input mode").wait_for()
    painted(page, 30)  # the dialog fades in over some frames: the shot shows it drawn
    page.screenshot(path=str(SHOTS / "prevention-time-picker-phone.png"))
    pick_time_typed(page, local_now.hour, local_now.minute)
    seen(page, f"Every day at {local_now:%H:%M}.")
    by_id(page, "banner").wait_for(timeout=20_000)  # the in-app reminder, due this minute
    by_id(page, "prep-daily-status").get_by_text(f"Every day at {local_now:%H:%M}.", exact=False).wait_for()

    # doxy-PEP sex yesterday, at the time the dial opens on (now's), taken with OK
    page.mouse.move(195, 400)
    page.mouse.wheel(0, 1200)
    by_id(page, "doxy-sex-yesterday").click()
    page.get_by_role("button", name="OK").wait_for()
    painted(page, 30)
    page.screenshot(path=str(SHOTS / "prevention-doxy-picker-phone.png"))
    page.get_by_role("button", name="OK").click()
    seen(page, "take your dose by")
    seen(page, f"Sex · Yesterday, {local_now:%H}:")

    for label, (width, height) in {"phone": (390, 844), "desktop": (1280, 800)}.items():
        _resize(page, width, height)
        page.mouse.move(width // 2, 400)
        page.mouse.wheel(0, 6000)  # to the end of the screen, the banner still there
        painted(page, 3)
        page.screenshot(path=str(SHOTS / f"prevention-banner-end-{label}.png"))
        banner = by_id(page, "banner").bounding_box()
        last = by_id(page, "doxy-ask-visit").bounding_box()
        assert banner is not None and last is not None
        assert last["y"] + last["height"] <= banner["y"], (label, last, banner)  # not under the banner
    by_id(page, "doxy-sex-day").click()
    page.get_by_role("button", name="OK").wait_for()
    painted(page, 3)
    page.screenshot(path=str(SHOTS / "prevention-date-picker-desktop.png"))
    page.close()
