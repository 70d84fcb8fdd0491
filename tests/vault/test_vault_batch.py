"""Batches (one file write, all-or-nothing) and concurrency (threads in one process, a second process)."""

from __future__ import annotations

import contextlib
import json
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from tinydb import Query

from companion.core.errors import VaultBusy, VaultError
from companion.core.models import Message
from companion.vault import Vault
from companion.vault.fileformat import encode_document
from companion.vault.journal import scan
from tests.fixtures.vault import T0, VAULT_PASSCODE


def _msg(i: int | str, body: str = "hello") -> Message:
    return Message(id=f"m{i}", thread="general", author="clinic", body=body, sent_at=T0)


def _frames(folder: Path) -> list[int]:
    """The generations of the frames in the journal on disk."""
    return [frame.generation for frame in scan((folder / "vault.pcj").read_bytes()).frames]


def test_500_upserts_in_a_batch_are_one_file_write(new_vault: Vault) -> None:
    main = new_vault.folder / "vault.pcv"
    new_vault.meta.set("sync.cursor", "c0")
    writes, main_before, frames = new_vault.file_writes, main.read_bytes(), _frames(new_vault.folder)
    with new_vault.batch():
        for i in range(500):
            new_vault.messages.upsert(_msg(i))
        new_vault.meta.set("sync.cursor", "c1")
        assert new_vault.file_writes == writes and _frames(new_vault.folder) == frames  # nothing on disk yet
    assert new_vault.file_writes == writes + 1
    # Seen from the disk: one more frame in the journal, the base untouched.
    assert _frames(new_vault.folder) == [*frames, new_vault.generation] and main.read_bytes() == main_before
    new_vault.close()
    with Vault.open(new_vault.folder, VAULT_PASSCODE) as vault:
        assert vault.messages.count() == 500 and vault.meta.get("sync.cursor") == "c1"


def test_without_a_batch_every_change_is_its_own_write(new_vault: Vault) -> None:
    for i in range(3):
        new_vault.messages.upsert(_msg(i))
    assert new_vault.file_writes == 3


def test_an_exception_in_a_batch_writes_nothing_and_restores_the_state(new_vault: Vault) -> None:
    new_vault.messages.upsert(_msg(1, "committed"))
    new_vault.meta.set("sync.cursor", "c1")
    assert [m.body for m in new_vault.messages.all()] == ["committed"]  # warm the record cache
    files = {p.name: p.read_bytes() for p in new_vault.folder.iterdir()}
    writes = new_vault.file_writes
    with pytest.raises(RuntimeError, match="boom"), new_vault.batch():
        new_vault.messages.upsert(_msg(1, "changed"))
        new_vault.messages.upsert(_msg(2))
        new_vault.messages.delete("m1")
        new_vault.meta.set("sync.cursor", "c2")
        new_vault.profile.clear()
        raise RuntimeError("boom")
    assert new_vault.file_writes == writes
    assert {p.name: p.read_bytes() for p in new_vault.folder.iterdir()} == files
    assert [m.body for m in new_vault.messages.all()] == ["committed"]
    assert new_vault.messages.get("m2") is None and new_vault.meta.get("sync.cursor") == "c1"
    new_vault.messages.upsert(_msg(3))  # and the vault keeps working
    assert new_vault.messages.count() == 2


def test_nested_batches_join_the_outer_one(new_vault: Vault) -> None:
    with new_vault.batch():
        new_vault.messages.upsert(_msg(1))
        with new_vault.batch():
            new_vault.messages.upsert(_msg(2))
        assert new_vault.file_writes == 0
        new_vault.messages.upsert(_msg(3))
    assert new_vault.file_writes == 1 and new_vault.messages.count() == 3


def test_a_failed_nested_batch_discards_the_whole_batch(new_vault: Vault) -> None:
    new_vault.messages.upsert(_msg(0))
    writes = new_vault.file_writes
    with pytest.raises(VaultError, match="nested batch failed"), new_vault.batch():
        new_vault.messages.upsert(_msg(1))
        try:
            with new_vault.batch():
                new_vault.messages.upsert(_msg(2))
                raise KeyError("inner")
        except KeyError:
            pass  # swallowed: the outer batch must not commit half of itself
        with pytest.raises(VaultError, match="discarded"):
            new_vault.messages.upsert(_msg(3))
    assert new_vault.file_writes == writes
    assert [m.id for m in new_vault.messages.all()] == ["m0"]


def test_batch_holds_the_lock_for_the_whole_block(new_vault: Vault) -> None:
    order: list[str] = []
    entered, writing = threading.Event(), threading.Event()

    def writer() -> None:
        entered.wait()
        writing.set()
        new_vault.messages.upsert(_msg("other"))
        order.append("other thread wrote")

    thread = threading.Thread(target=writer)
    thread.start()
    with new_vault.batch():
        entered.set()
        assert writing.wait(10)
        # Elapsed time meant: a window in which the other thread's write would land if the batch did
        # not hold the lock (nothing to wait for when it works: the write is blocked).
        time.sleep(0.1)
        new_vault.messages.upsert(_msg("batch"))
        order.append("batch wrote")
    thread.join(10)
    assert order == ["batch wrote", "other thread wrote"]


