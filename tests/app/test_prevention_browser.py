"""The real app in headless Chromium: a patient sets a daily PrEP reminder for this minute and the
system notification arrives through plyer on a private D-Bus session bus, discreetly worded, once;
a doxy-PEP dose with no sex logged, and a second one within 24 hours, are refused in plain words
beside the button; 2-1-1 doses follow a planned time. Screenshots of the Prevention screen at
phone and desktop width go to build/screenshots."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.app.test_app_browser import _go, _shoot
from tests.fixtures.app_state import PASSCODE, Clinic, paired_vault
from tests.fixtures.browser import SHOTS, by_id, fill, open_app, painted, seen
from tests.fixtures.dbus import RecordedNotifications
from tests.support.waiting import wait_until

pytestmark = pytest.mark.browser
TELLING = ("prep", "doxy", "hiv", "pill", "dose", "sex", "tablet", "antibiotic", "sexual")


def midday_zone(now: datetime) -> tuple[str, int]:
    """An IANA zone where it is about noon now, far from any quiet hours (``Etc/GMT-5`` is UTC+5)."""
    offset = (12 - now.hour) % 24
    if offset > 12:
        offset -= 24
    name = "Etc/UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"
    return name, offset


def in_card(page: Any, card: str, text: str) -> None:
    """``text`` shows inside the card ``card``, beside its buttons (not only in the strip at the top)."""
    box = by_id(page, card)
    box.get_by_text(text, exact=False).or_(box.get_by_label(text, exact=False)).first.wait_for(timeout=15_000)


def pick_time_typed(page: Any, hour: int, minute: int) -> None:
    """In the open TimePicker: switch to its text input, type the hour and the minute, press OK."""
    page.get_by_role("button", name="Switch to text input mode").click()
    boxes = page.get_by_role("textbox")
    boxes.first.wait_for()
    for i, value in enumerate((f"{hour:02d}", f"{minute:02d}")):
        boxes.nth(i).click()
        page.keyboard.press("Control+A")
        page.keyboard.type(value)
    page.get_by_role("button", name="OK").click()


def daily_reminders(recorder: RecordedNotifications) -> list[dict[str, Any]]:
    return [n for n in recorder.notified() if n["summary"] == "Your daily reminder"]


def test_daily_prep_reminder_is_delivered_discreetly_once(
        new_page: Callable[..., Any], start_app: Callable[..., Any], clinic: Clinic, tmp_path: Path,
        notification_recorder: RecordedNotifications) -> None:
    folder = tmp_path / "vault"
    paired_vault(folder, clinic, device_name="Prevention test")
    zone, offset = midday_zone(datetime.now(UTC))
    app = start_app(folder, COMPANION_SYNC_WAIT="5", TZ=zone, DBUS_SESSION_BUS_ADDRESS=notification_recorder.address)
    page = new_page(390, 844)
    open_app(page, app.url)
    fill(page, "passcode", PASSCODE)
    by_id(page, "unlock").click()
    by_id(page, "next-appointment").wait_for(timeout=15_000)

    _go(page, "More")
    by_id(page, "more-prevention").click()
    by_id(page, "prep-reminders").wait_for()
    by_id(page, "prep-mode-daily").click()
    by_id(page, "prep-daily-status").wait_for()
    # this minute on the patient's clock: due now, so it shows now
    local_now = datetime.now(UTC).astimezone(timezone(timedelta(hours=offset)))
    dose_time = f"{local_now:%H:%M}"
    by_id(page, "prep-daily-time").click()  # Flet's TimePicker, typed in its own input mode
    pick_time_typed(page, local_now.hour, local_now.minute)
    seen(page, f"Every day at {dose_time}.")

    assert wait_until(lambda: daily_reminders(notification_recorder), timeout=20), notification_recorder.records()
    [shown] = daily_reminders(notification_recorder)
    assert shown["body"] == "It's that time of day. The app has the details."
    assert shown["app_name"] == "Riverside Clinic"
    for n in notification_recorder.notified():  # nothing on the lock screen names the care
        assert not any(word in f"{n['summary']} {n['body']}".lower() for word in TELLING), n
    _shoot(page, "prevention")

    # saved again for the same minute: the reminder already showed, it does not show twice
    by_id(page, "prep-daily-time").click()
    page.get_by_role("button", name="OK").click()  # the picker opens on the saved time
    seen(page, f"Daily reminder set for {dose_time}.")
    painted(page, 3)

    # doxy-PEP: a dose with no sex logged is refused, a logged one opens the 72-hour window
    page.mouse.move(195, 400)
    page.mouse.wheel(0, 1200)
    by_id(page, "doxy-dose-log").click()
    in_card(page, "doxy-log", "log when you had sex first")
    by_id(page, "doxy-sex-log").click()
    seen(page, "take your dose by")
    painted(page, 3)
    page.screenshot(path=str(SHOTS / "prevention-doxy-phone.png"))
    by_id(page, "doxy-dose-log").click()
    in_card(page, "doxy-log", "Dose logged.")
    by_id(page, "doxy-dose-log").click()
    in_card(page, "doxy-log", "only one dose in 24 hours")
    assert by_id(page, "doxy-log").get_by_text("Dose logged.", exact=False).count() == 0  # one outcome
    painted(page, 3)
    page.screenshot(path=str(SHOTS / "prevention-doxy-refused-phone.png"))
    assert len(daily_reminders(notification_recorder)) == 1

    # event-based PrEP: the patient plans sex tomorrow evening and sees the three doses
    page.mouse.wheel(0, -3000)
    by_id(page, "prep-mode-event").click()
    by_id(page, "prep-event-tomorrow").click()  # the dial opens on 21:00: OK takes it
    page.get_by_role("button", name="OK").click()
    for i in range(3):
        by_id(page, f"prep-dose-{i}").wait_for()
    seen(page, "2 pills")
    _shoot(page, "prevention-event")
    page.close()
