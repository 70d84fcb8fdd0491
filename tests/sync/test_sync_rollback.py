"""A vault put back to an older copy is noticed at the next sync, said so, and resynced (real server, both backends).

Each pull reports the vault's generation (``Companion-Vault-Generation``); the server keeps
the highest one this device reported and answers it (``Companion-Vault-Generation-Seen``).
An older copy of the files has a lower generation than the server saw.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from companion.core.protocol import GENERATION_HEADER, GENERATION_SEEN_HEADER
from companion.sync.client import SyncReport, client_for_vault, synchronize
from companion.sync.status import take_restored_copy_notice
from companion.vault import Vault
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
