"""Wrong passcodes, the failed-unlock backoff (with an injected clock), and changing the passcode."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from companion.core.errors import LockedOut, VaultError, WeakPasscode, WrongPasscode
from companion.vault import PasscodeKeyProvider, ScryptParams, Vault
from companion.vault.fileformat import parse_file
from tests.fixtures.vault import VAULT_PASSCODE, FakeClock, sample_records

WRONG = "definitely not it"
NEW = "a brand new passcode"


class CountingProvider(PasscodeKeyProvider):
    """Counts KDF runs, to prove a refused attempt never reaches the KDF."""

    def __init__(self) -> None:
        self.calls = 0

    def derive_kek(self, passcode: str, salt: bytes, params: ScryptParams) -> bytes:
        self.calls += 1
        return super().derive_kek(passcode, salt, params)


def _files(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in ("vault.pcv", "vault.pcv.bak")}


@pytest.fixture
def filled(new_vault: Vault) -> Path:
    for kind, record in sample_records().items():
        new_vault.repo(kind).upsert(record)
    new_vault.close()
    return new_vault.folder


def test_wrong_passcode_is_refused_and_changes_nothing(filled: Path) -> None:
    before = _files(filled)
    with pytest.raises(WrongPasscode, match="4 more tries"):
        Vault.open(filled, WRONG)
    assert _files(filled) == before
    with Vault.open(filled, VAULT_PASSCODE) as vault:
        assert vault.messages.get("msg_1") == sample_records()["message"]


def test_backoff_after_five_failures_survives_restarts(filled: Path, vault_clock: FakeClock) -> None:
    provider = CountingProvider()

    def attempt(passcode: str) -> Vault:
        return Vault.open(filled, passcode, key_provider=provider, clock=vault_clock)

    for _ in range(5):
        with pytest.raises(WrongPasscode):
            attempt(WRONG)
    calls = provider.calls
    for passcode in (WRONG, VAULT_PASSCODE):  # even the right passcode waits; every call is a new Vault
        with pytest.raises(LockedOut) as caught:
            attempt(passcode)
        assert caught.value.retry_after == pytest.approx(30)
    assert provider.calls == calls  # refused before the KDF
    vault_clock.advance(29)
    with pytest.raises(LockedOut) as caught:
        attempt(VAULT_PASSCODE)
    assert caught.value.retry_after == pytest.approx(1)
    vault_clock.advance(1)
    with pytest.raises(WrongPasscode, match="try again in 60 s"):  # one more try is allowed
        attempt(WRONG)
    with pytest.raises(LockedOut) as caught:
        attempt(VAULT_PASSCODE)
    assert caught.value.retry_after == pytest.approx(60)
    for wait in (60, 300, 900, 3600, 3600):
        vault_clock.advance(wait)
        with pytest.raises(WrongPasscode):
            attempt(WRONG)
        with pytest.raises(LockedOut) as caught:
            attempt(WRONG)
        assert caught.value.retry_after == pytest.approx({60: 300, 300: 900}.get(wait, 3600))
    vault_clock.advance(3600)
    attempt(VAULT_PASSCODE).close()  # success resets the counter (to zero: the file stays, see below)
    assert json.loads((filled / "unlock-failures.json").read_bytes())["failures"] == 0
    for _ in range(5):
        with pytest.raises(WrongPasscode):
            attempt(WRONG)
    with pytest.raises(LockedOut):
        attempt(VAULT_PASSCODE)


def test_backoff_survives_a_new_process(filled: Path) -> None:
    for _ in range(5):
        with pytest.raises(WrongPasscode):
            Vault.open(filled, WRONG)
    code = ("import sys\nfrom companion.vault import Vault\nfrom companion.core.errors import LockedOut\n"
            "try:\n    Vault.open(sys.argv[1], sys.argv[2])\nexcept LockedOut as e:\n"
            "    print('locked', round(e.retry_after))\n")
    out = subprocess.run([sys.executable, "-c", code, str(filled), VAULT_PASSCODE], capture_output=True,
                         text=True, timeout=60, check=True).stdout.split()
    assert out[0] == "locked" and 25 <= int(out[1]) <= 30


def test_clock_moved_back_restarts_the_wait_instead_of_growing_it(filled: Path, vault_clock: FakeClock) -> None:
    for _ in range(5):
        with pytest.raises(WrongPasscode):
            Vault.open(filled, WRONG, clock=vault_clock)
    vault_clock.advance(-86_400)
    with pytest.raises(LockedOut) as caught:
        Vault.open(filled, VAULT_PASSCODE, clock=vault_clock)
    assert caught.value.retry_after == pytest.approx(30)
    vault_clock.advance(30)
    Vault.open(filled, VAULT_PASSCODE, clock=vault_clock).close()


def test_a_damaged_failure_counter_does_not_buy_free_attempts(filled: Path, vault_clock: FakeClock) -> None:
    (filled / "unlock-failures.json").write_text("{garbage")
    with pytest.raises(WrongPasscode):
        Vault.open(filled, WRONG, clock=vault_clock)
    with pytest.raises(LockedOut):
        Vault.open(filled, VAULT_PASSCODE, clock=vault_clock)
    state = json.loads((filled / "unlock-failures.json").read_text())
    assert state["failures"] == 6


def test_change_passcode_old_unlocks_nothing_afterwards(filled: Path) -> None:
    with Vault.open(filled, VAULT_PASSCODE) as vault:
        vault.change_passcode(VAULT_PASSCODE, NEW)
        vault.meta.set("after", 1)  # the vault keeps working under the new wrapping
    main, bak = (parse_file((filled / n).read_bytes()) for n in ("vault.pcv", "vault.pcv.bak"))
    assert main.slot == bak.slot  # .bak was rewritten with the new wrapping too
    with pytest.raises(WrongPasscode):
        Vault.open(filled, VAULT_PASSCODE)
    with Vault.open(filled, NEW) as vault:
        assert vault.meta.get("after") == 1 and vault.messages.get("msg_1") is not None
    (filled / "vault.pcv").unlink()  # only the previous generation is left
    with pytest.raises(WrongPasscode):
        Vault.open(filled, VAULT_PASSCODE)
    with Vault.open(filled, NEW) as vault:
        assert vault.recovered and vault.messages.get("msg_1") is not None


def test_change_passcode_refusals(new_vault: Vault, vault_clock: FakeClock) -> None:
    before = _files(new_vault.folder)
    with pytest.raises(WeakPasscode, match="at least 8"):
        new_vault.change_passcode(VAULT_PASSCODE, "short")
    with pytest.raises(WrongPasscode, match="4 more tries"):
        new_vault.change_passcode(WRONG, NEW)
    with pytest.raises(VaultError, match="inside a batch"), new_vault.batch():
        new_vault.change_passcode(VAULT_PASSCODE, NEW)
    assert _files(new_vault.folder) == before
    for _ in range(4):  # failures here count like failed unlocks
        with pytest.raises(WrongPasscode):
            new_vault.change_passcode(WRONG, NEW)
    with pytest.raises(LockedOut):
        new_vault.change_passcode(VAULT_PASSCODE, NEW)
