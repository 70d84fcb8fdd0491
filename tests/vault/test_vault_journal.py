"""The journal's life: background compaction, crash states of a new base, key rotation, migration from format 1.

Crash states are built from real files: the files before and after a compaction
(or a passcode change, or a migration) are combined the way a crash between two
renames leaves them, and every combination must open with everything that was
committed.
"""

from __future__ import annotations

import gc
import json
import secrets
import shutil
import threading
from collections.abc import Mapping
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from companion.core.errors import WrongPasscode
from companion.core.models import Message
from companion.vault import PasscodeKeyProvider, ScryptParams, Vault
from companion.vault.compaction import MIN_JOURNAL_BYTES
from companion.vault.fileformat import KeySlot, parse_file
from companion.vault.journal import JOURNAL_HEADER, scan
from tests.fixtures.vault import T0, VAULT_PASSCODE
from tests.support.waiting import wait_until

NEW = "a brand new passcode"
NAMES = ("vault.pcv", "vault.pcj", "vault.pcv.bak", "vault.pcj.bak")


def _msg(i: int | str, body: str = "hello") -> Message:
    return Message(id=f"m{i}", thread="general", author="clinic", body=body, sent_at=T0)


def _files(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in NAMES if (folder / name).exists()}


def _place(folder: Path, blobs: dict[str, bytes], counter: bytes | None = None) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, data in blobs.items():
        (folder / name).write_bytes(data)
    (folder / "unlock-failures.json").write_bytes(counter or b'{"failures": 0, "last_failure": 0.0}')
    return folder


def test_the_journal_is_compacted_in_the_background_while_writes_go_on(new_vault: Vault) -> None:
    storage = new_vault._storage
    body = "x" * 2000
    i = 0
    while storage.compactor.count == 0:
        new_vault.messages.upsert(_msg(i % 50, f"{i}:{body}"))
        i += 1
        assert i < 5000, "no compaction happened"
    report = storage.last_compaction
    assert report is not None and report.background and report.base_bytes > 0
    assert report.locked_seconds <= report.seconds
    assert report.journal_bytes > MIN_JOURNAL_BYTES
    # The journal holds only what came after the new base; a reopen reads everything.
    expected = {m.id: m.body for m in new_vault.messages.all()}
    generation = new_vault.generation
    new_vault.close()
    with Vault.open(new_vault.folder, VAULT_PASSCODE) as vault:
        assert {m.id: m.body for m in vault.messages.all()} == expected and vault.generation == generation
        assert parse_file((vault.folder / "vault.pcv").read_bytes()).generation <= generation


