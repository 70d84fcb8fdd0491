"""Tampering and damage are always detected, and a good previous generation is used when there is one.

The main file of a small vault gets every single byte flipped in turn, and is
truncated at many lengths. With the previous generation present the vault must
open with exactly the previous generation's data and ``recovered``; without it,
opening must fail with a Companion error — never return data, never raise
anything else.
"""

from __future__ import annotations

import os
import secrets
import shutil
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from companion.core.errors import CompanionError, VaultCorrupted, WrongPasscode
from companion.core.models import Message
from companion.vault import ScryptParams, Vault
from companion.vault.fileformat import HEADER_SIZE, KEY_SLOT_SIZE, MIN_FILE_SIZE
from tests.fixtures.vault import T0, VAULT_PASSCODE, sample_records

MAIN, BAK = "vault.pcv", "vault.pcv.bak"


@dataclass(frozen=True)
class Generations:
    main: bytes  # holds state 2
    bak: bytes  # holds state 1


def _state(vault: Vault) -> tuple[object, ...]:
    return (vault.meta.get("n"), tuple(vault.messages.all()))


STATE_1 = (1, (Message(id="m", thread="t", author="clinic", body="first", sent_at=T0),))


@pytest.fixture(scope="module")
def generations(tmp_path_factory: pytest.TempPathFactory) -> Generations:
    folder = tmp_path_factory.mktemp("pristine") / "vault"
    with Vault.create(folder, VAULT_PASSCODE, kdf=ScryptParams.fast()) as vault, vault.batch():
        vault.meta.set("n", 1)
        vault.messages.upsert(STATE_1[1][0])
    with Vault.open(folder, VAULT_PASSCODE) as vault:
        assert _state(vault) == STATE_1
        vault.meta.set("n", 2)
    return Generations((folder / MAIN).read_bytes(), (folder / BAK).read_bytes())


@pytest.fixture
def place(tmp_path: Path) -> Iterator[object]:
    """Writes given main/bak bytes into a fresh folder each call (no failure counter carried over)."""
    folder = tmp_path / "vault"

    def _place(main: bytes | None, bak: bytes | None) -> Path:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        for name, data in ((MAIN, main), (BAK, bak)):
            if data is not None:
                (folder / name).write_bytes(data)
        return folder

    yield _place


def _flip(blob: bytes, position: int, mask: int = 0x01) -> bytes:
    return blob[:position] + bytes([blob[position] ^ mask]) + blob[position + 1:]


def _open_expecting_previous(folder: Path, what: str) -> None:
    try:
        vault = Vault.open(folder, VAULT_PASSCODE)
    except CompanionError as error:
        pytest.fail(f"{what}: not recovered from the previous generation: {type(error).__name__}: {error}")
    with vault:
        assert vault.recovered, what
        assert _state(vault) == STATE_1, what


def _open_expecting_refusal(folder: Path, what: str) -> CompanionError:
    try:
        vault = Vault.open(folder, VAULT_PASSCODE)
    except CompanionError as error:
        return error
    vault.close()
    pytest.fail(f"{what}: a damaged vault opened")


def test_every_flipped_byte_of_the_main_file_falls_back_to_the_previous_generation(
        generations: Generations, place: object) -> None:
    assert len(generations.main) < 600  # small enough to try every byte
    for position in range(len(generations.main)):
        folder = place(_flip(generations.main, position), generations.bak)  # type: ignore[operator]
        _open_expecting_previous(folder, f"byte {position} flipped")
        if position % 50 == 0:
            with Vault.open(folder, VAULT_PASSCODE) as vault:  # the main file was repaired at the recovery
                assert not vault.recovered and _state(vault) == STATE_1


# One position in every field of the layout (see companion/vault/fileformat.py), flipped two ways.
FIELDS = {"magic": 0, "version": 7, "kdf id": 8, "log2_n": 9, "r": 10, "p": 11, "salt": 20, "wrap nonce": 30,
          "wrapped key": 50, "wrapped key tag": KEY_SLOT_SIZE - 1, "data nonce": 95, "ciphertext": HEADER_SIZE + 3,
          "tag": -1}


@pytest.mark.parametrize("mask", [0x01, 0xFF])
@pytest.mark.parametrize("field", FIELDS)
def test_a_flipped_byte_without_a_previous_generation_is_refused(
        generations: Generations, place: object, field: str, mask: int) -> None:
    position = FIELDS[field] % len(generations.main)
    folder = place(_flip(generations.main, position, mask), None)  # type: ignore[operator]
    error = _open_expecting_refusal(folder, field)
    # Header damage that changes the key derivation looks like a wrong passcode (it cannot be told
    # apart without the previous generation); everything else is reported as damage.
    if position >= KEY_SLOT_SIZE or field in ("magic", "version", "kdf id"):
        assert isinstance(error, VaultCorrupted), (field, error)
    else:
        assert isinstance(error, WrongPasscode | VaultCorrupted), (field, error)


TRUNCATIONS = [0, 1, 6, 7, 8, 12, 27, 40, 87, 88, 99, 100, MIN_FILE_SIZE - 1, MIN_FILE_SIZE, 130, -16, -2, -1]


