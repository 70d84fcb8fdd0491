"""A vault put back to an older copy is noticed at the next sync, said so, and resynced (real server, both backends).

Each pull reports the vault's generation (``Companion-Vault-Generation``); the server keeps
the highest one this device reported and answers it (``Companion-Vault-Generation-Seen``).
An older copy of the files has a lower generation than the server saw. Pulled pages defer their
fsync, so what is reported is the generation a power loss cannot take (``durable_generation``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from companion.core.protocol import GENERATION_HEADER, GENERATION_SEEN_HEADER
from companion.sync.client import SyncReport, client_for_vault, synchronize
from companion.sync.page_apply import apply_page
from companion.sync.pull import fetch_page, pull_changes
from companion.sync.retry import RetryPolicy
from companion.sync.status import take_restored_copy_notice
from companion.vault import Vault
from companion.vault import files as vault_files
from tests.fixtures.sync import PASSCODE, Clinic


@pytest.fixture
def clinic(server: object) -> Clinic:
    return Clinic(server)


def _sync(vault: Vault) -> SyncReport:
    with client_for_vault(vault) as client:
        return synchronize(vault, client)


def test_an_older_copy_of_the_vault_is_noticed_at_the_next_sync_and_resynced(clinic: Clinic, tmp_path: Path) -> None:
    folder, copy = tmp_path / "vault", tmp_path / "older-copy"
    vault = clinic.pair(folder)
    vault.close()
    shutil.copytree(folder, copy)  # what a restored backup or a copied-back folder holds
    vault = Vault.open(folder, PASSCODE)
    for i in range(5):  # work the copy does not have
        vault.meta.set("settings.note", i)
    reported = vault.generation
    first = _sync(vault)
    assert not first.pull.restored_copy
    expected = {r.id for r in vault.appointments.all()}
    vault.close()

    older = Vault.open(copy, PASSCODE)
    try:
        assert older.generation < reported
        report = _sync(older)
        assert report.pull.restored_copy and report.pull.resynced
        noted = older.meta.get("sync.restored_copy")
        assert noted["seen"] == reported and noted["generation"] < reported
        assert older.generation > reported  # moved past what the server saw: the check passes from now on
        assert {r.id for r in older.appointments.all()} == expected  # the resync brought everything back
        again = _sync(older)
        assert not again.pull.restored_copy and not again.pull.resynced
        title, body = take_restored_copy_notice(older) or ("", "")
        assert "older copy" in body and title  # what the app shows, once
        assert take_restored_copy_notice(older) is None
    finally:
        older.close()
    with Vault.open(folder, PASSCODE) as newer:  # the newest copy is not mistaken for an older one
        assert not _sync(newer).pull.restored_copy


def test_pulled_pages_a_power_loss_took_are_pulled_again_not_taken_for_an_older_copy(
        clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vault_files, "SYNC_DELAY", 60.0)  # the pulled page stays unsynced during the test
    folder, copy = tmp_path / "vault", tmp_path / "after-power-loss"
    vault = clinic.pair(folder)
    try:
        vault.meta.set("settings.note", "a durable write: everything before it is fsynced")
        durable, synced = vault.generation, (folder / vault_files.JOURNAL).stat().st_size
        token = vault.meta.get("sync.token")
        with client_for_vault(vault) as client:
            page, _ = fetch_page(client, token, None, limit=100, wait=0, timeout=10)  # reports no generation
            apply_page(vault, page)  # its fsync deferred
            pull_changes(vault, client, token, policy=RetryPolicy())  # the first report: the server keeps it
        assert vault.messages.get(clinic.message_id) is not None
        assert vault.durable_generation == durable < vault.generation
        shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("vault.lock"))
        with open(copy / vault_files.JOURNAL, "r+b") as journal:
            journal.truncate(synced)  # what the disk holds when the power goes before the deferred fsync
    finally:
        vault.close()
    with Vault.open(copy, PASSCODE) as after:
        assert after.generation == durable and after.messages.get(clinic.message_id) is None
        report = _sync(after)
        assert not report.pull.restored_copy and not report.pull.resynced
        assert after.messages.get(clinic.message_id) is not None  # the next sync brought the lost page back


def test_the_server_keeps_the_highest_generation_and_refuses_a_malformed_one(clinic: Clinic, tmp_path: Path) -> None:
    vault = clinic.pair(tmp_path / "vault")
    try:
        token = vault.meta.get("sync.token")
        url = clinic.server.base_url

        def pull(generation: str | None) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}", "Companion-Protocol": "1"}
            if generation is not None:
                headers[GENERATION_HEADER] = generation
            return httpx.get(f"{url}/v1/sync", params={"limit": 1}, headers=headers, timeout=10)

        assert GENERATION_SEEN_HEADER not in pull(None).headers  # never reported: nothing to compare
        assert pull("7").status_code == 200
        assert pull("3").headers[GENERATION_SEEN_HEADER] == "7"  # the first report is stored at once
        for bad in ("-1", "x", "1" * 30):
            answer = pull(bad)
            assert answer.status_code == 422 and GENERATION_HEADER in answer.text, bad
    finally:
        vault.close()
