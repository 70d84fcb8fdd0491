"""Creating, opening, wiping vaults; passcode policy; KDF parameters; the KeyProvider seam; files on disk."""

from __future__ import annotations

import hashlib
import os
import stat
import time
import unicodedata
from pathlib import Path

import pytest

from companion.core.errors import ConfigError, VaultBusy, VaultExists, VaultNotFound, WeakPasscode, WrongPasscode
from companion.vault import PasscodeKeyProvider, ScryptParams, Vault
from companion.vault.fileformat import parse_file
from companion.vault.keys import KDF_ENV, kdf_from_env
from tests.fixtures.vault import VAULT_PASSCODE, sample_records

FILES = {"vault.pcv", "vault.pcj", "vault.pcv.bak", "vault.pcj.bak", "vault.lock", "unlock-failures.json"}


def test_create_makes_a_private_folder_and_private_files(tmp_path: Path) -> None:
    folder = tmp_path / "deep" / "vault"
    with Vault.create(folder, VAULT_PASSCODE, kdf=ScryptParams.fast()) as vault:
        vault.messages.upsert(sample_records()["message"])  # type: ignore[arg-type]
        assert vault.folder == folder and vault.recovered is False
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {p.name for p in folder.iterdir()} == FILES
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert Vault.exists(folder) and not Vault.exists(tmp_path)


def test_create_refuses_an_existing_vault_and_open_a_missing_one(tmp_path: Path, new_vault: Vault) -> None:
    with pytest.raises(VaultExists):
        Vault.create(new_vault.folder, VAULT_PASSCODE)
    with pytest.raises(VaultNotFound):
        Vault.open(tmp_path / "nowhere", VAULT_PASSCODE)
    (tmp_path / "empty").mkdir()
    with pytest.raises(VaultNotFound):
        Vault.open(tmp_path / "empty", VAULT_PASSCODE)
    assert list((tmp_path / "empty").iterdir()) == []  # a failed open leaves no debris
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize(("passcode", "reason"), [
    ("1234", "at least 8 characters"), ("", "at least 8 characters"), ("aaaaaaaaaa", "one character repeated"),
    ("        ", "only spaces"), ("12345678", "straight run"), ("abcdefghij", "straight run"),
    ("98765432", "straight run"), ("abababab", "short pattern"), ("123123123", "short pattern"),
    ("Password", "most common"), ("qwertyuiop", "most common"),
])
def test_weak_passcodes_are_refused_with_the_reason(tmp_path: Path, passcode: str, reason: str) -> None:
    with pytest.raises(WeakPasscode, match=reason):
        Vault.create(tmp_path / "vault", passcode)
    assert not (tmp_path / "vault").exists()  # refused before touching the disk


def test_passcodes_are_compared_after_unicode_normalisation(tmp_path: Path) -> None:
    composed = unicodedata.normalize("NFC", "crème brûlée 7")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    Vault.create(tmp_path / "v", composed, kdf=ScryptParams.fast()).close()
    Vault.open(tmp_path / "v", decomposed).close()


def test_second_open_is_busy_in_the_same_process(new_vault: Vault) -> None:
    with pytest.raises(VaultBusy, match="open in another Companion window or command"):
        Vault.open(new_vault.folder, VAULT_PASSCODE)
    with pytest.raises(VaultBusy):
        Vault.wipe(new_vault.folder)


def test_wipe_removes_every_vault_file(tmp_path: Path, vault_folder: Path) -> None:
    with Vault.create(vault_folder, VAULT_PASSCODE, kdf=ScryptParams.fast()) as vault:
        vault.messages.upsert(sample_records()["message"])  # type: ignore[arg-type]
    with pytest.raises(WrongPasscode):
        Vault.open(vault_folder, "not the passcode")  # leaves the failure counter
    (vault_folder / ".vault.pcv.0123456789ab.tmp").write_bytes(b"half a write")
    assert (vault_folder / "unlock-failures.json").exists()
    Vault.wipe(vault_folder)
    assert list(vault_folder.iterdir()) == []
    assert not Vault.exists(vault_folder)
    with pytest.raises(VaultNotFound):
        Vault.open(vault_folder, VAULT_PASSCODE)
    Vault.wipe(tmp_path / "never existed")  # nothing to do


