"""The main intents fire from their controls (real in-process Flet session, real vault, offline clinic)."""

from __future__ import annotations

import flet as ft

from companion.state import AppState
from tests.fixtures.app_state import PASSCODE
from tests.fixtures.flet_session import ViewHarness, drive


def test_home_prep_tick_and_navigation(populated_state: AppState) -> None:
    async def scenario(ui: ViewHarness) -> None:
        box = ui.by_id("prep-prep_food").controls[0]
        assert isinstance(box, ft.Checkbox) and not box.value
        await ui.fire(box, "change", True)
        assert await ui.until(lambda: populated_state.records.snapshot.prep_for("apt_next")[0].done_at is not None)
        assert populated_state.records.snapshot.status.pending == 1  # queued offline
        nav = ui.by_id("nav-bar")
        ui.session.apply_patch(nav._i, {"selected_index": 3})  # the client changed the selection
        await ui.fire(nav, "change", None)
        assert populated_state.nav.route.name == "messages" and "thread-general" in ui.ids()

    drive(populated_state, scenario)


def test_appointment_confirm_cancel_and_calendar(populated_state: AppState) -> None:
    populated_state.nav.go("appointment", "apt_next")

    async def scenario(ui: ViewHarness) -> None:
        await ui.click("confirm")
        assert await ui.until(lambda: populated_state.records.snapshot.appointment("apt_next").status == "confirmed")  # type: ignore[union-attr]
        assert await ui.until(lambda: ui.has_text("Saved on this device"))  # offline: said plainly
        await ui.click("add-calendar")  # through the save dialog: the patient's own folder, never the app's
        assert await ui.until(lambda: ui.has_text("Saved to /home/patient/Downloads/appointment.ics"))
        [(name, data)] = ui.conn.saved
        assert name == "appointment.ics" and b"BEGIN:VEVENT" in data and b"STI" not in data
        await ui.click("cancel")
        assert "cancel-confirm" in ui.ids()
        await ui.click("cancel-yes")
        assert await ui.until(lambda: populated_state.records.snapshot.appointment("apt_next").status == "cancelled")  # type: ignore[union-attr]

    drive(populated_state, scenario)


def test_compose_offline_shows_queued(populated_state: AppState) -> None:
    populated_state.nav.go("thread", "general")

    async def scenario(ui: ViewHarness) -> None:
        await ui.type("compose", "Is the clinic open on Saturday?")
        await ui.click("send")
        assert await ui.until(lambda: ui.has_text("queued, sends when online"))
        assert ui.has_text("Is the clinic open on Saturday?")

    drive(populated_state, scenario)


def test_sensitive_positive_result_asks_passcode_then_shows_next_steps(populated_state: AppState) -> None:
    populated_state.nav.go("result", "res_pos")

    async def scenario(ui: ViewHarness) -> None:
        assert not ui.has_text("Chlamydia")
        await ui.type("reveal-passcode", PASSCODE)
        await ui.click("reveal")
        assert await ui.until(lambda: "next-steps" in ui.ids())
        assert ui.has_text("Chlamydia NAAT") and ui.has_text("Found (positive)")
        await ui.click("request-treatment")
        assert await ui.until(lambda: ui.has_text("Saved on this device"))
        await ui.click("acknowledge")
        assert await ui.until(lambda: populated_state.records.snapshot.result("res_pos").acknowledged_at is not None)  # type: ignore[union-attr]
        await ui.click("partner-notification")
        assert await ui.until(lambda: populated_state.nav.route.name == "article")
        assert not populated_state.reveal.revealed  # leaving the result hides it again

    drive(populated_state, scenario)


def test_bill_plan_and_question(populated_state: AppState) -> None:
    populated_state.nav.go("bill", "bill_1")

    async def scenario(ui: ViewHarness) -> None:
        # $45 with a $20 minimum instalment: 2 months only, never 12 × $3.75
        assert "plan-2" in ui.ids() and "plan-3" not in ui.ids() and "plan-12" not in ui.ids()
        assert ui.has_text("2 months · $22.50/month") and ui.has_text("Pay $45.00 online")
        await ui.fire(ui.by_id("plan-2"), "select", True)  # the screen's own choice, then the ask
        await ui.click("ask-plan")
        assert await ui.until(lambda: populated_state.records.snapshot.bill("bill_1").payment_plan is not None)  # type: ignore[union-attr]
        assert populated_state.records.snapshot.bill("bill_1").payment_plan.installments == 2  # type: ignore[union-attr]
        assert await ui.until(lambda: ui.has_text("Payment plan requested (2 × $22.50)"))
        assert not ui.has_text("To pay")
        await ui.click("ask-bill-question")  # the bill's own conversation, the composer started on its subject
        assert await ui.until(lambda: populated_state.nav.route.name == "thread")
        key = populated_state.nav.route.arg or ""
        await ui.type("compose", populated_state.drafts.draft(f"compose.{key}") + "Does insurance cover the lab?")
        await ui.click("send")
        assert await ui.until(lambda: populated_state.records.snapshot.thread(key) is not None)

    drive(populated_state, scenario)


