"""What a patient expects of visits, results, messages, bills and reminders (in-process Flet session, real vault)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from companion.core.models import Appointment, Message, Result
from companion.state import AppState
from tests.fixtures.app_state import PASSCODE, START_BANNERS
from tests.fixtures.flet_session import ViewHarness, drive


def _add(state: AppState, *records: Appointment | Result | Message) -> None:
    vault = state.records.require_vault()
    with vault.batch():
        for r in records:
            if isinstance(r, Appointment):
                vault.appointments.upsert(r)
            elif isinstance(r, Result):
                vault.results.upsert(r)
            else:
                vault.messages.upsert(r)
    state.records.refresh()


def test_a_past_visit_says_past_and_offers_nothing(populated_state: AppState) -> None:
    now = populated_state.now()
    _add(populated_state, Appointment(id="apt_gone", start=now - timedelta(days=2), minutes=30,
                                      visit_kind="STI screening", status="scheduled"))
    populated_state.nav.go("appointments")

    async def scenario(ui: ViewHarness) -> None:
        assert ui.has_text("· Past") and ui.has_text("· Attended")  # apt_past was marked completed
        populated_state.nav.go("appointment", "apt_gone")
        assert await ui.until(lambda: "appointment-facts" in ui.ids())
        assert not {"confirm", "checkin", "cancel", "add-calendar"} & ui.ids()
        assert not ui.has_text("Please confirm")

    drive(populated_state, scenario)


def test_check_in_opens_a_day_before_and_book_again_after_a_cancel(populated_state: AppState) -> None:
    now = populated_state.now()
    _add(populated_state, Appointment(id="apt_later", start=now + timedelta(days=6), minutes=30,
                                      visit_kind="Follow-up", status="confirmed"),
         Appointment(id="apt_off", start=now + timedelta(days=3), minutes=30, visit_kind="Follow-up",
                     status="cancelled"))
    populated_state.nav.go("appointment", "apt_later")

    async def scenario(ui: ViewHarness) -> None:
        assert "checkin" not in ui.ids() and "add-calendar" in ui.ids()  # 6 days ahead: not yet
        populated_state.visits.check_in("apt_later", "", "", "", "")
        assert populated_state.feedback.error == "Check-in opens 24 hours before the appointment."
        populated_state.nav.go("appointment", "apt_next")  # tomorrow: open
        assert await ui.until(lambda: "checkin" in ui.ids())
        populated_state.nav.go("appointment", "apt_off")
        assert await ui.until(lambda: "book-again" in ui.ids())
        await ui.click("book-again")
        assert await ui.until(lambda: populated_state.nav.route.name == "request")

    drive(populated_state, scenario)


def test_protected_results_differ_without_naming_the_test(populated_state: AppState) -> None:
    first = populated_state.records.snapshot.result("res_pos")
    assert first is not None
    _add(populated_state, replace(first, id="res_pos2", test="HIV-1/2 antigen/antibody", appointment_id="apt_past"))
    populated_state.nav.go("results")

    async def scenario(ui: ViewHarness) -> None:
        rows = [t for t in ui.texts() if t.startswith("Protected result")]
        assert len(rows) == 2 and len(set(rows)) == 2, rows
        assert any("· sample " in r for r in rows)  # the visit it came from dates the sample
        assert not ui.has_text("HIV-1") and not ui.has_text("Chlamydia")
        populated_state.nav.go("result", "res_pos2")
        assert await ui.until(lambda: "reveal-passcode" in ui.ids())
        await ui.type("reveal-passcode", PASSCODE)
        await ui.click("reveal")
        assert await ui.until(lambda: ui.has_text("Sample taken"))

    drive(populated_state, scenario)


def test_treatment_is_requested_once_and_back_returns_to_the_result(populated_state: AppState) -> None:
    populated_state.nav.go("results")
    populated_state.nav.go("result", "res_pos")

    async def scenario(ui: ViewHarness) -> None:
        await ui.type("reveal-passcode", PASSCODE)
        await ui.click("reveal")
        assert await ui.until(lambda: "request-treatment" in ui.ids())
        await ui.click("request-treatment")
        assert await ui.until(lambda: "treatment-requested" in ui.ids())
        assert "request-treatment" not in ui.ids() and any(t.startswith("Treatment requested · ") for t in ui.texts())
        populated_state.results.request_treatment("res_pos")  # a second tap from anywhere sends nothing
        kinds = [e.type for e in populated_state.records.snapshot.outbox.values()]
        assert kinds.count("appointment.request") == 1
        await ui.click("message-counsellor")
        assert await ui.until(lambda: populated_state.nav.route.name == "thread")
        await ui.click("back")
        assert await ui.until(lambda: populated_state.nav.route.arg == "res_pos")
        populated_state.nav.back()
        assert populated_state.nav.route.name == "results"

    drive(populated_state, scenario)


def test_the_open_thread_reads_what_arrives_and_keeps_the_composer_out_of_the_scroll(
        populated_state: AppState) -> None:
    populated_state.messages.open_thread("general")

    async def scenario(ui: ViewHarness) -> None:
        conversation = ui.by_id("thread-messages")
        assert conversation.scroll is not None
        assert not any(getattr(c, "identifier", None) == "composer" for c in conversation.controls)
        _add(populated_state, Message(id="msg_live", thread="general", author="clinic", body="x" * 600,
                                      sent_at=populated_state.now(), author_name="Front desk"))
        def reads() -> list[object]:
            return [e.payload.get("message_id") for e in populated_state.records.snapshot.outbox.values()
                    if e.type == "message.read"]

        assert await ui.until(lambda: "msg_live" in reads())
        assert "msg_1" in reads()

    drive(populated_state, scenario)


def test_a_reminder_banner_is_worded_for_inside_the_app_and_opens_what_it_is_about(
        populated_state: AppState) -> None:
    async def scenario(ui: ViewHarness) -> None:
        await ui.until(lambda: len(populated_state.banners.items) >= START_BANNERS)  # the start's own reminders first
        # each reminder from the loop opens the screen of what it is about (its kind), never home
        assert {b.route for b in populated_state.banners.items} <= {"appointments", "prep", "bills", "messages",
                                                                   "results"}
        populated_state.banners.clear()
        populated_state.banners.add("Riverside Clinic", "There is an update for you in the app.", "result")
        assert await ui.until(lambda: "banner" in ui.ids())
        assert ui.has_text("There is an update for you. Tap to see it.") and not ui.has_text("in the app")
        await ui.fire(ui.by_id("banner"), "click")
        assert await ui.until(lambda: populated_state.nav.route.name == "results")
        assert not populated_state.banners.items

    drive(populated_state, scenario)


def test_settings_speak_plainly(populated_state: AppState) -> None:
    populated_state.nav.go("settings")

    async def scenario(ui: ViewHarness) -> None:
        assert ui.has_text("Clinic: Riverside Sexual Health Clinic")
        assert any("reminders show inside the app" in t for t in ui.texts())
        assert not any("plyer" in t or "dev_test" in t or "D-Bus" in t for t in ui.texts())

    drive(populated_state, scenario)
