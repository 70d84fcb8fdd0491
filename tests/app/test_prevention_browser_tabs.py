"""The Prevention screen in real Chromium, open in two tabs of the patient's browser (two sessions of
one app process): what one tab logs, the other redraws without a reload. A clinic with a long
name, real-length entries (a 2-1-1 course, a short count, doxy-PEP sex and doses, a released
result): screenshots at phone and desktop width go to build/screenshots."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from companion.core.care_records import Result
from companion.core.prevention import DoxyDose, PreventionPlan, SexEvent, Supply
from companion.reminders.prevention import save_plan
from companion.vault import Vault
from tests.app.test_app_browser import _go, _resize, _shoot
from tests.app.test_prevention_browser import in_card, midday_zone
from tests.fixtures.app_state import PASSCODE, mark_paired
from tests.fixtures.browser import SHOTS, AppProcess, by_id, fill, open_app, painted, seen

pytestmark = pytest.mark.browser
LONG_NAME = "Riverside Community Sexual Health and Wellness Clinic of the Lower Hudson Valley"


def _profile(tmp_path: Path) -> Path:
    toml = tmp_path / "flet.toml"
    toml.write_text(f'[clinic]\nname = "{LONG_NAME}"\ndiscreet_name = "Riverside Community Health Centre"\n'
                    '[reminders]\nquiet_hours = "23:30-05:00"\n', encoding="utf-8")
    return toml


def _seed(folder: Path, now: datetime) -> None:
    with Vault.create(folder, PASSCODE) as vault:
        mark_paired(vault)
        vault.results.upsert(Result(id="r1", test="Chlamydia / gonorrhoea NAAT (urine)", interpretation="negative",
                                    released_at=now - timedelta(days=40),
                                    sample_taken=(now - timedelta(days=43)).date(),
                                    acknowledged_at=now - timedelta(days=39)))
        sex = now + timedelta(days=1, hours=8)
        plan = PreventionPlan().with_prep(
            mode="event", since=now - timedelta(days=30), events=(SexEvent("ev1", sex, now - timedelta(hours=1)),),
            supply=Supply(3, now.date(), now - timedelta(minutes=30)))
        plan = plan.with_doxy(events=(SexEvent("sx1", now - timedelta(days=20), now - timedelta(days=20)),
                                      SexEvent("sx2", now - timedelta(hours=30), now - timedelta(hours=29))),
                              doses=(DoxyDose("dd1", now - timedelta(days=19, hours=20)),))
        save_plan(vault.meta, plan)


def _unlock_to_prevention(page: Any, url: str, phone: bool) -> None:
    open_app(page, url)
    fill(page, "passcode", PASSCODE)
    by_id(page, "unlock").click()
    by_id(page, "passcode").wait_for(state="detached", timeout=20_000)
    _go(page, "More")  # a tab opens at the browser's phone width: Prevention is under More
    by_id(page, "more-prevention").click()
    by_id(page, "prep-reminders").wait_for(timeout=15_000)
    if not phone:
        _resize(page, 1280, 800)  # a wider window: the same screen laid out anew beside the rail


def test_two_tabs_follow_each_other_and_the_screen_reads_at_both_widths(
        new_page: Callable[..., Any], start_app: Callable[..., AppProcess], tmp_path: Path) -> None:
    folder = tmp_path / "vault"
    now = datetime.now(UTC)
    _seed(folder, now)
    zone, _offset = midday_zone(now)
    app = start_app(folder, TZ=zone, COMPANION_PROFILE=str(_profile(tmp_path)))

    phone = new_page(390, 844)
    _unlock_to_prevention(phone, app.url, phone=True)
    desk = phone.context.new_page()  # a second tab of the same browser: its own session, its own unlock
    _unlock_to_prevention(desk, app.base + "/", phone=False)

    # what was seeded reads in both: the 2-1-1 count short of the planned course, the check-up day
    for page in (phone, desk):
        by_id(page, "prep-supply").get_by_text("not enough for the doses planned", exact=False).wait_for()
        by_id(page, "doxy-check-up").get_by_text("Your next check-up", exact=False).wait_for()
    painted(phone, 3)
    _shoot(phone, "prevention-long-event")

    # the phone tab logs sex; the desktop tab shows its 72-hour window without a reload
    phone.mouse.move(195, 400)
    phone.mouse.wheel(0, 1400)
    by_id(phone, "doxy-sex-log").click()  # "Just now"
    in_card(phone, "doxy-log", "one dose covers this and the earlier sex")  # the earlier deadline, not this one
    desk.get_by_text("take your dose by", exact=False).nth(1).wait_for(timeout=15_000)  # two windows open now
    by_id(desk, "doxy-one-dose").wait_for()
    assert desk.get_by_text("Take your dose as soon as you can").count() == 0  # that line was the phone's
    painted(phone, 3)
    phone.screenshot(path=str(SHOTS / "prevention-long-doxy-phone.png"))
    _resize(phone, 1280, 800)  # the doxy-PEP card at desktop width (wheel events reach the first tab)
    phone.mouse.move(900, 500)
    for _ in range(5):  # down to the doxy-PEP card, as a person scrolls until it shows
        box = by_id(phone, "doxy-sex-log").bounding_box()
        if box is not None and 0 <= box["y"] < 600:
            break
        phone.mouse.wheel(0, 500)
        painted(phone, 2)
    painted(phone, 3)
    phone.screenshot(path=str(SHOTS / "prevention-long-doxy-desktop.png"))
    _resize(phone, 390, 844)
    phone.mouse.move(195, 400)

    # the end of the doxy-PEP card: its check-up day above the learn and visit links
    phone.mouse.wheel(0, 3000)
    by_id(phone, "doxy-check-up").wait_for()
    painted(phone, 3)
    phone.screenshot(path=str(SHOTS / "prevention-long-end-phone.png"))

    # and back: the desktop tab turns on a daily reminder; the phone tab shows it
    by_id(desk, "prep-mode-daily").click()
    seen(desk, "Every day at 09:00.")
    phone.mouse.wheel(0, -3000)
    by_id(phone, "prep-daily-status").get_by_text("Every day at 09:00.", exact=False).wait_for(timeout=15_000)
    desk.close()
    phone.close()
