"""``kill -9`` the syncing client in the middle of applying pages, many times; it always resumes.

A patient with thousands of records on the server (more arrive between runs), a
child process (``tests/support/sync_crash_child.py``) that queues messages and then pulls
in pages of 40, and a parent that SIGKILLs it after a random number of applied
pages (plus a random few milliseconds, so some kills land inside a page's write).
After every kill the vault must open cleanly (never "restored from the previous
copy": the page and its cursor are one atomic write) and hold no duplicates.
At the end: the vault equals a fresh device's full pull of the server, and every
message that was ever stored in the outbox reached the clinic exactly once.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from companion.sync.client import build_client, synchronize
from companion.vault import Vault
from tests.fixtures.sync import PASSCODE, REPO, Clinic, inbox_mutations, vault_snapshot
from tests.support.clinic_seed import seed_records

KILLS = 24
CHILD = REPO / "tests" / "support" / "sync_crash_child.py"


def _run_child(folder: Path, tag: str, kill_after_pages: int | None, rng: random.Random) -> tuple[list[str], bool]:
    """Run the child; SIGKILL it after ``kill_after_pages`` applied pages. Returns (queued ids seen, finished)."""
    env = {**os.environ, "COMPANION_PASSCODE": PASSCODE}
    with subprocess.Popen([sys.executable, str(CHILD), str(folder), tag, "2", "40"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env, cwd=REPO) as child:  # pipes closed on exit
        queued: list[str] = []
        finished = False
        assert child.stdout is not None
        try:
            for line in child.stdout:
                word, _, rest = line.strip().partition(" ")
                if word == "queued":
                    queued.append(rest)
                elif word == "page" and kill_after_pages is not None and int(rest) >= kill_after_pages:
                    # elapsed time meant: a random 0-20 ms aims the kill inside the next page's fetch or write
                    time.sleep(rng.random() * 0.02)
                    child.send_signal(signal.SIGKILL)
                    break
                elif word == "done":
                    finished = True
        finally:
            _, err = child.communicate(timeout=60)
    if kill_after_pages is None:
        assert child.returncode == 0, err
    else:
        assert child.returncode in (0, -signal.SIGKILL), err
    return queued, finished


def _check_readable(folder: Path) -> list[str]:
    """The vault opens cleanly and has no duplicate messages; returns the pending outbox ids."""
    vault = Vault.open(folder, PASSCODE)
    try:
        assert not vault.recovered  # every write was atomic: never a torn main file
        messages = vault.messages.all()
        assert len({m.id for m in messages}) == len(messages)
        client_ids = [m.client_id for m in messages if m.client_id]
        assert len(client_ids) == len(set(client_ids))  # the echo never doubled a message
        return [e.id for e in vault.outbox.all()]
    finally:
        vault.close()


@pytest.mark.slow
def test_kill_9_while_applying_pages_always_resumes(server_factory: Any, tmp_path: Path) -> None:
    server = server_factory()
    clinic = Clinic(server, "Kim Crash")
    seed_records(server.db_url, clinic.patient_id, 1500)
    folder = tmp_path / "vault"
    clinic.pair(folder).close()
    rng = random.Random(42)
    ever_queued: set[str] = set()
    mid_run_kills = 0
    for trial in range(KILLS):
        seed_records(server.db_url, clinic.patient_id, 120, start=10_000 + trial * 120)
        queued, finished = _run_child(folder, f"t{trial}", rng.randint(1, 4), rng)
        mid_run_kills += not finished
        ever_queued |= set(queued)
        ever_queued |= set(_check_readable(folder))
    assert mid_run_kills >= 20
    _, finished = _run_child(folder, "final", None, rng)
    assert finished
    assert _check_readable(folder) == []  # everything queued went out
    # the vault equals the server's view; each message reached the clinic exactly once
    with Vault.open(folder, PASSCODE) as vault:
        mine = vault_snapshot(vault, meta_prefixes=())
        patient_messages = Counter(m.client_id for m in vault.messages.all() if m.author == "patient")
    auditor = clinic.pair(tmp_path / "auditor")
    with build_client(server.base_url) as client:
        synchronize(auditor, client)
    truth = vault_snapshot(auditor, meta_prefixes=())
    auditor.close()
    assert mine == truth
    inbox = Counter(inbox_mutations(server, clinic.patient_id))
    assert set(patient_messages) == set(inbox) and set(inbox) >= ever_queued
    assert all(n == 1 for n in inbox.values()) and all(n == 1 for n in patient_messages.values())
