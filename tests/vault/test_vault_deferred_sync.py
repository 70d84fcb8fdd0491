"""Writes that defer their fsync (``batch(durable=False)``, a pulled page): on disk at once, durable
within :data:`SYNC_DELAY` or at the next durable write, and a power loss takes them only as a tail.

A power loss is played by copying the vault folder while it is open and cutting or zeroing its
journal where the page cache had not reached the disk yet (the journal's ``synced_size``).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from companion.core.models import Message
from companion.vault import Vault
from companion.vault.files import JOURNAL, SYNC_DELAY
from tests.fixtures.vault import T0, VAULT_PASSCODE


def _msg(i: int) -> Message:
    return Message(id=f"m{i}", thread="general", author="clinic", body=f"message {i}", sent_at=T0)


def _deferred(vault: Vault, i: int) -> None:
    with vault.batch(durable=False):
        vault.messages.upsert(_msg(i))


def _journal_size(vault: Vault) -> int:
    return (vault.folder / JOURNAL).stat().st_size


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Every fsync the process makes (the real one, counted)."""
    calls: list[int] = []
    real: Callable[[int], None] = os.fsync

    def counted(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counted)
    yield calls


def _wait_durable(vault: Vault) -> float:
    started = time.monotonic()
    while vault.durable_generation != vault.generation:
        assert time.monotonic() - started < SYNC_DELAY + 10, "the deferred fsync never ran"
        time.sleep(0.01)
    return time.monotonic() - started


def test_a_deferred_write_is_on_disk_at_once_and_fsynced_by_the_timer(new_vault: Vault, fsyncs: list[int]) -> None:
    new_vault.meta.set("settings.note", "durable")
    durable, size = new_vault.generation, _journal_size(new_vault)
    fsyncs.clear()
    _deferred(new_vault, 1)
    assert new_vault.generation == durable + 1 and new_vault.durable_generation == durable
    assert _journal_size(new_vault) > size  # written: a crash of the app would not lose it
    assert not fsyncs  # the writer did not wait for the disk
    waited = _wait_durable(new_vault)
    assert len(fsyncs) == 1 and waited < SYNC_DELAY + 10
    _deferred(new_vault, 2)  # the timer is armed again for the next one
    _wait_durable(new_vault)
    assert len(fsyncs) == 2


def test_deferred_writes_share_one_fsync_and_a_durable_write_covers_them(new_vault: Vault, fsyncs: list[int]) -> None:
    before = new_vault.generation
    for i in range(20):
        _deferred(new_vault, i)
    assert new_vault.durable_generation == before and not fsyncs
    new_vault.meta.set("settings.note", "durable")  # the patient's own write: fsynced, with all before it
    assert new_vault.durable_generation == new_vault.generation == before + 21
    assert len(fsyncs) == 1


def test_a_batch_is_durable_when_any_batch_around_or_inside_it_is(new_vault: Vault) -> None:
    with new_vault.batch():
        _deferred(new_vault, 1)
    assert new_vault.durable_generation == new_vault.generation
    with new_vault.batch(durable=False):
        new_vault.messages.upsert(_msg(2))
        with new_vault.batch():
            new_vault.meta.set("outbox.note", "the patient's")
    assert new_vault.durable_generation == new_vault.generation
    _deferred(new_vault, 3)
    assert new_vault.durable_generation == new_vault.generation - 1


def test_close_fsyncs_what_was_deferred_and_nothing_else(vault_folder: Path, fsyncs: list[int]) -> None:
    with Vault.create(vault_folder, VAULT_PASSCODE) as vault:
        vault.meta.set("settings.note", "durable")
        fsyncs.clear()
    assert fsyncs == []  # nothing deferred: closing writes nothing
    with Vault.open(vault_folder, VAULT_PASSCODE) as vault:
        _deferred(vault, 1)
        fsyncs.clear()
    assert len(fsyncs) == 1
    with Vault.open(vault_folder, VAULT_PASSCODE) as vault:
        assert vault.messages.get("m1") is not None


def test_a_new_base_makes_deferred_writes_durable(new_vault: Vault) -> None:
    _deferred(new_vault, 1)
    assert new_vault.durable_generation < new_vault.generation
    new_vault.advance_generation(new_vault.generation + 5)  # a compaction: a new, fsynced base and journal
    assert new_vault.durable_generation == new_vault.generation
    assert new_vault.messages.get("m1") is not None


@pytest.mark.parametrize("loss", ["cut at the last fsync", "cut inside a frame", "zeroed, a later frame kept"])
def test_a_power_loss_takes_deferred_writes_only_as_a_tail(new_vault: Vault, tmp_path: Path, loss: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import companion.vault.files as files

    monkeypatch.setattr(files, "SYNC_DELAY", 60.0)  # the timer does not run during the test
    new_vault.messages.upsert(_msg(0))
    durable, synced = new_vault.generation, _journal_size(new_vault)
    for i in (1, 2, 3):
        _deferred(new_vault, i)
    assert new_vault.durable_generation == durable
    copy = tmp_path / "after-power-loss"
    shutil.copytree(new_vault.folder, copy, ignore=shutil.ignore_patterns("vault.lock"))
    journal = bytearray((copy / JOURNAL).read_bytes())
    if loss == "cut at the last fsync":
        del journal[synced:]
    elif loss == "cut inside a frame":
        del journal[synced + 20:]
    else:  # the page cache reached the disk out of order: the first deferred frame's bytes never did
        second = synced + (len(journal) - synced) // 3
        journal[synced:second] = bytes(second - synced)
    (copy / JOURNAL).write_bytes(bytes(journal))
    with Vault.open(copy, VAULT_PASSCODE) as reopened:
        assert reopened.generation == durable  # never below what was fsynced, never a gap
        assert reopened.messages.get("m0") is not None
        assert [reopened.messages.get(f"m{i}") for i in (1, 2, 3)] == [None, None, None]
    assert new_vault.messages.get("m3") is not None  # the running vault is untouched


def test_a_failed_deferred_fsync_writes_everything_anew_at_the_next_commit(new_vault: Vault,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.fsync
    failed: list[int] = []

    def failing_once(fd: int) -> None:
        if not failed:
            failed.append(fd)
            raise OSError(5, "Input/output error")
        real(fd)

    _deferred(new_vault, 1)
    monkeypatch.setattr(os, "fsync", failing_once)
    started = time.monotonic()
    while not failed or any(t.name == "vault-journal-sync" for t in threading.enumerate()):
        assert time.monotonic() - started < SYNC_DELAY + 10, "the deferred fsync never ran"
        time.sleep(0.01)  # the timer's fsync failed (the kernel may have dropped those pages)
    assert new_vault.durable_generation < new_vault.generation
    base = (new_vault.folder / "vault.pcv").stat().st_ino
    new_vault.meta.set("settings.note", "next")  # written as a new base, the deferred message in it
    assert (new_vault.folder / "vault.pcv").stat().st_ino != base
    assert new_vault.durable_generation == new_vault.generation
    folder = new_vault.folder
    new_vault.close()
    with Vault.open(folder, VAULT_PASSCODE) as reopened:
        assert reopened.messages.get("m1") is not None and reopened.meta.get("settings.note") == "next"
