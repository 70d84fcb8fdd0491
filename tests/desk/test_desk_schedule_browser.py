"""The Schedule screen in headless Chromium: a PSR opens a service's Edit form, saves new hours and
the row reads them. Screenshots: desk-schedule (the list) and desk-schedule-edit (the filled form)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.fixtures.browser import by_id, fill, seen, shoot
from tests.fixtures.desk import signed_in_desk_page
from tests.support.server_harness import ServerProcess

pytestmark = pytest.mark.browser


def test_a_psr_edits_a_services_hours_on_the_schedule_screen(new_page: Callable[..., Any],
                                                              desk_server: ServerProcess) -> None:
    made = desk_server.staff.request("POST", "/v1/staff/services", json={
        "name": "Walk-in STI screening and PrEP starts", "minutes": 20, "fast_track": True,
        "hours": [{"day": d, "opens": "09:00", "closes": "12:30", "resource": "Nurse Alex Kim, Room 2"}
                  for d in ("mon", "tue", "wed", "thu", "fri")]}).json()
    page = signed_in_desk_page(new_page, desk_server)
    name = re.compile("^Schedule")
    page.get_by_role("tab", name=name).or_(page.get_by_role("button", name=name)).or_(
        page.get_by_text(name)).first.click()
    by_id(page, f"service-edit-{made['id']}").wait_for(timeout=15_000)
    shoot(page, "desk-schedule")
    by_id(page, f"service-edit-{made['id']}").click()
    by_id(page, "save-service").wait_for(timeout=10_000)
    seen(page, "Edit Walk-in STI screening and PrEP starts")
    shoot(page, "desk-schedule-edit")
    fill(page, "service-closes", "13:30")
    by_id(page, "save-service").click()
    seen(page, "Mon–Fri 09:00–13:30 · Nurse Alex Kim, Room 2")
    by_id(page, "add-service").wait_for(timeout=10_000)
    [saved] = [s for s in desk_server.staff.request("GET", "/v1/staff/services").json()["services"]
               if s["id"] == made["id"]]
    assert {h["closes"] for h in saved["hours"]} == {"13:30"} and saved["fast_track"]
