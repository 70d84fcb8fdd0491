"""The patient CLI's vault commands as a user runs them: real processes, real vault on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PASS = "correct-horse-7"


def run(vault: Path, *args: str, passcode: str | None = PASS, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("COMPANION_")}
    full_env.update(COMPANION_KDF_LOG2N="14", **env)
    if passcode is not None:
        full_env["COMPANION_PASSCODE"] = passcode
    return subprocess.run(
        [sys.executable, "-m", "companion.cli", "--vault", str(vault), *args],
        capture_output=True,
        text=True,
        env=full_env,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.fixture()
def vault(tmp_path: Path) -> Path:
    folder = tmp_path / "vault"
    proc = run(folder, "init")
    assert proc.returncode == 0, proc.stderr
    return folder


@pytest.mark.parametrize("what", ["appointments", "prep", "bills", "results", "messages", "articles", "outbox"])
def test_show_json_of_a_new_vault_is_an_empty_list(vault: Path, what: str) -> None:
    proc = run(vault, "show", what, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_show_status_carries_the_contract_keys(vault: Path) -> None:
    status = json.loads(run(vault, "show", "status", "--json").stdout)
    assert status["pending"] == 0
    assert status["last_sync"] is None
    assert status["device_id"] is None
    assert status["paired"] is False


def test_wrong_passcode_is_one_line_and_non_zero(vault: Path) -> None:
    line = one_line_error(run(vault, "show", "messages", passcode="not-the-passcode"))
    assert "wrong passcode" in line


def test_short_passcode_is_refused_with_the_reason(tmp_path: Path) -> None:
    line = one_line_error(run(tmp_path / "v", "init", passcode="1234"))
    assert "8 characters" in line
    assert not (tmp_path / "v").exists() or not any((tmp_path / "v").iterdir())


def test_init_twice_refuses_and_keeps_the_vault(vault: Path) -> None:
    one_line_error(run(vault, "init", passcode="another-passcode"))
    assert run(vault, "show", "status", "--json").returncode == 0


def test_show_without_a_vault_says_to_init(tmp_path: Path) -> None:
    assert "companion init" in one_line_error(run(tmp_path / "none", "show", "bills"))


def test_no_passcode_and_no_terminal_is_a_clear_error(vault: Path) -> None:
    assert "COMPANION_PASSCODE" in one_line_error(run(vault, "show", "bills", passcode=None))


def test_passcode_change_then_only_the_new_one_unlocks(vault: Path) -> None:
    proc = run(vault, "passcode", "change", COMPANION_NEW_PASSCODE="battery-staple-9")
    assert proc.returncode == 0, proc.stderr
    assert "wrong passcode" in one_line_error(run(vault, "show", "bills"))
    assert run(vault, "show", "bills", passcode="battery-staple-9").returncode == 0


def test_passcode_change_with_a_weak_new_one_changes_nothing(vault: Path) -> None:
    one_line_error(run(vault, "passcode", "change", COMPANION_NEW_PASSCODE="short"))
    assert run(vault, "show", "bills").returncode == 0


def test_wipe_needs_confirmation_then_removes_everything(vault: Path) -> None:
    assert "--yes" in one_line_error(run(vault, "wipe", passcode=None))
    assert any(vault.iterdir())
    proc = run(vault, "wipe", "--yes", passcode=None)
    assert proc.returncode == 0, proc.stderr
    assert not vault.exists() or not any(vault.iterdir())


def test_bad_arguments_get_usage_and_exit_2(vault: Path) -> None:
    proc = run(vault, "show", "everything")
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_default_vault_folder_follows_env_then_the_packaged_app_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    from companion.cli.common import default_vault_dir

    monkeypatch.setenv("COMPANION_VAULT", "/somewhere/v")
    assert default_vault_dir() == Path("/somewhere/v")
    monkeypatch.delenv("COMPANION_VAULT")
    monkeypatch.setenv("FLET_APP_STORAGE_DATA", "/data/app/support")
    assert default_vault_dir() == Path("/data/app/support/vault")


def test_android_vault_lives_in_the_no_backup_folder() -> None:
    from companion.cli.common import _android_no_backup_dir

    assert _android_no_backup_dir(Path("/data/user/0/org.pc.app/files/flet")) == Path(
        "/data/user/0/org.pc.app/no_backup"
    )
    assert _android_no_backup_dir(Path("/elsewhere/data")) == Path("/elsewhere/data")
