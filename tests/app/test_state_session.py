"""Session intents on a real vault: onboarding, unlock/lock, backoff, auto-lock, passcode re-ask."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from companion.state import AppState, Services, passcode_strength
from companion.vault import Vault
from tests.fixtures.app_state import PASSCODE, reminders_shown
from tests.support.waiting import wait_until


def test_fresh_device_starts_onboarding_and_refuses_weak_or_mismatched_passcodes(offline_services: Services) -> None:
    state = AppState(offline_services)
    state.start()
    assert (state.session.phase, state.session.onboarding_step) == ("onboarding", "passcode")
    state.session.create_passcode(PASSCODE, PASSCODE + "x")
    assert state.feedback.error == "The two passcodes are not the same."
    state.session.create_passcode("12345678", "12345678")
    error = state.feedback.error
    assert (error and "12345678" not in error) or error  # the vault says why, in one line
    assert not Vault.exists(offline_services.vault_dir)
    state.session.create_passcode(PASSCODE, PASSCODE)
    assert state.feedback.error is None and state.session.onboarding_step == "pair"
    state.session.pair("http://127.0.0.1:9", "ABC-DEF")  # the clinic is unreachable: the step stays, one-line error
    assert state.session.onboarding_step == "pair" and state.feedback.error and "reach" in state.feedback.error
    state.shutdown()


def test_strength_meter() -> None:
    assert passcode_strength("")[0] == 0
    score, label, problem = passcode_strength("password")
    assert (score, label) == (0, "Too weak") and problem
    assert passcode_strength("river-sunrise-42")[0] >= 3
    assert passcode_strength("Tr0ub4dor&3-horse-battery")[1] == "Very strong"


def test_lock_forgets_everything_and_unlock_brings_it_back(populated_state: AppState) -> None:
    state = populated_state
    assert state.records.snapshot.next_appointment is not None
    state.drafts.set_draft("compose.general", "half-typed message")
    state.session.lock()
    assert state.session.phase == "locked" and state.records.vault is None
    assert state.records.snapshot.next_appointment is None and not state.drafts.drafts
    state.session.unlock("wrong passcode!")
    assert state.session.phase == "locked" and state.feedback.error
    state.session.unlock(PASSCODE)
    assert state.session.phase == "unlocked" and state.records.snapshot.next_appointment is not None


def test_backoff_after_five_wrong_passcodes_shows_a_countdown(populated_state: AppState) -> None:
    state = populated_state
    state.session.lock()
    for _ in range(5):
        state.session.unlock("not the passcode")
    state.session.unlock("not the passcode")
    assert state.session.retry_at is not None and 0 < state.session.seconds_to_retry() <= 30
    assert state.feedback.error and "try again" in state.feedback.error
    state.session.unlock(PASSCODE)  # refused before the KDF runs: the wait is not over
    assert state.session.phase == "locked"


def test_auto_lock_after_idle(populated_state: AppState) -> None:
    state = populated_state
    state.services.auto_lock_seconds = 0.2
    state.tick()
    assert state.session.phase == "unlocked"

    def locked_by_a_tick() -> bool:  # ticks are not activity: the 0.2 s run out while the app ticks
        state.tick()
        return state.session.phase == "locked"

    assert wait_until(locked_by_a_tick, 5) and state.records.vault is None


def test_auto_lock_setting_is_kept_in_the_vault(populated_state: AppState) -> None:
    state = populated_state
    state.prefs.set_auto_lock(1)
    assert state.prefs.auto_lock_seconds() == 60.0
    state.prefs.set_auto_lock(0)
    assert state.prefs.auto_lock_seconds() == 0.0
    state.prefs.set_auto_lock(999)
    assert state.feedback.error and "240" in state.feedback.error


def test_sensitive_result_needs_the_passcode_again_and_hides_when_left(populated_state: AppState) -> None:
    state = populated_state
    state.nav.go("result", "res_pos")
    assert "res_pos" not in state.reveal.revealed
    state.reveal.reveal_result("res_pos", "wrong one!")
    assert state.feedback.error == "That passcode is not right." and "res_pos" not in state.reveal.revealed
    state.reveal.reveal_result("res_pos", PASSCODE)
    assert "res_pos" in state.reveal.revealed
    state.nav.go("results")
    assert not state.reveal.revealed


def test_five_wrong_reveals_lock_the_app(populated_state: AppState) -> None:
    state = populated_state
    for _ in range(5):
        state.reveal.reveal_result("res_pos", "nope nope")
    assert state.session.phase == "locked"


def test_each_part_notifies_only_for_what_it_holds(populated_state: AppState) -> None:
    state = populated_state
    reminders_shown(state)  # the reminder thread's first banners (CI: one landed between two steps below)
    heard: list[str] = []
    parts = {"session": state.session, "nav": state.nav, "records": state.records, "sync": state.sync,
             "banners": state.banners, "prefs": state.prefs, "appearance": state.prefs.appearance}

    def hear(name: str) -> Callable[[], None]:
        return lambda: heard.append(name)

    stops = [part.subscribe(hear(name)) for name, part in parts.items()]
    try:
        state.vault_live_state("idle", None)  # what the live loop reports: the sync status alone
        assert set(heard) == {"sync"}
        heard.clear()
        state.vault_synced()  # a sync page that brought nothing new: no list renders again
        assert "records" not in heard and "session" not in heard and "nav" not in heard
        heard.clear()
        state.vault_banner("Appointment tomorrow", "10:30")
        assert heard == ["banners"] and state.banners.items[-1].title == "Appointment tomorrow"
        heard.clear()
        state.nav.go("appointments")
        assert heard == ["nav"]
        heard.clear()
        state.prep.tick("prep_food")  # a record changed (and the sync status: one more waiting to send)
        assert set(heard) == {"records", "sync"}
        heard.clear()
        vault = state.records.require_vault()
        entry = vault.outbox.all()[0]
        vault.outbox.upsert(dataclasses.replace(entry, attempts=entry.attempts + 1, last_error="offline"))
        state.vault_synced()  # a push failed: the command still waits, nothing on screen changed
        assert "records" not in heard
        heard.clear()
        state.prefs.set_quiet_hours("22:00-07:00")
        assert heard == ["prefs"]  # the shell does not hear it
        heard.clear()
        state.prefs.set_theme("dark")
        assert heard == ["prefs", "appearance"]
    finally:
        for stop in stops:
            stop()


def test_the_auto_lock_rule_is_read_once(populated_state: AppState) -> None:
    from companion.state.preferences import auto_lock_minutes

    state = populated_state
    assert state.prefs.auto_lock_minutes() == auto_lock_minutes(state.records.vault, state.services.profile)
    state.prefs.set_auto_lock(5)
    state.services.auto_lock_seconds = None
    assert state.prefs.auto_lock_seconds() == 300.0
    state.ctx.last_activity -= 299
    state.tick()
    assert state.session.phase == "unlocked"
    state.ctx.last_activity -= 2
    state.tick()
    assert state.session.phase == "locked"


# --- several sessions (browser tabs) of one app process share one vault -----------------------


def test_a_second_session_starts_locked_and_must_prove_the_passcode(populated_state: AppState) -> None:
    first = populated_state
    second = AppState(first.services, first.host)
    second.start()
    assert second.session.phase == "locked" and second.records.vault is None
    assert second.records.snapshot.next_appointment is None  # nothing of what the first tab unlocked
    second.session.unlock("not the passcode")
    assert second.session.phase == "locked" and second.feedback.error and "passcode" in second.feedback.error.lower()
    second.session.unlock(PASSCODE)
    assert second.session.phase == "unlocked" and second.records.snapshot.next_appointment is not None
    assert second.records.vault is first.records.vault  # one open vault (one file lock) for the process
    second.shutdown()


def test_wrong_passcodes_in_another_session_count_toward_the_vault_lockout(populated_state: AppState) -> None:
    other = AppState(populated_state.services, populated_state.host)
    other.start()
    for _ in range(6):
        other.session.unlock("not the passcode")
    assert other.session.retry_at is not None and other.feedback.error and "try again" in other.feedback.error
    other.session.unlock(PASSCODE)  # refused before the KDF: the wait runs for every session
    assert other.session.phase == "locked"


def test_the_vault_closes_only_when_the_last_session_locks(populated_state: AppState) -> None:
    first = populated_state
    second = AppState(first.services, first.host)
    second.start()
    second.session.unlock(PASSCODE)
    first.session.lock()
    assert first.records.vault is None and first.records.snapshot.next_appointment is None
    assert second.session.phase == "unlocked" and second.records.snapshot.next_appointment is not None
    second.shutdown()  # the tab closed
    assert first.host.vault is None
    Vault.open(first.services.vault_dir, PASSCODE).close()  # the file lock is free again


def test_wiping_in_one_session_locks_the_others(populated_state: AppState) -> None:
    first = populated_state
    second = AppState(first.services, first.host)
    second.start()
    second.session.unlock(PASSCODE)
    first.session.unpair_and_wipe("WIPE")
    assert second.records.vault is None and second.session.phase == "onboarding"
    assert second.feedback.toast and "another window" in second.feedback.toast
    assert not Vault.exists(first.services.vault_dir)


def test_auto_lock_is_per_session(populated_state: AppState) -> None:
    busy = populated_state
    busy.services.auto_lock_seconds = 60.0
    idle = AppState(busy.services, busy.host)
    idle.start()
    idle.session.unlock(PASSCODE)
    idle.ctx.last_activity -= 120  # two minutes without a tap in that tab only
    idle.tick()
    busy.tick()
    assert idle.session.phase == "locked" and idle.feedback.toast == "Locked after a period of no use."
    assert busy.session.phase == "unlocked" and busy.records.snapshot.next_appointment is not None
    assert busy.host.vault is not None  # still held by the busy tab


def test_a_second_tab_cannot_set_up_a_vault_the_first_already_created(offline_services: Services) -> None:
    first = AppState(offline_services)
    first.start()
    second = AppState(offline_services, first.host)
    second.start()  # both opened on a fresh device: both start onboarding
    first.session.create_passcode(PASSCODE, PASSCODE)
    assert first.records.vault is not None
    second.session.create_passcode("another passcode 99", "another passcode 99")
    assert second.records.vault is None and second.session.phase == "locked"
    assert second.feedback.error and "another window" in second.feedback.error
    second.session.unlock("another passcode 99")  # its own passcode opens nothing
    assert second.session.phase == "locked"
    second.session.unlock(PASSCODE)
    assert second.records.vault is first.records.vault
    assert second.session.phase == "onboarding"  # not paired yet: the pairing step
    first.shutdown()
    second.shutdown()
