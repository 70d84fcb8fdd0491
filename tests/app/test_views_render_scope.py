"""Each piece of the app renders for what it shows, and only then (real in-process Flet session, real vault).

A live sync that changes only the sync status redraws the sync chip; a reminder only the banner
slot; a new message the messages screen — and a field being typed in is never rebuilt by any of
them, so its text survives.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import flet as ft

from companion.core.models import Message
from companion.state import AppState
from tests.fixtures.app_state import reminders_shown
from tests.fixtures.flet_session import ViewHarness, drive


def _clinic_writes(state: AppState, body: str) -> None:
    """What a sync page from the clinic does: a record lands in the vault, then the session is told."""
    vault = state.records.require_vault()
    vault.messages.upsert(Message(id=f"msg_{len(body)}", thread="general", author="clinic", body=body,
                                  sent_at=datetime.now(UTC), author_name="Front desk"))
    state.vault_synced()


def test_a_sync_status_change_renders_the_chip_and_not_the_screen(populated_state: AppState) -> None:
    state = populated_state
    reminders_shown(state)  # the reminder thread's first banners would render the banner slot in a window below
    state.nav.go("messages")

    async def scenario(ui: ViewHarness) -> None:
        with ui.renders() as counts:  # a live sync: the loop connected, "Offline" becomes a sync time
            state.vault_live_state("idle", None)
            assert await ui.until(lambda: counts["SyncChip"] >= 1)
            await ui.settle()
        assert set(counts) == {"SyncChip"}, counts  # not the shell, the screen, the banner slot

        with ui.renders() as counts:  # a reminder
            state.vault_banner("Appointment tomorrow", "10:30 at Riverside Clinic")
            assert await ui.until(lambda: "banner" in ui.ids())
            await ui.settle()
        assert set(counts) == {"BannerSlot"}, counts

        with ui.renders() as counts:  # a sync page with a new message from the clinic
            _clinic_writes(state, "Your results are ready to view.")
            assert await ui.until(lambda: ui.has_text("Your results are ready to view."))
            await ui.settle()
        assert counts["MessagesScreen"] >= 1
        assert not {"App", "SyncChip", "BannerSlot"} & set(counts), counts

        screen = ui.rendered("MessagesScreen")
        with ui.renders() as counts:  # the idle clock ticks every second
            for _ in range(3):
                state.tick()
            await ui.settle()
        assert not counts and ui.rendered("MessagesScreen") is screen, counts

    drive(state, scenario)


def test_typed_text_survives_live_updates(populated_state: AppState) -> None:
    state = populated_state
    state.nav.go("thread", "general")

    async def scenario(ui: ViewHarness) -> None:
        before = len(ui.conn.messages)
        await ui.type("compose", "Can I come in earlier")
        field = ui.by_id("compose")
        ui.session.apply_patch(field._i, {"value": "Can I come in earlier on Friday?"})  # no change event yet
        with ui.renders() as counts:
            state.vault_live_state("idle", None)  # a live sync: the status changed
            state.vault_banner("Appointment tomorrow", "10:30")  # a reminder
            _clinic_writes(state, "We open at 8 on Fridays.")  # a new message in this very thread
            assert await ui.until(lambda: ui.has_text("We open at 8 on Fridays."))
            await ui.settle()
        assert counts["ThreadScreen"] >= 1  # the thread rendered again around the field...
        assert counts["_TextInput"] == 0 and ui.by_id("compose") is field, counts  # ...which was not rebuilt
        assert field.value == "Can I come in earlier on Friday?"
        sent = ui.conn.messages[before:]
        assert not any("'value', ''" in m for m in sent), sent
        await ui.click("send")
        assert await ui.until(lambda: ui.by_id("compose").value == "")  # sent: the app cleared it
        assert any(m.body == "Can I come in earlier on Friday?"
                   for m in state.records.snapshot.thread("general").messages)  # type: ignore[union-attr]

    drive(state, scenario)


def test_a_setting_renders_settings_and_only_the_theme_renders_the_shell(populated_state: AppState) -> None:
    state = populated_state
    state.nav.go("settings")

    async def scenario(ui: ViewHarness) -> None:
        with ui.renders() as counts:
            state.prefs.set_quiet_hours("22:00-07:00")
            assert await ui.until(lambda: counts["SettingsScreen"] >= 1)
            await ui.settle()
        assert "App" not in counts and "SyncChip" not in counts, counts
        with ui.renders() as counts:
            state.prefs.set_theme("dark")
            assert await ui.until(lambda: counts["App"] >= 1)
            await ui.settle()
        assert ui.session.page.theme_mode == ft.ThemeMode.DARK

    drive(state, scenario)


def test_a_field_moved_by_a_sync_keeps_the_text_the_browser_has(populated_state: AppState) -> None:
    """A sync that removes a card above a field moves the field: keyed by its identifier
    (companion/ui/kit.py tid), it is the same control in its new place, with the text the browser held,
    not the older draft of the last change event. (Matched by position, it was built anew there and
    companion/ui/field_text.py gave it the browser's text back.)"""
    state = populated_state
    state.nav.go("appointment", "apt_next")

    async def scenario(ui: ViewHarness) -> None:
        await ui.click("cancel")
        assert await ui.until(lambda: "field-cancel.reason" in ui.ids())
        await ui.type("field-cancel.reason", "I have")
        ui.session.apply_patch(ui.by_id("field-cancel.reason")._i, {"value": "I have a cold"})  # no event yet
        before = ui.by_id("field-cancel.reason")
        vault = state.records.require_vault()
        with vault.batch():  # the clinic dropped the prep steps: no prep card above any more
            for step in state.records.snapshot.prep_for("apt_next"):
                vault.prep.delete(step.id)
        state.vault_synced()
        assert await ui.until(lambda: "appointment-prep" not in ui.ids())
        assert ui.by_id("field-cancel.reason") is before  # moved, not built anew...
        assert ui.by_id("field-cancel.reason").value == "I have a cold"  # ...with what was typed

    drive(state, scenario)


def test_a_change_the_closing_tab_never_draws_leaves_nothing_behind(populated_state: AppState) -> None:
    """A sync that lands while the tab's loop is closing: the loop is open when the screen hears of it,
    and closes without running what it was handed. Nothing may be left half made (``page.run_task``
    made the re-render's coroutine before the loop had it: three "never awaited" warnings, the desk's
    phone test in CI, one run in many)."""
    state = populated_state
    state.nav.go("messages")

    def closing_tab() -> list[str]:  # in a thread of its own: Playwright's sync API leaves a loop running here
        loop = asyncio.new_event_loop()
        try:
            ui = loop.run_until_complete(ViewHarness.start(state))
            assert ui.has_text(state.records.snapshot.thread("general").messages[-1].body[:20])  # type: ignore[union-attr]
            pending = asyncio.all_tasks(loop)  # what asyncio.run does at the end: cancel the session's tasks
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                _clinic_writes(state, "Your results are ready to view.")  # heard with the loop open, not running
                loop.close()  # it never runs again: what it was handed is dropped
                gc.collect()
            return [str(w.message) for w in caught]
        finally:
            if not loop.is_closed():
                loop.close()

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(closing_tab).result(timeout=60) == []
