"""The desk in headless Chromium: a PSR sets a patient's next PrEP test date on the patient page and
sees it there; a screenshot of the profile with the date (build/screenshots/desk-prep-test.png)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.desk.test_desk_browser import _go, _open_patient, _shoot
from tests.fixtures.browser import by_id, fill, seen
from tests.fixtures.desk import signed_in_desk_page
from tests.support.server_harness import ServerProcess

pytestmark = pytest.mark.browser


def test_psr_sets_the_next_prep_test_on_the_patient_page(new_page: Callable[..., Any],
                                                         desk_server: ServerProcess) -> None:
    pid = desk_server.staff.add_patient("Robin Rivera", phone="+1 555 0177")["id"]
    page = signed_in_desk_page(new_page, desk_server)
    _go(page, "Patients")
    _open_patient(page, pid)
    seen(page, "No PrEP test date set")
    fill(page, "field-prep.test_due", "2027-03-01")
    by_id(page, "prep-test-save").click()
    seen(page, "PrEP test date saved")
    seen(page, "Next PrEP test due")
    by_id(page, "prep-test-clear").wait_for()
    assert desk_server.staff.as_role("psr").get_patient(pid)["prep_test_due"] == "2027-03-01"
    _shoot(page, "prep-test")