def test_lock_now_and_unlock_from_the_lock_screen(populated_state: AppState) -> None:
    async def scenario(ui: ViewHarness) -> None:
        await ui.click("lock-now")
        assert await ui.until(lambda: "unlock" in ui.ids())
        assert not ui.has_text("STI screening")
        await ui.type("passcode", PASSCODE)
        await ui.click("unlock")
        assert await ui.until(lambda: "next-appointment" in ui.ids())

    drive(populated_state, scenario)


def test_request_appointment_from_desktop_rail(populated_state: AppState) -> None:
    async def scenario(ui: ViewHarness) -> None:
        rail = ui.by_id("nav-rail")
        ui.session.apply_patch(rail._i, {"selected_index": 1})
        await ui.fire(rail, "change", None)
        await ui.click("request-appointment")
        await ui.fire(ui.by_id("kind-hiv-test"), "select", True)
        await ui.click("send-request")
        assert await ui.until(lambda: populated_state.records.snapshot.status.pending == 1)
        assert populated_state.nav.route.name == "appointments"
        [entry] = populated_state.records.snapshot.outbox.values()
        assert entry.payload["kind"] == "HIV test"  # the chip picked on the screen

    drive(populated_state, scenario, width=1280)


def test_unlock_uses_the_text_on_screen_even_before_its_change_event(populated_state: AppState) -> None:
    """The browser patches the field's value at once; its change event may be handled after the click."""

    async def scenario(ui: ViewHarness) -> None:
        for _ in range(2):  # unlock, lock, unlock again in the same tab
            await ui.click("lock-now")
            assert await ui.until(lambda: "unlock" in ui.ids())
            ui.session.apply_patch(ui.by_id("passcode")._i, {"value": PASSCODE})  # no change event yet
            await ui.click("unlock")
            assert await ui.until(lambda: "next-appointment" in ui.ids()), ui.texts()

    drive(populated_state, scenario)


def test_an_empty_passcode_is_never_an_attempt(populated_state: AppState) -> None:
    async def scenario(ui: ViewHarness) -> None:
        await ui.click("lock-now")
        assert await ui.until(lambda: "unlock" in ui.ids())
        await ui.click("unlock")
        assert await ui.until(lambda: ui.has_text("Type your passcode."))
        assert populated_state.session.retry_at is None and populated_state.records.vault is None
        await ui.type("passcode", PASSCODE)
        await ui.fire(ui.by_id("passcode"), "submit", PASSCODE)  # Enter
        assert await ui.until(lambda: "next-appointment" in ui.ids())

    drive(populated_state, scenario)


def test_rerender_between_edit_and_change_event_keeps_the_typed_text(populated_state: AppState) -> None:
    """The browser patches ``value`` first and sends ``change`` later; a re-render in between (a live
    sync, a banner) used to send the older draft back and empty the field (the browser test's reveal
    passcode). The text the browser has wins, unless the app itself changed the draft (sent: cleared)."""
    populated_state.nav.go("thread", "general")

    async def scenario(ui: ViewHarness) -> None:
        before = len(ui.conn.messages)
        compose = ui.by_id("compose")
        ui.session.apply_patch(compose._i, {"value": "typed, change event not handled yet"})
        populated_state.records.notify()  # a background re-render of the screen before the change event
        await ui.settle()
        assert ui.by_id("compose").value == "typed, change event not handled yet"
        sent = ui.conn.messages[before:]
        assert not any("'value', ''" in m for m in sent), sent
        await ui.fire(ui.by_id("compose"), "change", "typed, change event not handled yet")
        await ui.click("send")
        assert await ui.until(lambda: ui.by_id("compose").value == "")  # the app cleared it: that is shown

    drive(populated_state, scenario)


def test_check_in_and_change_passcode_send_the_texts_on_screen(populated_state: AppState) -> None:
    state = populated_state
    state.nav.go("checkin", "apt_next")

    async def scenario(ui: ViewHarness) -> None:
        assert ui.by_id("field-checkin.phone").value == "+1 555 0142"  # the profile's details as defaults
        ui.session.apply_patch(ui.by_id("field-checkin.payer")._i, {"value": "Acme Health"})  # no change event yet
        await ui.click("submit-checkin")
        assert await ui.until(lambda: state.records.snapshot.appointment("apt_next").status == "checked_in")  # type: ignore[union-attr]
        entry = next(e for e in state.records.snapshot.outbox.values() if e.type == "checkin.submit")
        assert entry.payload["insurance"] == {"payer": "Acme Health", "member_id": None}
        state.nav.go("settings")
        assert await ui.until(lambda: "change-passcode" in ui.ids())
        for key, text in (("old", PASSCODE), ("new", "a brand new passcode"), ("confirm", "a brand new passcode")):
            await ui.type(f"field-passcode.{key}", text)
        await ui.click("change-passcode")
        assert await ui.until(lambda: ui.has_text("Passcode changed."))
        assert await ui.until(lambda: ui.by_id("field-passcode.new").value == "")  # the app cleared them

    drive(state, scenario)
