"""Tampering and damage are always detected; the vault then opens at the last state it can prove.

A small vault is built with every kind of file in play: a base holding state 1
(``vault.pcv``), a journal with the frames of states 2 and 3 (``vault.pcj``), and
the previous generation (``vault.pcv.bak``: the empty base, ``vault.pcj.bak``:
the frame of state 1). Then every single byte of the base and of the journal is
flipped in turn, and both are truncated at every length:

- a damaged base: the previous base with both journals (their frames form one
  chain) gives back state 3 in full, with ``recovered``; with no previous
  generation the open fails with a Companion error — never returns data;
- a damaged frame: the vault opens at the state before it, with ``recovered``
  and the reason in ``recovery``; the journal is then replaced by a new base;
- a journal cut inside a frame: the torn frame is dropped (what a crash mid-append
  leaves: it was never acknowledged) and the open says ``dropped_torn_frame``;
  cut at a frame boundary it is an older copy of the file: the generation is
  lower than the one the vault reached, which the rollback check at sync compares
  (``tests/sync/test_sync_rollback.py``).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from companion.core.errors import CompanionError, LockedOut, VaultCorrupted, WrongPasscode
from companion.core.models import Message
from companion.vault import ScryptParams, Vault
from companion.vault.fileformat import HEADER_SIZE, KEY_SLOT_SIZE
from companion.vault.journal import FRAME_PREFIX, JOURNAL_HEADER, scan
from tests.fixtures.vault import T0, VAULT_PASSCODE, sample_records
from tests.support.remembered_keys import REMEMBERED

NAMES = ("vault.pcv", "vault.pcj", "vault.pcv.bak", "vault.pcj.bak", "unlock-failures.json")
Place = Callable[..., Path]


def _msg(body: str) -> Message:
    return Message(id="m", thread="t", author="clinic", body=body, sent_at=T0)


STATES = {0: (None, ()), 1: (1, (_msg("first"),)), 2: (2, (_msg("first"),)), 3: (3, (_msg("third"),))}


def _state(vault: Vault) -> tuple[object, ...]:
    return (vault.meta.get("n"), tuple(vault.messages.all()))


@dataclass(frozen=True)
class Files:
    blobs: dict[str, bytes]
    frame_ends: list[int]  # offsets in vault.pcj after frames 2 and 3

    def with_(self, **changes: bytes | None) -> dict[str, bytes | None]:
        out: dict[str, bytes | None] = dict(self.blobs)
        out.update({name.replace("_", "."): blob for name, blob in changes.items()})
        return out


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    folder = tmp_path_factory.mktemp("pristine") / "vault"
    with Vault.create(folder, VAULT_PASSCODE, kdf=ScryptParams.fast()) as vault:
        with vault.batch():
            vault.meta.set("n", 1)
            vault.messages.upsert(_msg("first"))
        vault.compact()
        vault.meta.set("n", 2)
    with Vault.open(folder, VAULT_PASSCODE) as vault:
        assert _state(vault) == STATES[2] and vault.generation == 2
        with vault.batch():
            vault.meta.set("n", 3)
            vault.messages.upsert(_msg("third"))
    blobs = {name: (folder / name).read_bytes() for name in NAMES}
    journal = scan(blobs["vault.pcj"])
    assert [f.generation for f in journal.frames] == [2, 3] and not journal.torn and not journal.problem
    assert [f.generation for f in scan(blobs["vault.pcj.bak"]).frames] == [1]
    assert len(blobs["vault.pcv"]) < 400 and len(blobs["vault.pcj"]) < 400  # small enough to try every byte
    return Files(blobs, [f.end for f in journal.frames])


@pytest.fixture
def place(tmp_path: Path) -> Place:
    """Writes the given files into a fresh folder each call (no failure counter carried over)."""
    folder = tmp_path / "vault"

    def _place(blobs: dict[str, bytes | None]) -> Path:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        for name, data in blobs.items():
            if data is not None:
                (folder / name).write_bytes(data)
        return folder

    return _place


def _flip(blob: bytes, position: int, mask: int = 0x01) -> bytes:
    return blob[:position] + bytes([blob[position] ^ mask]) + blob[position + 1:]


def _open(folder: Path, what: str) -> Vault:
    try:
        return Vault.open(folder, VAULT_PASSCODE, key_provider=REMEMBERED)
    except CompanionError as error:
        pytest.fail(f"{what}: did not open at a provable state: {type(error).__name__}: {error}")


def _expect(folder: Path, what: str, state: int, *, recovered: bool) -> None:
    with _open(folder, what) as vault:
        assert _state(vault) == STATES[state], what
        assert vault.recovered is recovered and bool(vault.recovery) is recovered, (what, vault.recovery)
        assert vault.generation == state, what
    with _open(folder, what) as vault:  # the damage was replaced by a new base at the recovery
        assert _state(vault) == STATES[state] and not vault.recovered, what


def _refused(folder: Path, what: str) -> CompanionError:
    try:
        vault = Vault.open(folder, VAULT_PASSCODE, key_provider=REMEMBERED)
    except CompanionError as error:
        return error
    vault.close()
    pytest.fail(f"{what}: a damaged vault opened")


def test_the_pristine_files_open_at_the_newest_state(files: Files, place: Place) -> None:
    with _open(place(files.blobs), "pristine") as vault:
        assert _state(vault) == STATES[3] and not vault.recovered and not vault.dropped_torn_frame


def test_every_flipped_byte_of_the_base_falls_back_to_the_previous_generation_with_nothing_lost(
        files: Files, place: Place) -> None:
    base = files.blobs["vault.pcv"]
    for position in range(len(base)):
        folder = place(files.with_(vault_pcv=_flip(base, position)))
        with _open(folder, f"base byte {position}") as vault:
            assert vault.recovered and _state(vault) == STATES[3], position
        if position % 40 == 0:
            with _open(folder, "after repair") as vault:
                assert not vault.recovered and _state(vault) == STATES[3]


def test_every_flipped_byte_of_the_journal_opens_at_the_state_before_the_damage(
        files: Files, place: Place) -> None:
    journal = files.blobs["vault.pcj"]
    second_starts = files.frame_ends[0]
    for position in range(len(journal)):
        state = 1 if position < second_starts else 2
        _expect(place(files.with_(vault_pcj=_flip(journal, position))), f"journal byte {position}", state,
                recovered=True)


@pytest.mark.parametrize("mask", [0x80, 0xFF])
def test_a_damaged_length_is_damage_never_a_torn_frame(files: Files, place: Place, mask: int) -> None:
    journal = files.blobs["vault.pcj"]
    for field in range(8):  # length and its complement, of the first frame
        _expect(place(files.with_(vault_pcj=_flip(journal, len(JOURNAL_HEADER) + field, mask))),
                f"length byte {field}", 1, recovered=True)


def test_every_truncation_of_the_journal_is_a_torn_frame_or_an_older_copy(files: Files, place: Place) -> None:
    journal = files.blobs["vault.pcj"]
    boundaries = {len(JOURNAL_HEADER): 1, files.frame_ends[0]: 2, files.frame_ends[1]: 3}
    for length in range(len(journal) + 1):
        folder = place(files.with_(vault_pcj=journal[:length]))
        if length < len(JOURNAL_HEADER):
            _expect(folder, f"journal cut to {length}", 1, recovered=True)  # the header itself is damaged
            continue
        with _open(folder, f"journal cut to {length}") as vault:
            older = max(gen for end, gen in boundaries.items() if end <= length)
            assert _state(vault) == STATES[older] and vault.generation == older and not vault.recovered, length
            assert vault.dropped_torn_frame is (length not in boundaries), length
            assert vault.generation < 3 or length == len(journal)  # what the rollback check sees


def test_every_truncation_of_the_base_falls_back_with_nothing_lost(files: Files, place: Place) -> None:
    base = files.blobs["vault.pcv"]
    for length in range(len(base)):
        with _open(place(files.with_(vault_pcv=base[:length])), f"base cut to {length}") as vault:
            assert vault.recovered and _state(vault) == STATES[3], length
    error = _refused(place(files.with_(vault_pcv=base[:50], vault_pcv_bak=None)), "both bases")
    assert isinstance(error, VaultCorrupted)


def test_frames_cannot_be_dropped_reordered_replayed_or_spliced(files: Files, place: Place) -> None:
    journal = files.blobs["vault.pcj"]
    head, (end2, end3) = len(JOURNAL_HEADER), files.frame_ends
    frame2, frame3 = journal[head:end2], journal[end2:end3]
    cases = {
        "second frame dropped": (JOURNAL_HEADER + frame3, 1),
        "frames swapped": (JOURNAL_HEADER + frame3 + frame2, 1),
        "a frame replayed": (journal + frame2, 3),
        "a frame appended twice": (journal + frame3, 3),
        "the previous journal's frame spliced in": (journal + files.blobs["vault.pcj.bak"][head:], 3),
    }
    for what, (blob, state) in cases.items():
        _expect(place(files.with_(vault_pcj=blob)), what, state, recovered=True)
    moved = _flip(frame2, 8 + 7)  # generation 2 -> 3: its tag no longer matches
    _expect(place(files.with_(vault_pcj=JOURNAL_HEADER + moved + frame3)), "generation changed", 1, recovered=True)


def test_a_frame_of_another_vault_is_refused(files: Files, place: Place, tmp_path: Path) -> None:
    other = tmp_path / "other"
    with Vault.create(other, VAULT_PASSCODE, kdf=ScryptParams.fast()) as vault:
        vault.meta.set("n", 99)
    foreign = (other / "vault.pcj").read_bytes()[len(JOURNAL_HEADER):]
    _expect(place(files.with_(vault_pcj=files.blobs["vault.pcj"] + foreign)), "foreign frame", 3, recovered=True)


def test_a_zero_filled_tail_is_a_torn_frame(files: Files, place: Place) -> None:
    """A power cut can leave an append's new size with its data never written."""
    for size in (1, FRAME_PREFIX, 300):
        folder = place(files.with_(vault_pcj=files.blobs["vault.pcj"] + bytes(size)))
        with _open(folder, f"{size} zero bytes") as vault:
            assert _state(vault) == STATES[3] and not vault.recovered and vault.dropped_torn_frame
            vault.meta.set("n", 4)  # the tail was cut off before this append
        with _open(folder, "after") as vault:
            assert vault.meta.get("n") == 4 and not vault.dropped_torn_frame


