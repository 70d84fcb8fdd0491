"""The lock screen speaks the language the patient chose, after a restart too: the code alone is kept
in ``language.txt`` beside the vault (0600, atomic); the vault's copy stays the source of truth."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from companion.i18n import _, language, set_language
from companion.state import AppState
from companion.state.preferences import remember_language, remembered_language
from companion.vault import Vault
from companion.vault.files import LANGUAGE
from tests.fixtures.app_state import PASSCODE


@pytest.fixture
def english_after() -> Iterator[None]:
    yield
    set_language("en")


def _restart(state: AppState) -> AppState:
    """Close the app and start it again over the same vault folder, on an English device."""
    state.session.lock()
    state.shutdown()
    set_language("en")
    again = AppState(state.services)
    again.start()
    return again


def test_a_restart_shows_the_lock_screen_in_the_chosen_language(populated_state: AppState,
                                                                 english_after: None) -> None:
    folder = populated_state.services.vault_dir
    assert not (folder / LANGUAGE).exists()  # nothing chosen yet: no file
    populated_state.prefs.set_language("es")
    kept = folder / LANGUAGE
    assert kept.read_bytes() == b"es" and stat.S_IMODE(kept.stat().st_mode) == 0o600
    again = _restart(populated_state)
    try:
        assert again.session.phase == "locked" and language() == "es"
        assert _("Unlock") == "Desbloquear" and _("Type your passcode.") == "Escriba su código de acceso."
        again.session.unlock(PASSCODE)
        assert again.session.phase == "unlocked" and language() == "es"
        again.prefs.set_language("en")
        assert kept.read_bytes() == b"en"
    finally:
        again.shutdown()


def test_the_vault_is_the_source_of_truth_and_the_file_is_rewritten(populated_state: AppState,
                                                                    english_after: None) -> None:
    folder = populated_state.services.vault_dir
    populated_state.prefs.set_language("es")
    (folder / LANGUAGE).write_bytes(b"en")  # out of step (an old copy, a failed write)
    again = _restart(populated_state)
    try:
        assert language() == "en"  # before unlock only the file is known
        again.session.unlock(PASSCODE)
        assert language() == "es" and (folder / LANGUAGE).read_bytes() == b"es"
    finally:
        again.shutdown()


@pytest.mark.parametrize("garbage", [b"", b"fr", b"\xff\xfe\x00", b"es" * 5000, b"../../etc"])
def test_a_missing_or_garbage_file_falls_back_quietly(populated_state: AppState, english_after: None,
                                                       garbage: bytes) -> None:
    folder = populated_state.services.vault_dir
    (folder / LANGUAGE).write_bytes(garbage)
    assert remembered_language(folder) is None
    again = _restart(populated_state)
    try:
        assert again.session.phase == "locked" and language() == "en" and again.feedback.error is None
        again.session.unlock(PASSCODE)
        assert again.session.phase == "unlocked"
        assert not (folder / LANGUAGE).exists()  # no choice in the vault: the stray file goes
    finally:
        again.shutdown()


def test_a_folder_for_the_file_is_what_reading_and_writing_need(tmp_path: Path) -> None:
    assert remembered_language(tmp_path / "missing") is None
    remember_language(tmp_path / "missing", "es")  # no vault folder yet: nothing written, no error
    assert not (tmp_path / "missing").exists()
    (tmp_path / LANGUAGE).mkdir()  # a directory where the file should be
    assert remembered_language(tmp_path) is None


def test_wiping_the_vault_removes_the_language_file(populated_state: AppState, english_after: None) -> None:
    folder = populated_state.services.vault_dir
    populated_state.prefs.set_language("es")
    populated_state.session.lock()
    populated_state.shutdown()
    Vault.wipe(folder)
    assert not (folder / LANGUAGE).exists()
