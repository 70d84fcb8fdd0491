"""Session intents on a real vault: onboarding, unlock/lock, backoff, auto-lock, passcode re-ask."""

from __future__ import annotations

import time

from companion.state import AppState, Services, passcode_strength
from companion.vault import Vault
from tests.fixtures.app_state import PASSCODE


def test_fresh_device_starts_onboarding_and_refuses_weak_or_mismatched_passcodes(offline_services: Services) -> None:
    state = AppState(offline_services)
    state.start()
    assert (state.phase, state.onboarding_step) == ("onboarding", "passcode")
    state.create_passcode(PASSCODE, PASSCODE + "x")
    assert state.error == "The two passcodes are not the same."
    state.create_passcode("12345678", "12345678")
    assert (state.error and "12345678" not in state.error) or state.error  # the vault says why, in one line
    assert not Vault.exists(offline_services.vault_dir)
    state.create_passcode(PASSCODE, PASSCODE)
    assert state.error is None and state.onboarding_step == "pair"
    state.pair("http://127.0.0.1:9", "ABC-DEF")  # the clinic is unreachable: the step stays, one-line error
    assert state.onboarding_step == "pair" and state.error and "reach" in state.error
    state.shutdown()


def test_strength_meter() -> None:
    assert passcode_strength("")[0] == 0
    score, label, problem = passcode_strength("password")
    assert (score, label) == (0, "Too weak") and problem
    assert passcode_strength("river-sunrise-42")[0] >= 3
    assert passcode_strength("Tr0ub4dor&3-horse-battery")[1] == "Very strong"


def test_lock_forgets_everything_and_unlock_brings_it_back(populated_state: AppState) -> None:
    state = populated_state
    assert state.snapshot.next_appointment is not None
    state.set_draft("compose.general", "half-typed message")
    state.lock()
    assert state.phase == "locked" and state.vault is None
    assert state.snapshot.next_appointment is None and not state.drafts
    state.unlock("wrong passcode!")
    assert state.phase == "locked" and state.error
    state.unlock(PASSCODE)
    assert state.phase == "unlocked" and state.snapshot.next_appointment is not None


def test_backoff_after_five_wrong_passcodes_shows_a_countdown(populated_state: AppState) -> None:
    state = populated_state
    state.lock()
    for _ in range(5):
        state.unlock("not the passcode")
    state.unlock("not the passcode")
    assert state.retry_at is not None and 0 < state.seconds_to_retry() <= 30
    assert state.error and "try again" in state.error
    state.unlock(PASSCODE)  # refused before the KDF runs: the wait is not over
    assert state.phase == "locked"


def test_auto_lock_after_idle(populated_state: AppState) -> None:
    state = populated_state
    state.services.auto_lock_seconds = 0.2
    state.tick()
    assert state.phase == "unlocked"
    time.sleep(0.3)
    state.tick()
    assert state.phase == "locked" and state.vault is None


def test_auto_lock_setting_is_kept_in_the_vault(populated_state: AppState) -> None:
    state = populated_state
    state.set_auto_lock(1)
    assert state.auto_lock_seconds() == 60.0
    state.set_auto_lock(0)
    assert state.auto_lock_seconds() == 0.0
    state.set_auto_lock(999)
    assert state.error and "240" in state.error


def test_sensitive_result_needs_the_passcode_again_and_hides_when_left(populated_state: AppState) -> None:
    state = populated_state
    state.go("result", "res_pos")
    assert "res_pos" not in state.revealed
    state.reveal_result("res_pos", "wrong one!")
    assert state.error == "That passcode is not right." and "res_pos" not in state.revealed
    state.reveal_result("res_pos", PASSCODE)
    assert "res_pos" in state.revealed
    state.go("results")
    assert not state.revealed


def test_five_wrong_reveals_lock_the_app(populated_state: AppState) -> None:
    state = populated_state
    for _ in range(5):
        state.reveal_result("res_pos", "nope nope")
    assert state.phase == "locked"