def test_threads_hammering_one_vault_lose_no_update(new_vault: Vault) -> None:
    threads, per_thread = 8, 40
    new_vault.meta.set("counter", 0)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(per_thread):
                new_vault.messages.upsert(_msg(f"{t}-{i}"))
                with new_vault.batch():  # read-modify-write is safe inside a batch
                    new_vault.meta.set("counter", new_vault.meta.get("counter") + 1)
                if i % 10 == 0:
                    new_vault.messages.all()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(60)
    assert errors == []
    new_vault.close()
    with Vault.open(new_vault.folder, VAULT_PASSCODE) as vault:
        assert vault.messages.count() == threads * per_thread
        assert vault.meta.get("counter") == threads * per_thread
        assert {m.id for m in vault.messages.all()} == {f"m{t}-{i}" for t in range(threads) for i in range(per_thread)}


_OPEN_IN_CHILD = """
import sys
from companion.core.errors import CompanionError
from companion.vault import Vault
try:
    Vault.open(sys.argv[1], sys.argv[2]).close()
    print("opened")
except CompanionError as error:
    print(type(error).__name__, error)
"""


def test_a_second_process_gets_vault_busy_until_the_first_closes(new_vault: Vault) -> None:
    def child() -> str:
        return subprocess.run([sys.executable, "-c", _OPEN_IN_CHILD, str(new_vault.folder), VAULT_PASSCODE],
                              capture_output=True, text=True, timeout=60, check=True).stdout.strip()

    assert child() == "VaultBusy the vault is open in another Companion window or command"
    new_vault.close()
    assert child() == "opened"


def test_close_inside_a_batch_is_refused(new_vault: Vault) -> None:
    with new_vault.batch():
        with pytest.raises(VaultError, match="inside a batch"):
            new_vault.close()
        new_vault.messages.upsert(_msg(1))
    new_vault.close()
    # another object of the same process is refused while one is open
    with pytest.raises(VaultBusy), Vault.open(new_vault.folder, VAULT_PASSCODE):
        Vault.open(new_vault.folder, VAULT_PASSCODE)


def test_a_dropped_vault_releases_its_lock(vault_folder: Path) -> None:
    Vault.create(vault_folder, VAULT_PASSCODE)  # never closed, dropped at once
    Vault.open(vault_folder, VAULT_PASSCODE).close()


def test_updates_keep_cached_records_fresh(new_vault: Vault) -> None:
    new_vault.messages.upsert(_msg(1, "v1"))
    assert new_vault.messages.get("m1") == _msg(1, "v1")
    new_vault.messages.upsert(replace(_msg(1), body="v2"))
    assert new_vault.messages.get("m1") == _msg(1, "v2") and new_vault.messages.all() == [_msg(1, "v2")]


@contextlib.contextmanager
def _file_size_limit(limit: int) -> Iterator[None]:
    """Real write failures: beyond ``limit`` bytes every write fails with EFBIG (SIGXFSZ ignored)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_a_failed_append_changes_nothing_in_memory_or_on_disk(new_vault: Vault) -> None:
    new_vault.messages.upsert(_msg(1, "committed"))
    folder = new_vault.folder
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    journal = len(files["vault.pcj"])
    with _file_size_limit(journal + 100):  # room for part of a frame: the torn part must be cut back off
        with pytest.raises(VaultError, match="could not save the vault"):
            new_vault.messages.upsert(_msg(1, "lost " * 100))
        with pytest.raises(VaultError, match="could not save the vault"), new_vault.batch():
            new_vault.messages.upsert(_msg(2, "x" * 500))
    assert new_vault.messages.all() == [_msg(1, "committed")]
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files  # no temps, no half frame
    new_vault.messages.upsert(_msg(3))
    new_vault.close()
    with Vault.open(folder, VAULT_PASSCODE) as vault:
        assert [m.id for m in vault.messages.all()] == ["m1", "m3"] and not vault.recovered


def test_a_failed_compaction_leaves_the_vault_as_it_was(new_vault: Vault) -> None:
    for i in range(20):
        new_vault.messages.upsert(_msg(i, "y" * 300))
    folder = new_vault.folder
    (folder / "vault.pcv.bak").unlink()
    (folder / "vault.pcv.bak").mkdir()  # rotating the generation now fails (EISDIR), even as root
    files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    with pytest.raises(VaultError, match="could not compact the vault"):
        new_vault.compact()
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == files  # no temps left
    (folder / "vault.pcv.bak").rmdir()
    new_vault.messages.upsert(_msg("after"))
    report = new_vault.compact()
    assert report.base_bytes == (folder / "vault.pcv").stat().st_size
    assert (folder / "vault.pcj").read_bytes() == b"PCJOURN\x01"
    new_vault.close()
    with Vault.open(folder, VAULT_PASSCODE) as vault:
        assert vault.messages.count() == 21 and not vault.recovered


def _encoded_chars(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the length of every JSON encoding from now on (``json.dumps`` and every ``JSONEncoder``)."""
    sizes: list[int] = []
    real = json.JSONEncoder.encode

    def counting(self: json.JSONEncoder, o: Any) -> str:
        out = real(self, o)
        sizes.append(len(out))
        return out

    monkeypatch.setattr(json.JSONEncoder, "encode", counting)
    return sizes


