"""The desk's result form dates the sample by the visit it was taken at (in-process Flet session,
real server): the newest visit that has begun is picked unless the clinician picks another, and the
saved result carries that visit and its local day; the results list says when each sample was taken."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from companion.clinic.desk.state import DeskState
from tests.fixtures.desk import DESK_USERS, sign_in_view
from tests.fixtures.flet_session import ViewHarness, drive
from tests.support.server_harness import ServerProcess

WAIT = 15.0  # intents run in Flet's thread pool and wait on HTTP


def test_a_result_saved_at_the_desk_is_dated_by_the_visit_of_its_sample(desk_server: ServerProcess,
                                                                         desk_view_state: DeskState) -> None:
    staff = desk_server.staff
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    pid = staff.add_patient("Sam Sample")["id"]
    older = staff.add_appointment(pid, start=now - timedelta(days=9), kind="STI screening")
    newer = staff.add_appointment(pid, start=now - timedelta(days=2), kind="HIV test")
    staff.add_appointment(pid, start=now + timedelta(days=5), kind="Follow-up")  # not begun: no sample yet

    async def clinician(ui: ViewHarness) -> None:
        await sign_in_view(ui, DESK_USERS["clinician"])
        ui.state.navigation.go("patient", pid)
        assert await ui.until(lambda: "result-test" in ui.ids(), WAIT), ui.state.feedback.error
        assert {f"sample-{newer['id']}", f"sample-{older['id']}", "sample-"} <= ui.ids()
        assert not any(i.startswith("sample-") and i not in (f"sample-{newer['id']}", f"sample-{older['id']}",
                                                               "sample-") for i in ui.ids())
        tz = ui.state.clock.tz
        for test, pick, visit in (("HIV-1/2 Ag/Ab", None, newer), ("Chlamydia NAAT", f"sample-{older['id']}", older)):
            await ui.type("result-test", test)
            if pick:
                await ui.click(pick)
            await ui.click("add-result")

            def saved(t: str = test) -> bool:
                return any(r["test"] == t for r in ui.state.api.results(pid))

            assert await ui.until(saved, WAIT), ui.state.feedback.error
            [made] = [r for r in ui.state.api.results(pid) if r["test"] == test]
            day = datetime.fromisoformat(visit["start"].replace("Z", "+00:00")).astimezone(tz).date()
            assert made["appointment_id"] == visit["id"] and made["sample_taken"] == day.isoformat()

            def listed(t: str = test, d: date = day) -> bool:
                return ui.has_text(f"{t} · sample taken {d.isoformat()}")

            assert await ui.until(listed, WAIT)

    drive(desk_view_state, clinician, desk=True)