def test_writes_from_threads_during_compactions_are_all_kept(new_vault: Vault) -> None:
    def writer(name: str) -> None:
        for i in range(150):
            new_vault.messages.upsert(_msg(f"{name}{i % 30}", f"{i}:" + "y" * 3000))

    threads = [threading.Thread(target=writer, args=(name,)) for name in "abc"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert new_vault._storage.compactor.count > 0 and not new_vault._storage.compactor.error
    expected = {m.id: m.body for m in new_vault.messages.all()}
    assert len(expected) == 90
    new_vault.close()
    with Vault.open(new_vault.folder, VAULT_PASSCODE) as vault:
        assert {m.id: m.body for m in vault.messages.all()} == expected


def test_every_crash_state_of_a_compaction_keeps_every_commit(new_vault: Vault, tmp_path: Path) -> None:
    for i in range(10):
        new_vault.messages.upsert(_msg(i, f"before {i}"))
    before = _files(new_vault.folder)
    new_vault.compact()
    after = _files(new_vault.folder)
    assert after["vault.pcj"] == JOURNAL_HEADER and after["vault.pcj.bak"] == before["vault.pcj"]
    new_vault.messages.upsert(_msg("late", "after the compaction"))
    latest = _files(new_vault.folder)
    expected = {m.id: m.body for m in new_vault.messages.all()}
    new_vault.close()
    states = {
        "renamed the .bak pair only": {**before, "vault.pcv.bak": before["vault.pcv"],
                                       "vault.pcj.bak": before["vault.pcj"]},
        "new base, old journal": {**after, "vault.pcj": before["vault.pcj"]},
        "new base, old journal, then a frame was appended": {**latest, "vault.pcj": before["vault.pcj"]},
    }
    for what, blobs in states.items():
        with Vault.open(_place(tmp_path / "v", blobs), VAULT_PASSCODE) as vault:
            bodies = {m.id: m.body for m in vault.messages.all()}
            want = expected if "appended" in what else {k: v for k, v in expected.items() if k != "mlate"}
            if "appended" in what:  # the late frame went to the new journal: this pairing never exists on disk
                continue
            assert bodies == want and not vault.recovered, what
    # The current base lost: the previous base and both journals still hold everything.
    with Vault.open(_place(tmp_path / "v", {**latest, "vault.pcv": b"garbage"}), VAULT_PASSCODE) as vault:
        assert {m.id: m.body for m in vault.messages.all()} == expected and vault.recovered


def test_a_passcode_change_rotates_the_data_key(new_vault: Vault, tmp_path: Path) -> None:
    new_vault.messages.upsert(_msg(1, "before the change"))
    old_files = _files(new_vault.folder)
    old_slot = parse_file(old_files["vault.pcv"]).slot
    new_vault.change_passcode(VAULT_PASSCODE, NEW)
    changed = _files(new_vault.folder)
    new_slot = parse_file(changed["vault.pcv"]).slot
    assert new_slot.salt != old_slot.salt
    kdf = PasscodeKeyProvider()
    old_dek = old_slot.unwrap(kdf.derive_kek(VAULT_PASSCODE, old_slot.salt, old_slot.params))
    new_dek = new_slot.unwrap(kdf.derive_kek(NEW, new_slot.salt, new_slot.params))
    assert old_dek != new_dek  # not a re-wrap: a new data key
    new_vault.messages.upsert(_msg(2, "after the change"))
    new_vault.close()
    latest = _files(new_vault.folder)
    # An old copy of the base with the new journal: the old passcode opens nothing written after the change.
    copy = _place(tmp_path / "copy", {"vault.pcv": old_files["vault.pcv"], "vault.pcj": latest["vault.pcj"]})
    with Vault.open(copy, VAULT_PASSCODE) as vault:
        assert "after the change" not in [m.body for m in vault.messages.all()] and vault.recovered
    with pytest.raises(WrongPasscode):
        Vault.open(new_vault.folder, VAULT_PASSCODE)
    # Crash states of the change: .bak pair replaced first, then the base, then the journal.
    halfway = {**old_files, "vault.pcv.bak": changed["vault.pcv.bak"], "vault.pcj.bak": changed["vault.pcj.bak"]}
    for passcode in (VAULT_PASSCODE, NEW):
        with Vault.open(_place(tmp_path / "v", halfway), passcode) as vault:
            assert [m.body for m in vault.messages.all()] == ["before the change"]
    base_only = {**changed, "vault.pcj": old_files["vault.pcj"]}
    with Vault.open(_place(tmp_path / "v", base_only), NEW) as vault:
        assert [m.body for m in vault.messages.all()] == ["before the change"] and not vault.recovered
    with pytest.raises(WrongPasscode):
        Vault.open(_place(tmp_path / "v", base_only), VAULT_PASSCODE)


def _format_1_vault(folder: Path, document: Mapping[str, Mapping[str, object]]) -> bytes:
    """A vault file exactly as format 1 wrote it: key slot (version 1) + nonce + AES-GCM(document), one file."""
    params, salt, dek = ScryptParams.fast(), secrets.token_bytes(16), AESGCM.generate_key(bit_length=256)
    kek = PasscodeKeyProvider().derive_kek(VAULT_PASSCODE, salt, params)
    nonce = secrets.token_bytes(12)
    wrapped = AESGCM(kek).encrypt(nonce, dek, KeySlot.wrap_aad(params, salt, nonce, version=1))
    header = KeySlot(params, salt, nonce, wrapped, version=1).to_bytes() + (data_nonce := secrets.token_bytes(12))
    blob = header + AESGCM(dek).encrypt(data_nonce, json.dumps(document, separators=(",", ":")).encode(), header)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vault.pcv").write_bytes(blob)
    (folder / "vault.pcv.bak").write_bytes(blob)
    return blob


def test_a_format_1_vault_migrates_on_first_open(tmp_path: Path) -> None:
    doc = {"message": {"m1": _msg(1, "from format 1").to_dict()}, "meta": {"sync.cursor": {"value": "c9"}}}
    folder = tmp_path / "old"
    v1 = _format_1_vault(folder, doc)
    assert not (folder / "unlock-failures.json").exists()  # format 1 had none until a failure
    with Vault.open(folder, VAULT_PASSCODE) as vault:
        assert not vault.recovered and vault.messages.get("m1") == _msg(1, "from format 1")
        assert vault.meta.get("sync.cursor") == "c9"
        vault.messages.upsert(_msg(2, "after the migration"))
    for name in ("vault.pcv", "vault.pcv.bak"):
        assert parse_file((folder / name).read_bytes()).slot.version == 2
    assert [f.generation for f in scan((folder / "vault.pcj").read_bytes()).frames] == [1]
    with Vault.open(folder, VAULT_PASSCODE) as vault:
        assert [m.id for m in vault.messages.all()] == ["m1", "m2"]
    # Crash states of the migration (.bak pair first, then the journal, then the base): each still opens.
    migrated = _files(folder)
    for what, blobs in {
        "nothing renamed": {"vault.pcv": v1, "vault.pcv.bak": v1},
        ".bak pair renamed": {"vault.pcv": v1, "vault.pcv.bak": migrated["vault.pcv.bak"],
                              "vault.pcj.bak": migrated["vault.pcj.bak"]},
        "journal renamed": {"vault.pcv": v1, "vault.pcv.bak": migrated["vault.pcv.bak"],
                            "vault.pcj.bak": migrated["vault.pcj.bak"], "vault.pcj": JOURNAL_HEADER},
    }.items():
        with Vault.open(_place(tmp_path / "v", blobs), VAULT_PASSCODE) as vault:
            assert vault.messages.get("m1") == _msg(1, "from format 1") and not vault.recovered, what


def test_the_generation_only_grows(new_vault: Vault) -> None:
    seen = [new_vault.generation]
    new_vault.messages.upsert(_msg(1))
    seen.append(new_vault.generation)
    with new_vault.batch():
        new_vault.messages.upsert(_msg(2))
        new_vault.messages.upsert(_msg(3))
    seen.append(new_vault.generation)
    new_vault.compact()
    seen.append(new_vault.generation)
    new_vault.change_passcode(VAULT_PASSCODE, NEW)
    new_vault.messages.delete("m1")
    seen.append(new_vault.generation)
    assert seen == [0, 1, 2, 2, 3]
    new_vault.close()
    with Vault.open(new_vault.folder, NEW) as vault:
        assert vault.generation == 3


def test_a_failing_background_compaction_never_fails_a_write(new_vault: Vault) -> None:
    folder, storage = new_vault.folder, new_vault._storage
    (folder / "vault.pcv.bak").unlink()
    (folder / "vault.pcv.bak").mkdir()  # rotating the generation fails (EISDIR), even as root
    i = 0
    while not storage.compactor.error:
        new_vault.messages.upsert(_msg(i % 40, f"{i}:" + "z" * 3000))
        i += 1
        assert i < 3000, "no compaction was attempted"
    assert wait_until(lambda: not storage.compactor.running, 20, step=0.01), "the compaction never finished"
    assert storage.compactor.count == 0 and "IsADirectoryError" in storage.compactor.error
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]  # its temp files were removed
    (folder / "vault.pcv.bak").rmdir()
    while storage.compactor.count == 0:  # retried once the journal grew by another MIN_JOURNAL_BYTES
        new_vault.messages.upsert(_msg(i % 40, f"{i}:" + "z" * 3000))
        i += 1
        assert i < 6000, "the compaction was never retried"
    expected = {m.id: m.body for m in new_vault.messages.all()}
    new_vault.close()
    with Vault.open(folder, VAULT_PASSCODE) as vault:
        assert {m.id: m.body for m in vault.messages.all()} == expected and not vault.recovered