def test_a_new_base_reuses_the_json_its_commits_wrote(new_vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first sync's pages are encoded once, for their frames: the base after them joins those bytes."""
    storage = new_vault._storage
    with new_vault.deferred_compaction(), new_vault.lock:
        for page in range(10):
            with new_vault.batch():
                new_vault.messages.upsert_many([_msg(f"{page}-{i}", "x" * 400) for i in range(100)])
                new_vault.meta.set("sync.cursor", f"c{page}")
        sizes = _encoded_chars(monkeypatch)
        base = storage._encoder.encode(storage.read())
        monkeypatch.undo()
        assert sum(sizes) < len(base) / 50, f"encoded {sum(sizes)} chars again for a {len(base)}-byte base"
        assert base == encode_document(storage.read())
        # TinyDB's own update changes records in place: what the commits kept for that table is dropped.
        table = new_vault._db.table("message")
        table.update({"body": "changed in place"}, Query().id == "m0-1")
        new_vault.messages.upsert(_msg("after"))
        assert storage._encoder.encode(storage.read()) == encode_document(storage.read())
        assert storage.read()["message"]["m0-1"]["body"] == "changed in place"


def test_a_single_record_write_encodes_that_record_not_the_whole_vault(
    new_vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 2,000 records a one-message write must not re-serialise the ~1 MB document."""
    with new_vault.batch():
        for i in range(2000):
            new_vault.messages.upsert(_msg(i, "x" * 400))
        new_vault.meta.set("sync.cursor", "c0")
    new_vault.compact()  # so that no compaction due after the big batch runs while we count
    whole = len(encode_document(new_vault._storage.read()))
    sizes = _encoded_chars(monkeypatch)
    new_vault.messages.upsert(_msg(7, "edited"))
    with new_vault.batch():  # what a live sync page of one change does
        new_vault.messages.upsert(_msg("new", "fresh"))
        new_vault.meta.set("sync.cursor", "c1")
    assert sum(sizes) < whole / 50, f"encoded {sum(sizes)} chars for two small writes (document: {whole})"


def test_incremental_encoding_matches_a_full_encoding_through_every_kind_of_change(
    new_vault: Vault, vault_folder: Path
) -> None:
    """Upserts, deletes, clears, batches, a failed batch and meta: the file always equals a fresh encoding."""
    storage = new_vault._storage

    def check() -> None:  # what the last commit sealed vs a from-scratch encoding of the same document
        assert storage._encoder.encode(storage.read()) == encode_document(storage.read())

    for i in range(30):
        new_vault.messages.upsert(_msg(i))
    check()
    new_vault.messages.upsert(_msg(3, "changed"))
    new_vault.messages.delete("m4")
    new_vault.meta.set("k", {"a": [1, 2]})
    check()
    with pytest.raises(RuntimeError), new_vault.batch():
        new_vault.messages.upsert(_msg(5, "never"))
        new_vault.messages.delete("m6")
        raise RuntimeError("abort")
    check()
    assert new_vault.messages.get("m5").body == "hello" and new_vault.messages.get("m6") is not None  # type: ignore[union-attr]
    with new_vault.batch():  # removed then re-added: it moves to the end, in memory and in the file
        new_vault.messages.delete("m2")
        new_vault.messages.upsert(_msg("late"))
        new_vault.messages.upsert(_msg(2, "back"))
        new_vault.messages.upsert(_msg("late", "edited"))
    check()
    assert [m.id for m in new_vault.messages.all()][-2:] == ["mlate", "m2"]
    new_vault.messages.clear()
    new_vault.messages.upsert(_msg(3, "again"))
    new_vault.meta.delete("k")
    check()
    for i in range(10):
        new_vault.messages.upsert(_msg(f"n{i}"))
    check()
    expected = new_vault.messages.all()
    new_vault.close()
    reopened = Vault.open(vault_folder, VAULT_PASSCODE)
    try:
        assert reopened.messages.all() == expected and "k" not in reopened.meta
    finally:
        reopened.close()


def test_a_dropped_table_is_encoded_afresh(new_vault: Vault) -> None:
    """TinyDB's drop_table names no ids; the same ids coming back in another order must not keep the old order."""
    storage = new_vault._storage
    new_vault.messages.upsert_many([_msg(0), _msg(1)])
    with new_vault.batch():
        new_vault._db.drop_table("message")
        new_vault._db.table("message").put_many({"m1": {"x": 1}, "m0": {"x": 0}})  # type: ignore[attr-defined]
    assert storage._encoder.encode(storage.read()) == encode_document(storage.read())
    assert list(storage.read()["message"]) == ["m1", "m0"]