def test_a_missing_journal_is_reported(files: Files, place: Place) -> None:
    _expect(place(files.with_(vault_pcj=None)), "journal missing", 1, recovered=True)


def test_without_the_previous_generation_a_damaged_base_is_refused(files: Files, place: Place) -> None:
    base = files.blobs["vault.pcv"]
    fields = {"magic": 0, "version": 7, "kdf id": 8, "log2_n": 9, "salt": 20, "wrapped key": 50,
              "generation": KEY_SLOT_SIZE + 7, "chain tag": KEY_SLOT_SIZE + 9, "data nonce": HEADER_SIZE - 1,
              "ciphertext": HEADER_SIZE + 3, "tag": len(base) - 1}
    for field, position in fields.items():
        error = _refused(place(files.with_(vault_pcv=_flip(base, position), vault_pcv_bak=None)), field)
        if position >= KEY_SLOT_SIZE or field in ("magic", "version", "kdf id"):
            assert isinstance(error, VaultCorrupted), (field, error)
        else:  # a changed key derivation looks like a wrong passcode without a previous generation
            assert isinstance(error, WrongPasscode | VaultCorrupted), (field, error)


def test_damage_in_both_generations_is_vault_corrupted(files: Files, place: Place) -> None:
    main, bak = files.blobs["vault.pcv"], files.blobs["vault.pcv.bak"]
    both = files.with_(vault_pcv=_flip(main, HEADER_SIZE + 1), vault_pcv_bak=_flip(bak, len(bak) - 1))
    error = _refused(place(both), "both damaged")
    assert isinstance(error, VaultCorrupted) and "previous copy" in str(error)
    for blobs in ((os.urandom(300), os.urandom(300)), (b"", b""), (b"PCVAULT", None)):
        error = _refused(place({"vault.pcv": blobs[0], "vault.pcv.bak": blobs[1]}), "garbage")
        assert isinstance(error, VaultCorrupted)


