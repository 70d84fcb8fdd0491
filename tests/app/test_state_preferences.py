"""Settings intents on a real vault: reminders, theme, exports, passcode change, wipe; the Learn library."""

from __future__ import annotations

import json
import stat

from companion.state import AppState, LearnLibrary
from companion.state.formatting import before_text, countdown, money, sync_summary
from companion.vault import Vault
from tests.fixtures.app_state import PASSCODE


def test_reminder_settings_round_trip_and_bad_values_are_named(populated_state: AppState) -> None:
    state = populated_state
    state.prefs.set_discreet(False)
    state.prefs.set_quiet_hours("23:00-06:30")
    state.prefs.set_reminder_leads("48h, 1h")
    rs = state.prefs.reminder_settings()
    assert (rs.discreet, rs.leads_minutes) == (False, (2880, 60))
    state.prefs.set_quiet_hours("late")
    assert state.feedback.error and "quiet_hours" in state.feedback.error


def test_theme_setting(populated_state: AppState) -> None:
    assert populated_state.prefs.theme() == "system"
    populated_state.prefs.set_theme("dark")
    assert populated_state.prefs.theme() == "dark"
    populated_state.prefs.set_theme("purple")
    assert populated_state.feedback.error


def test_exports_are_private_files(populated_state: AppState) -> None:
    state = populated_state
    state.prefs.export("ics")
    folder = state.services.export_dir
    assert folder is not None
    ics = folder / "appointments.ics"
    assert ics.read_bytes().startswith(b"BEGIN:VCALENDAR") and stat.S_IMODE(ics.stat().st_mode) == 0o600
    state.prefs.export("fhir")
    assert json.loads((folder / "records-fhir.json").read_text())["resourceType"] == "Bundle"
    state.prefs.export_appointment("apt_next")
    assert (folder / "appointment-apt_next.ics").exists() and "Calendar file saved" in (state.feedback.toast or "")


def test_change_passcode_then_unlock_with_the_new_one(populated_state: AppState) -> None:
    state = populated_state
    state.session.change_passcode(PASSCODE, "a brand new passcode", "a brand new passcode")
    assert state.feedback.error is None and state.feedback.toast == "Passcode changed."
    state.session.lock()
    state.session.unlock(PASSCODE)
    assert state.session.phase == "locked"
    state.session.unlock("a brand new passcode")
    assert state.session.phase == "unlocked"


def test_unpair_and_wipe_needs_the_word_and_removes_the_vault(populated_state: AppState) -> None:
    state = populated_state
    state.session.unpair_and_wipe("yes")
    assert state.feedback.error and Vault.exists(state.services.vault_dir)
    state.session.unpair_and_wipe("WIPE")
    assert state.session.phase == "onboarding" and not Vault.exists(state.services.vault_dir)


def test_sync_now_offline_reports_one_line(populated_state: AppState) -> None:
    populated_state.sync.sync_now()
    assert populated_state.feedback.toast  # the live loop is nudged; the chip says offline
    text, tone = sync_summary(True, "offline", "offline", None, 2, populated_state.now())
    assert (text, tone) == ("Offline · never synced · 2 waiting to send", "offline")


def test_learn_library_ships_the_promised_articles() -> None:
    lib = LearnLibrary.builtin()
    ids = {a.id for a in lib.articles}
    assert {"sti-screening", "which-test", "window-periods", "how-results-reach-you", "costs-and-insurance",
            "your-privacy", "partner-notification"} <= ids
    found = lib.for_visit("Sexual health screening")
    assert found is not None and found.id == "sti-screening"


def test_formatting() -> None:
    assert money(4500) == "$45.00" and money(123456) == "$1,234.56"
    assert before_text(720) == "12 h before" and before_text(90) == "1 h 30 min before"
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert countdown(now + timedelta(hours=20), now) == "in 20 h"
    assert countdown(now - timedelta(days=3), now) == "3 days ago"
