"""The desk patient page sets and clears a patient's next PrEP test date (in-process Flet session,
real server): a bad date is refused on the page before anything is sent, a good one reaches the
server and the patient's profile, and a clinician sees the date with no field to change it."""

from __future__ import annotations

from datetime import timedelta

from companion.clinic.desk.state import DeskState
from tests.desk.test_desk_views import WAIT, _open
from tests.fixtures.desk import DESK_USERS, sign_in_view
from tests.fixtures.flet_session import ViewHarness, drive
from tests.support.server_harness import ServerProcess


async def _open_patient(ui: ViewHarness, pid: str) -> None:
    await _open(ui, "patients")
    await ui.type("patient-search", pid)
    await ui.click("search")
    assert await ui.until(lambda: f"patient-{pid}" in ui.ids(), WAIT)
    await ui.fire(ui.by_id(f"patient-{pid}"), "click")
    assert await ui.until(lambda: "prep-test-due" in ui.ids(), WAIT), ui.state.feedback.error


def test_a_psr_sets_and_clears_the_next_prep_test(desk_server: ServerProcess, desk_view_state: DeskState) -> None:
    pid = desk_server.staff.add_patient("Jordan Prep")["id"]

    async def scenario(ui: ViewHarness) -> None:
        await sign_in_view(ui, DESK_USERS["psr"])
        await _open_patient(ui, pid)
        feedback = ui.state.feedback
        assert ui.has_text("No PrEP test date set")
        await ui.type("field-prep.test_due", "1 March")
        await ui.click("prep-test-save")
        assert await ui.until(lambda: feedback.error is not None, WAIT)
        assert feedback.error == "Write the next PrEP test as a date, YYYY-MM-DD."
        assert ui.state.api.get_patient(pid)["prep_test_due"] is None
        await ui.type("field-prep.test_due", "2027-03-01")
        await ui.click("prep-test-save")
        assert await ui.until(lambda: feedback.toast is not None and feedback.toast.startswith("PrEP test date saved"),
                              WAIT), feedback.error
        assert ui.state.api.get_patient(pid)["prep_test_due"] == "2027-03-01"
        assert await ui.until(lambda: ui.has_text("Next PrEP test due"), WAIT)
        await ui.click("prep-test-clear")
        assert await ui.until(lambda: feedback.toast == "PrEP test date cleared.", WAIT), feedback.error
        assert ui.state.api.get_patient(pid)["prep_test_due"] is None
        await ui.click("prep-test-3m")  # the 3-monthly test, from the desk's today
        expected = (ui.state.clock.today() + timedelta(days=91)).isoformat()
        assert await ui.until(lambda: ui.state.api.get_patient(pid)["prep_test_due"] == expected, WAIT), \
            feedback.error

    drive(desk_view_state, scenario, desk=True)


def test_a_clinician_sees_the_date_and_cannot_change_it(desk_server: ServerProcess,
                                                         desk_view_state: DeskState) -> None:
    pid = desk_server.staff.add_patient("Sam Prep")["id"]
    desk_server.staff.as_role("psr").set_prep_test_due(pid, "2027-05-02")

    async def scenario(ui: ViewHarness) -> None:
        await sign_in_view(ui, DESK_USERS["clinician"])
        await _open_patient(ui, pid)
        assert ui.has_text("Next PrEP test due")
        assert "prep-test-save" not in ui.ids() and "field-prep.test_due" not in ui.ids()

    drive(desk_view_state, scenario, desk=True)