def test_subscribers_hear_every_intent(populated_state: AppState) -> None:
    seen: list[int] = []
    unsubscribe = populated_state.subscribe(lambda: seen.append(populated_state.version))
    populated_state.go("appointments")
    populated_state.tick_prep("prep_food")
    unsubscribe()
    populated_state.go("home")
    assert len(seen) >= 2 and seen == sorted(seen)  # reminder banners may notify too


# --- several sessions (browser tabs) of one app process share one vault -----------------------


def test_a_second_session_starts_locked_and_must_prove_the_passcode(populated_state: AppState) -> None:
    first = populated_state
    second = AppState(first.services, first.host)
    second.start()
    assert second.phase == "locked" and second.vault is None
    assert second.snapshot.next_appointment is None  # nothing of what the first tab unlocked
    second.unlock("not the passcode")
    assert second.phase == "locked" and second.error and "passcode" in second.error.lower()
    second.unlock(PASSCODE)
    assert second.phase == "unlocked" and second.snapshot.next_appointment is not None
    assert second.vault is first.vault  # one open vault (one file lock) for the process
    second.shutdown()


def test_wrong_passcodes_in_another_session_count_toward_the_vault_lockout(populated_state: AppState) -> None:
    other = AppState(populated_state.services, populated_state.host)
    other.start()
    for _ in range(6):
        other.unlock("not the passcode")
    assert other.retry_at is not None and other.error and "try again" in other.error
    other.unlock(PASSCODE)  # refused before the KDF: the wait runs for every session
    assert other.phase == "locked"


def test_the_vault_closes_only_when_the_last_session_locks(populated_state: AppState) -> None:
    first = populated_state
    second = AppState(first.services, first.host)
    second.start()
    second.unlock(PASSCODE)
    first.lock()
    assert first.vault is None and first.snapshot.next_appointment is None
    assert second.phase == "unlocked" and second.snapshot.next_appointment is not None
    second.shutdown()  # the tab closed
    assert first.host.vault is None
    Vault.open(first.services.vault_dir, PASSCODE).close()  # the file lock is free again


def test_wiping_in_one_session_locks_the_others(populated_state: AppState) -> None:
    first = populated_state
    second = AppState(first.services, first.host)
    second.start()
    second.unlock(PASSCODE)
    first.unpair_and_wipe("WIPE")
    assert second.vault is None and second.phase == "onboarding"
    assert second.toast and "another window" in second.toast
    assert not Vault.exists(first.services.vault_dir)


def test_auto_lock_is_per_session(populated_state: AppState) -> None:
    busy = populated_state
    busy.services.auto_lock_seconds = 60.0
    idle = AppState(busy.services, busy.host)
    idle.start()
    idle.unlock(PASSCODE)
    idle.last_activity -= 120  # two minutes without a tap in that tab only
    idle.tick()
    busy.tick()
    assert idle.phase == "locked" and idle.toast == "Locked after a period of no use."
    assert busy.phase == "unlocked" and busy.snapshot.next_appointment is not None
    assert busy.host.vault is not None  # still held by the busy tab


def test_a_second_tab_cannot_set_up_a_vault_the_first_already_created(offline_services: Services) -> None:
    first = AppState(offline_services)
    first.start()
    second = AppState(offline_services, first.host)
    second.start()  # both opened on a fresh device: both start onboarding
    first.create_passcode(PASSCODE, PASSCODE)
    assert first.vault is not None
    second.create_passcode("another passcode 99", "another passcode 99")
    assert second.vault is None and second.phase == "locked"
    assert second.error and "another window" in second.error
    second.unlock("another passcode 99")  # its own passcode opens nothing
    assert second.phase == "locked"
    second.unlock(PASSCODE)
    assert second.vault is first.vault and second.phase == "onboarding"  # not paired yet: the pairing step
    first.shutdown()
    second.shutdown()
