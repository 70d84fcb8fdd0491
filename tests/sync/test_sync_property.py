"""A property of the sync client against the REAL server: the app only ever shows a state the server had.

Hypothesis draws a sequence of steps and runs it on a fresh patient and vault: the PSR writes
messages; the device queues messages, marks the clinic's message read and ticks its prep step
on and off (optimistic effects); pushes; pulls; fetches a long poll's page and applies it later
(as the live loop does with a late answer, :class:`~companion.sync.live.LiveSync`); the server is
killed (SIGKILL) and started again; the vault is closed and unlocked again from disk. After every
step:

- a page and its cursor were applied together: every message the server published at or below
  the vault's cursor is in the vault, and every clinic message in the vault is one the server has;
- the device's own effects are never replaced by an older state: the prep step shows what the
  patient last chose and the clinic's message stays read once read, whether the command is still
  queued or already acknowledged (a pulled state from before the push must not undo it);
- each queued message shows exactly once: its local copy until the pull brings the server's echo.

At the end, with the server up, one more sync converges: the vault shows exactly the server's
records, and the server applied each queued command once.
"""

from __future__ import annotations

import base64
import itertools
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from companion.core.errors import ServerUnreachable
from companion.core.protocol import MAX_PAGE
from companion.sync.client import LiveSync, build_client, queue_mutation, synchronize
from companion.sync.conflicts import is_local_id
from companion.sync.live import _Poll
from companion.sync.pull import fetch_page, pull_changes
from companion.sync.push import push_outbox
from companion.sync.retry import RetryPolicy
from companion.sync.store import CURSOR, TOKEN, pushes
from companion.vault import Vault
from tests.fixtures.sync import PASSCODE, Clinic
from tests.support.server_harness import ServerProcess, pull_all

ONCE = RetryPolicy(attempts=1, deadline=2.0)  # a step with the server down fails at once
STEPS = st.lists(st.sampled_from([
    "staff_message", "queue_message", "queue_read", "prep_on", "prep_off", "push", "pull", "fetch_late",
    "apply_late", "kill", "start", "reopen"]), min_size=3, max_size=14)
_counter = itertools.count()


@dataclass
class World:
    """One example: the clinic, the vault and what the patient and the PSR did."""

    server: ServerProcess
    clinic: Clinic
    folder: Path
    vault: Vault
    client: httpx.Client
    up: bool = True
    prep_done: bool | None = None  # what the patient last chose
    read: bool = False  # the patient marked the clinic's message read
    queued: list[str] = field(default_factory=list)  # mutation ids of queued messages
    late: tuple[LiveSync, Any] | None = None  # a long poll whose answer is not applied yet

    def server_messages(self) -> dict[str, int]:
        """The server's feed now, as the device may see it: message id -> its seq."""
        token = self.vault.meta.get(TOKEN)
        with self.server.device_client(token) as http:
            changes, _ = pull_all(http)
        return {c["id"]: c["seq"] for c in changes if c["kind"] == "message" and c["op"] == "upsert"}


def _cursor_seq(cursor: str | None) -> int:
    if cursor is None:
        return 0
    text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    return int(text.split(".", 1)[1])


def _step(w: World, step: str) -> None:
    vault = w.vault
    if step == "staff_message" and w.up:
        w.clinic.staff.send_message(w.clinic.patient_id, f"from the desk {next(_counter)}")
    elif step == "queue_message":
        w.queued.append(queue_mutation(vault, "message.send", {"body": f"from the patient {next(_counter)}"}).id)
    elif step == "queue_read" and not w.read:
        queue_mutation(vault, "message.read", {"message_id": w.clinic.message_id})
        w.read = True
    elif step in ("prep_on", "prep_off"):
        w.prep_done = step == "prep_on"
        queue_mutation(vault, "prep.done", {"prep_id": w.clinic.prep_id, "done": w.prep_done})
    elif step == "push":
        try:
            push_outbox(vault, w.client, vault.meta.get(TOKEN), policy=ONCE)
        except ServerUnreachable:
            assert not w.up
    elif step == "pull":
        try:
            pull_changes(vault, w.client, vault.meta.get(TOKEN), policy=ONCE)
        except ServerUnreachable:
            assert not w.up
    elif step == "fetch_late" and w.up and w.late is None and vault.meta.get(CURSOR):
        # the live loop's own apply, driven by hand: a page fetched now (as its poll thread does), applied
        # after whatever steps come between (the poll thread applies at once; a page can still arrive late)
        live = LiveSync(vault, w.client, wait=0)
        poll = _Poll(cursor=vault.meta.get(CURSOR), pushes=pushes(vault))
        poll.page, _ = fetch_page(w.client, vault.meta.get(TOKEN), poll.cursor, limit=MAX_PAGE, wait=0, timeout=10.0)
        w.late = (live, poll)
    elif step == "apply_late" and w.late is not None:
        live, poll = w.late
        assert poll.cursor is not None
        live._apply(poll, poll.cursor)
        w.late = None
    elif step == "kill" and w.up:
        w.server.kill()
        w.up = False
    elif step == "start" and not w.up:
        w.server.start()
        w.up = True
    elif step == "reopen":
        vault.close()
        w.vault = Vault.open(w.folder, PASSCODE)
        w.late = None  # its loop held the closed vault