def test_a_dropped_vault_stops_its_compaction(vault_folder: Path) -> None:
    vault = Vault.create(vault_folder, VAULT_PASSCODE, kdf=ScryptParams.fast())
    with vault.batch():
        vault.messages.upsert_many(_msg(i, "w" * 3000) for i in range(600))  # ~2 MB: a compaction is due
    thread = vault._storage.compactor._thread
    assert thread is not None
    del vault  # never closed
    gc.collect()
    assert not thread.is_alive()
    with Vault.open(vault_folder, VAULT_PASSCODE) as reopened:
        assert reopened.messages.count() == 600


def test_a_deferred_run_of_commits_is_compacted_once_at_its_end(new_vault: Vault) -> None:
    """A first sync's pages: no compaction while they grow the vault, one after, and every commit kept."""
    storage = new_vault._storage
    body = "z" * 2000
    with new_vault.deferred_compaction():
        with new_vault.deferred_compaction():  # nests (a pull inside a longer bulk write)
            for page in range(40):
                with new_vault.batch():
                    new_vault.messages.upsert_many([_msg(f"{page}-{i}", body) for i in range(20)])
        assert storage.compactor.due() and not storage.compactor.running
        assert storage.compactor.count == 0
        frames = new_vault.generation
    assert frames >= 40
    assert wait_until(lambda: storage.compactor.count == 1 and not storage.compactor.running, 20, step=0.01)
    assert not storage.compactor.error and storage.last_compaction is not None
    assert storage.last_compaction.journal_bytes > 40 * 20 * 2000
    expected = {m.id: m.body for m in new_vault.messages.all()}
    assert len(expected) == 800
    new_vault.close()
    with Vault.open(new_vault.folder, VAULT_PASSCODE) as vault:
        assert {m.id: m.body for m in vault.messages.all()} == expected and vault.generation == frames


def test_a_crash_in_a_deferred_run_reopens_with_every_commit(new_vault: Vault, tmp_path: Path) -> None:
    """Deferred compaction leaves every page a fsynced frame: the files as a kill leaves them open whole."""
    with new_vault.deferred_compaction():
        for page in range(30):
            with new_vault.batch():
                new_vault.messages.upsert_many([_msg(f"{page}-{i}", "w" * 2000) for i in range(20)])
        copy = _place(tmp_path / "killed", _files(new_vault.folder))  # the files at the kill, mid-run
        expected = {m.id: m.body for m in new_vault.messages.all()}
    with Vault.open(copy, VAULT_PASSCODE) as vault:
        assert {m.id: m.body for m in vault.messages.all()} == expected