def test_a_damaged_previous_generation_does_not_matter_while_the_base_is_good(files: Files, place: Place) -> None:
    folder = place(files.with_(vault_pcv_bak=b"junk", vault_pcj_bak=b"junk"))
    with _open(folder, "bak damaged") as vault:
        assert not vault.recovered and _state(vault) == STATES[3]


def test_wrong_passcode_with_a_damaged_base_is_still_wrong(files: Files, place: Place) -> None:
    with pytest.raises(WrongPasscode):
        Vault.open(place(files.with_(vault_pcv=_flip(files.blobs["vault.pcv"], 50))), "definitely not it")


def test_deleting_the_failure_counter_does_not_reset_it(files: Files, place: Place) -> None:
    folder = place(files.blobs)
    for _ in range(5):
        with pytest.raises(WrongPasscode):
            Vault.open(folder, "definitely not it")
    (folder / "unlock-failures.json").unlink()
    with pytest.raises(LockedOut) as caught:
        Vault.open(folder, VAULT_PASSCODE)
    assert caught.value.retry_after >= 3600 - 5  # deleting it costs the longest wait, from now


def test_no_plaintext_reaches_the_disk(new_vault: Vault) -> None:
    canary = f"canary-{secrets.token_hex(12)}"
    with new_vault.batch():
        for kind, record in sample_records(canary).items():
            new_vault.repo(kind).upsert(record)
    for i in range(3):  # single writes too, and a compaction, so every file was exercised
        new_vault.messages.upsert(Message(id=f"c{i}", thread="general", author="patient",
                                          body=f"I think I have symptoms {canary}", sent_at=T0))
    new_vault.compact()
    new_vault.meta.set("settings.note", canary)
    new_vault.meta.set(f"sync.{canary}", [canary, {"deep": canary}])
    new_vault.change_passcode(VAULT_PASSCODE, "another passcode 9")
    new_vault.meta.set("after", canary)
    new_vault.close()
    with pytest.raises(WrongPasscode):
        Vault.open(new_vault.folder, canary)  # a wrong passcode is not logged in the failure counter either
    names = sorted(p.name for p in new_vault.folder.iterdir())
    assert names == ["unlock-failures.json", "vault.lock", "vault.pcj", "vault.pcj.bak", "vault.pcv", "vault.pcv.bak"]
    needle = canary.encode()
    for path in new_vault.folder.iterdir():
        assert needle not in path.read_bytes(), path.name
        assert canary not in path.name