def _check(w: World) -> None:
    vault = w.vault
    messages = {m.id: m for m in vault.messages.all()}
    local = {m.client_id for m in messages.values() if is_local_id(m.id)}
    echoes = {m.client_id for m in messages.values() if not is_local_id(m.id) and m.client_id}
    for mid in w.queued:  # exactly once: the local copy until the echo replaces it
        assert (mid in local) != (mid in echoes), (mid, mid in local, mid in echoes)
    prep = vault.prep.get(w.clinic.prep_id)
    if w.prep_done is not None:
        assert prep is not None and (prep.done_at is not None) == w.prep_done, (prep, w.prep_done)
    if w.read:
        welcome = messages.get(w.clinic.message_id)
        assert welcome is not None and welcome.read_at is not None
    if w.up:
        server = w.server_messages()
        at = _cursor_seq(vault.meta.get(CURSOR))
        missing = [mid for mid, seq in server.items() if seq <= at and mid not in messages]
        assert not missing, f"at or below the cursor but not in the vault: {missing}"
        invented = [mid for mid in messages if not is_local_id(mid) and mid not in server]
        assert not invented, f"in the vault but not on the server: {invented}"


def _converged(w: World) -> None:
    if not w.up:
        w.server.start()
        w.up = True
    synchronize(w.vault, w.client, policy=RetryPolicy())
    _check(w)
    assert not w.vault.outbox.all()
    server = w.server_messages()
    assert {m.id for m in w.vault.messages.all()} == set(server)
    applied = w.clinic.inbox_mutations()
    assert sorted(mid for mid in applied if mid in w.queued) == sorted(w.queued)  # each once
    with w.server.device_client(w.vault.meta.get(TOKEN)) as http:
        changes, _ = pull_all(http)
    preps = [c["data"] for c in changes if c["kind"] == "prep" and c["id"] == w.clinic.prep_id]
    if w.prep_done is not None:
        assert preps and (preps[0]["done_at"] is not None) == w.prep_done


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="sync-property-") as tmp:
        yield Path(tmp)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
# a late answer fetched before our own acknowledged push: applying it would undo the push's effect
@example(steps=["prep_on", "push", "fetch_late", "prep_off", "push", "apply_late"])
# the server killed with commands queued and a page in flight; the vault reopened from disk
@example(steps=["staff_message", "queue_message", "prep_on", "kill", "push", "pull", "reopen", "start", "push",
                "staff_message", "pull", "queue_read", "push", "pull"])
def test_the_app_only_shows_states_the_server_had(sqlite_server: ServerProcess, workdir: Path,
                                                  steps: list[str]) -> None:
    if not sqlite_server.running:
        sqlite_server.start()  # a failed example may have left it killed
    clinic = Clinic(sqlite_server, name="Property Patient")
    folder = workdir / f"vault{next(_counter)}"
    vault = clinic.pair(folder)
    client = build_client(sqlite_server.base_url)
    w = World(server=sqlite_server, clinic=clinic, folder=folder, vault=vault, client=client)
    try:
        synchronize(vault, client)
        for step in steps:
            _step(w, step)
            _check(w)
        _converged(w)
    finally:
        client.close()
        w.vault.close()
        if not w.up:
            sqlite_server.start()