def test_stale_temp_files_are_removed_at_open_and_others_are_left_alone(new_vault: Vault) -> None:
    folder = new_vault.folder
    new_vault.close()
    stale = [".vault.pcv.0123456789ab.tmp", ".vault.pcv.bak.abcdefabcdef.tmp", ".unlock-failures.json.000000000000.tmp"]
    for name in stale:
        (folder / name).write_bytes(b"x")
    (folder / "notes.txt").write_text("not ours")
    Vault.open(folder, VAULT_PASSCODE).close()
    assert {p.name for p in folder.iterdir()} == FILES | {"notes.txt"}


def test_a_new_vault_is_sealed_with_the_default_kdf_parameters(tmp_path: Path) -> None:
    """scrypt 2^17, r=8, p=1 (the unlock time they cost is a bench figure: ``make bench``, bench/vault.py)."""
    default = ScryptParams.default()
    assert (default.log2_n, default.r, default.p) == (17, 8, 1)
    Vault.create(tmp_path / "v", VAULT_PASSCODE, kdf=default).close()
    slot = parse_file((tmp_path / "v" / "vault.pcv").read_bytes()).slot
    assert slot.params == default
    started = time.perf_counter()
    Vault.open(tmp_path / "v", VAULT_PASSCODE).close()
    print(f"unlock with the default KDF: {time.perf_counter() - started:.2f} s")


def test_kdf_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KDF_ENV, "10")
    assert kdf_from_env() == ScryptParams(log2_n=14)  # clamped: never weaker than 2^14
    monkeypatch.setenv(KDF_ENV, "15")
    assert kdf_from_env().log2_n == 15
    monkeypatch.setenv(KDF_ENV, "fast")
    with pytest.raises(ConfigError, match=KDF_ENV):
        kdf_from_env()
    monkeypatch.delenv(KDF_ENV)
    assert kdf_from_env() == ScryptParams.default()


def test_create_uses_the_environment_kdf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KDF_ENV, "15")
    Vault.create(tmp_path / "v", VAULT_PASSCODE).close()
    assert parse_file((tmp_path / "v" / "vault.pcv").read_bytes()).slot.params.log2_n == 15


@pytest.mark.parametrize(("params", "name"), [
    ({"log2_n": 13}, "log2_n"), ({"log2_n": 23}, "log2_n"), ({"r": 0}, "r"), ({"r": 33}, "r"),
    ({"p": 0}, "p"), ({"p": 17}, "p"), ({"log2_n": 22, "r": 32}, "MiB"),
])
def test_scrypt_parameters_out_of_bounds_are_refused(params: dict[str, int], name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        ScryptParams(**params)
    assert ScryptParams.fast().log2_n == 14


class DeviceSecretProvider:
    """A KeyProvider that mixes a device secret into the KEK, as an OS-keystore provider would."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        self.calls = 0

    def derive_kek(self, passcode: str, salt: bytes, params: ScryptParams) -> bytes:
        self.calls += 1
        base = PasscodeKeyProvider().derive_kek(passcode, salt, params)
        return hashlib.sha256(self.secret + base).digest()


def test_key_provider_seam(tmp_path: Path) -> None:
    provider = DeviceSecretProvider(os.urandom(32))
    with Vault.create(tmp_path / "v", VAULT_PASSCODE, kdf=ScryptParams.fast(), key_provider=provider) as vault:
        vault.meta.set("k", "v")
        vault.change_passcode(VAULT_PASSCODE, "a brand new passcode", )
    with Vault.open(tmp_path / "v", "a brand new passcode", key_provider=provider) as vault:
        assert vault.meta.get("k") == "v"
    with pytest.raises(WrongPasscode):  # the file alone, without the device secret, is not enough
        Vault.open(tmp_path / "v", "a brand new passcode")
    with pytest.raises(WrongPasscode):
        Vault.open(tmp_path / "v", "a brand new passcode", key_provider=DeviceSecretProvider(b"other"))


def test_a_faulty_key_provider_fails_loudly(tmp_path: Path) -> None:
    class Short:
        def derive_kek(self, passcode: str, salt: bytes, params: ScryptParams) -> bytes:
            return b"short"

    from companion.core.errors import VaultError

    with pytest.raises(VaultError, match="unusable key"):
        Vault.create(tmp_path / "v", VAULT_PASSCODE, key_provider=Short())
    assert not Vault.exists(tmp_path / "v")
