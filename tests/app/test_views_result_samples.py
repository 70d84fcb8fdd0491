"""Results say when the sample was taken and what was already done (in-process Flet session, real
vault; the first test against the real server): the sample day from the clinic, through the feed,
into the vault, on the protected row — which never names the test before the passcode."""

from __future__ import annotations

from datetime import date

from companion.core.models import Result
from companion.state import AppState
from companion.state.formatting import local_time, long_date, short_date
from tests.fixtures.app_state import PASSCODE, Clinic
from tests.fixtures.flet_session import ViewHarness, drive
from tests.support.waiting import wait_until

SAMPLED = date(2026, 11, 28)


def test_the_sample_day_goes_from_the_clinic_to_the_protected_row(paired_state: AppState, clinic: Clinic) -> None:
    staff = clinic.server.staff
    made = staff.add_result(clinic.patient_id, test="HIV-1/2 Ag/Ab", interpretation="negative", sensitive=True,
                            sample_taken=SAMPLED.isoformat())
    staff.release_result(made["id"])
    paired_state.sync.sync_now()
    assert wait_until(lambda: paired_state.records.snapshot.result(made["id"]) is not None, 10)
    vault_copy = paired_state.records.require_vault().results.get(made["id"])
    assert isinstance(vault_copy, Result) and vault_copy.sample_taken == SAMPLED
    old = paired_state.records.snapshot.result(clinic.result_id)  # recorded without a sample day
    assert old is not None and old.sample_taken is None and old.appointment_id is None
    paired_state.nav.go("results")

    async def scenario(ui: ViewHarness) -> None:
        assert await ui.until(lambda: ui.has_text(f"Protected result · sample taken {short_date(SAMPLED)}"))
        released = short_date(old.released_at.astimezone(paired_state.services.tz).date())
        assert ui.has_text(f"Protected result · released {released}")  # an old result: what is known
        assert not ui.has_text("HIV")  # neither row names the test before the passcode
        paired_state.nav.go("result", made["id"])
        assert await ui.until(lambda: "reveal-passcode" in ui.ids())
        assert not ui.has_text("HIV") and not ui.has_text("Sample taken")
        await ui.type("reveal-passcode", PASSCODE)
        await ui.click("reveal")
        assert await ui.until(lambda: ui.has_text(f"Sample taken {long_date(SAMPLED)}"))
        assert ui.has_text("HIV-1/2 Ag/Ab")
        # the window-period advice counts from the sample, not from the release
        assert ui.has_text(f"in the few weeks before {short_date(SAMPLED)}, when the sample was taken")

    drive(paired_state, scenario)


def test_a_result_from_an_older_vault_or_feed_without_a_sample_day_still_loads() -> None:
    old = {"id": "res_old", "test": "Syphilis antibody", "interpretation": "negative",
           "released_at": "2026-01-02T10:00:00Z"}  # as an app before sample days stored it
    record = Result.from_dict(old)
    assert record.sample_taken is None
    again = Result.from_dict({**record.to_dict(), "sample_taken": "2026-01-01"})
    assert again.sample_taken == date(2026, 1, 1) and Result.from_dict(again.to_dict()) == again


def test_treatment_requested_says_when_and_offers_no_second_request(populated_state: AppState) -> None:
    populated_state.nav.go("result", "res_pos")

    async def scenario(ui: ViewHarness) -> None:
        await ui.type("reveal-passcode", PASSCODE)
        await ui.click("reveal")
        assert await ui.until(lambda: "request-treatment" in ui.ids())
        await ui.click("request-treatment")
        assert await ui.until(lambda: "treatment-requested" in ui.ids())
        [sent] = [e for e in populated_state.records.snapshot.outbox.values() if e.type == "appointment.request"]
        at = local_time(sent.created_at, populated_state.services.tz)  # when the queued command was made
        done = [t for t in ui.texts() if t.startswith("Treatment requested · ")]
        assert len(done) == 1 and done[0].endswith(at), (done, at)
        assert "request-treatment" not in ui.ids()
        populated_state.nav.go("results")  # away and back (it hides again): still done, still one request
        populated_state.nav.go("result", "res_pos")
        assert await ui.until(lambda: "reveal-passcode" in ui.ids())
        await ui.type("reveal-passcode", PASSCODE)
        await ui.click("reveal")
        assert await ui.until(lambda: "treatment-requested" in ui.ids())
        assert "request-treatment" not in ui.ids()
        kinds = [e.type for e in populated_state.records.snapshot.outbox.values()]
        assert kinds.count("appointment.request") == 1

    drive(populated_state, scenario)
