"""Every screen renders from a populated and from an empty vault, through a real in-process Flet session."""

from __future__ import annotations

import pytest

from companion.state import AppState
from tests.fixtures.flet_session import ViewHarness, run_isolated

ROUTES = [("home", None), ("appointments", None), ("appointment", "apt_next"), ("request", None),
          ("checkin", "apt_next"), ("prep", None), ("bills", None), ("bill", "bill_1"), ("results", None),
          ("result", "res_pos"), ("result", "res_neg"), ("messages", None), ("thread", "general"), ("learn", None),
          ("article", "sti-screening"), ("settings", None), ("more", None)]


def _render_all(state: AppState, width: float) -> dict[str, set[str]]:
    async def run() -> dict[str, set[str]]:
        ui = await ViewHarness.start(state, width=width)
        seen: dict[str, set[str]] = {}
        try:
            for name, arg in ROUTES:
                state.nav.go(name, arg)
                await ui.settle()
                ids = ui.ids()
                assert "sync-chip" in ids, (name, arg)  # the status chip is on every screen
                assert ui.session.page.title == "Companion"
                seen[f"{name}:{arg}"] = ids
        finally:
            ui.close()
        return seen

    return run_isolated(run())


@pytest.mark.parametrize("width", [390, 1280])
def test_every_screen_renders_populated(populated_state: AppState, width: float) -> None:
    seen = _render_all(populated_state, width)
    assert ("nav-rail" if width > 840 else "nav-bar") in seen["home:None"]
    assert {"next-appointment", "home-prep", "urgent-help", "clinic-contact"} <= seen["home:None"]
    assert {"confirm", "checkin", "add-calendar", "what-to-expect", "cancel"} <= seen["appointment:apt_next"]
    assert "result-protected" in seen["result:res_pos"]  # sensitive: asks for the passcode first
    assert "interpretation" in seen["result:res_neg"]
    assert {"plan", "billing-question"} <= seen["bill:bill_1"]
    assert {"settings-security", "settings-reminders", "settings-device", "settings-wipe"} <= seen["settings:None"]


def test_every_screen_renders_empty(empty_state: AppState) -> None:
    seen = _render_all(empty_state, 390)
    assert "no-upcoming" in seen["appointments:None"]
    assert "no-results" in seen["results:None"]
    assert "no-messages" in seen["messages:None"]
    assert "no-bills" in seen["bills:None"]
    assert "no-prep" in seen["prep:None"]


def test_onboarding_and_lock_screens(offline_services: object) -> None:
    from companion.state import Services

    assert isinstance(offline_services, Services)
    state = AppState(offline_services)
    state.start()

    async def run() -> None:
        ui = await ViewHarness.start(state)
        try:
            assert {"field-new.passcode", "passcode-strength", "create-passcode"} <= ui.ids()
            assert ui.has_text("Strength: Enter a passcode")
            await ui.type("field-new.passcode", "correct horse 42")
            assert await ui.until(lambda: ui.has_text("Strength: Very strong"))  # the meter follows the typing
            await ui.type("field-new.confirm", "correct horse 42")
            await ui.click("create-passcode")
            assert await ui.until(lambda: state.session.onboarding_step == "pair")
            assert await ui.until(lambda: "pair" in ui.ids())
            state.session.lock()
            assert await ui.until(lambda: "unlock" in ui.ids())
            assert ui.session.page.title == "Companion"
        finally:
            ui.close()
            state.shutdown()

    run_isolated(run())