@pytest.mark.parametrize("length", TRUNCATIONS)
def test_truncated_main_file(generations: Generations, place: object, length: int) -> None:
    cut = generations.main[:length]
    _open_expecting_previous(place(cut, generations.bak), f"truncated to {length}")  # type: ignore[operator]
    error = _open_expecting_refusal(place(cut, None), f"truncated to {length}")  # type: ignore[operator]
    assert isinstance(error, VaultCorrupted)


def test_missing_or_garbage_main_file_uses_the_previous_generation(generations: Generations, place: object) -> None:
    _open_expecting_previous(place(None, generations.bak), "main missing")  # type: ignore[operator]
    _open_expecting_previous(place(os.urandom(len(generations.main)), generations.bak), "garbage")  # type: ignore[operator]
    # Both generations share the key slot; .bak's data nonce on main's ciphertext must not pass.
    spliced = generations.bak[:HEADER_SIZE] + generations.main[HEADER_SIZE:]
    _open_expecting_previous(place(spliced, generations.bak), "spliced header")  # type: ignore[operator]


def test_damage_in_both_generations_is_vault_corrupted(generations: Generations, place: object) -> None:
    main, bak = _flip(generations.main, HEADER_SIZE + 1), _flip(generations.bak, len(generations.bak) - 1)
    error = _open_expecting_refusal(place(main, bak), "both damaged")  # type: ignore[operator]
    assert isinstance(error, VaultCorrupted) and "previous copy" in str(error)
    # The key of the main file was tampered and the data of .bak: the passcode is proven right
    # by .bak's key slot, so this is damage, not a wrong passcode.
    error = _open_expecting_refusal(place(_flip(generations.main, 50), bak), "key and data")  # type: ignore[operator]
    assert isinstance(error, VaultCorrupted)
    for blobs in ((os.urandom(300), os.urandom(300)), (b"", b""), (b"PCVAULT", None)):
        error = _open_expecting_refusal(place(*blobs), "garbage")  # type: ignore[operator]
        assert isinstance(error, VaultCorrupted)


def test_damaged_previous_generation_does_not_matter_while_main_is_good(
        generations: Generations, place: object) -> None:
    folder = place(generations.main, generations.bak[:10])  # type: ignore[operator]
    with Vault.open(folder, VAULT_PASSCODE) as vault:
        assert not vault.recovered and vault.meta.get("n") == 2


def test_wrong_passcode_with_a_damaged_main_file_is_still_wrong(generations: Generations, place: object) -> None:
    folder = place(_flip(generations.main, 50), generations.bak)  # type: ignore[operator]
    with pytest.raises(WrongPasscode):
        Vault.open(folder, "definitely not it")


@pytest.mark.parametrize(("offset", "value", "name"), [
    (9, 13, "log2_n"), (9, 23, "log2_n"), (9, 255, "log2_n"), (10, 0, "r"), (10, 33, "r"), (11, 0, "p"), (11, 17, "p"),
])
def test_kdf_parameters_out_of_bounds_are_named(generations: Generations, place: object, offset: int, value: int,
                                               name: str) -> None:
    blob = generations.main[:offset] + struct.pack("B", value) + generations.main[offset + 1:]
    error = _open_expecting_refusal(place(blob, None), name)  # type: ignore[operator]
    assert isinstance(error, VaultCorrupted) and f"{name}={value}" in str(error)
    _open_expecting_previous(place(blob, generations.bak), name)  # type: ignore[operator]


def test_a_weakened_kdf_in_the_header_is_refused(generations: Generations, place: object) -> None:
    """Lowering the cost within bounds changes the KEK: the unwrap fails instead of a cheap unlock."""
    main = generations.main[:9] + bytes([15]) + generations.main[10:]  # 2^14 -> 2^15 (still in bounds)
    assert isinstance(_open_expecting_refusal(place(main, None), "kdf"), WrongPasscode)  # type: ignore[operator]


def test_no_plaintext_reaches_the_disk(new_vault: Vault) -> None:
    canary = f"canary-{secrets.token_hex(12)}"
    with new_vault.batch():
        for kind, record in sample_records(canary).items():
            new_vault.repo(kind).upsert(record)
    for i in range(3):  # single writes too, so temps and both generations were all exercised
        new_vault.messages.upsert(Message(id=f"c{i}", thread="general", author="patient",
                                          body=f"I think I have symptoms {canary}", sent_at=T0))
    new_vault.meta.set("settings.note", canary)
    new_vault.meta.set(f"sync.{canary}", [canary, {"deep": canary}])
    new_vault.change_passcode(VAULT_PASSCODE, "another passcode 9")
    new_vault.close()
    with pytest.raises(WrongPasscode):
        Vault.open(new_vault.folder, canary)  # a wrong passcode is not logged in the failure counter either
    names = sorted(p.name for p in new_vault.folder.iterdir())
    assert names == ["unlock-failures.json", "vault.lock", "vault.pcv", "vault.pcv.bak"]
    needle = canary.encode()
    for path in new_vault.folder.iterdir():
        assert needle not in path.read_bytes(), path.name
        assert canary not in path.name
