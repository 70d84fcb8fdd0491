"""Desk sign-in under attack, against the real server: concurrent guessing and name probing.

- Many wrong passwords at once: the backoff reserves each attempt before the slow hash, so only
  ``COMPANION_SIGNIN_FREE`` guesses are ever evaluated; every other one gets 429 (both backends).
- An unknown name costs the same argon2 hash as a known one, so timing does not tell which names
  have accounts (counted, not timed: ``bench/server.py`` prints the times).
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any, Literal

import httpx
import pytest
from argon2 import PasswordHasher, extract_parameters

from companion.clinic.server.app import create_app
from companion.clinic.server.errors import ApiError
from companion.clinic.server.passwords import find_account
from companion.clinic.server.settings import Settings
from companion.clinic.server.staff_sessions import sign_in
from tests.fixtures.desk import PASSWORD, add_desk_user
from tests.fixtures.server import BACKENDS
from tests.support.server_harness import ServerProcess
from tests.support.waiting import wait_until

FREE = 5
ATTACKERS = 25


def _sign_in(server: ServerProcess, name: str, password: str) -> httpx.Response:
    return httpx.post(server.url("/v1/staff/sessions"), json={"name": name, "password": password}, timeout=60)


def _audit_actions(server: ServerProcess, want: str, count: int) -> list[str]:
    """The audit log's actions once ``count`` entries of ``want`` are flushed (read entries are queued)."""
    actions: list[str] = []

    def flushed() -> bool:
        entries = server.staff.request("GET", "/v1/staff/audit", role="admin", params={"limit": 500}).json()["entries"]
        actions[:] = [e["action"] for e in entries]
        return actions.count(want) >= count

    wait_until(flushed, 10)  # the caller's assertion says what is missing when it is not
    return actions


@pytest.mark.parametrize("backend", BACKENDS)
def test_concurrent_guesses_evaluate_only_the_free_tries(server_factory: Any, backend: str) -> None:
    server = server_factory(backend, env={"COMPANION_SIGNIN_FREE": str(FREE)})
    add_desk_user(server, "Pat Guess", "psr")
    start = threading.Barrier(ATTACKERS)
    statuses: list[int] = []
    lock = threading.Lock()

    def guess(i: int) -> None:
        start.wait()
        answer = _sign_in(server, "Pat Guess", f"wrong guess {i}")
        assert answer.json()["error"]["code"] in ("bad_credentials", "rate_limited"), answer.text
        with lock:
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(ATTACKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    counted = Counter(statuses)
    assert sum(counted.values()) == ATTACKERS, counted
    assert counted[401] == FREE and counted[429] == ATTACKERS - FREE, counted
    # even the right password waits now, and the audit log saw exactly the evaluated guesses
    assert _sign_in(server, "Pat Guess", PASSWORD).status_code == 429
    actions = _audit_actions(server, "staff.signin_refused", ATTACKERS - FREE + 1)
    assert actions.count("staff.signin_failed") == FREE
    assert actions.count("staff.signin_refused") == ATTACKERS - FREE + 1


def test_success_clears_the_reservation_and_the_count(server_factory: Any) -> None:
    server = server_factory(env={"COMPANION_SIGNIN_FREE": "2"})
    add_desk_user(server, "Ria Right", "psr")
    assert _sign_in(server, "Ria Right", "wrong password").status_code == 401
    assert _sign_in(server, "Ria Right", PASSWORD).status_code == 201
    for _ in range(2):  # the count starts again from zero: two free tries once more
        assert _sign_in(server, "Ria Right", "wrong password").status_code == 401
    assert _sign_in(server, "Ria Right", "wrong password").status_code == 429


def test_an_unknown_name_costs_the_same_slow_hash_as_a_known_one(server_factory: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Timing cannot tell which names have accounts: a wrong password for a known name and any
    password for an unknown one each run exactly one argon2 verification, with the same cost
    parameters (the unknown name's is the dummy hash). Counted through the real sign-in; the
    time itself is measured by ``bench/server.py``, never asserted."""
    server = server_factory()
    add_desk_user(server, "Known Person", "psr")
    server.stop()
    app = create_app(Settings.from_env(server.db_url))
    ctx = app.state.ctx
    verified: list[str] = []
    real_verify = PasswordHasher.verify

    def counting_verify(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> Literal[True]:
        verified.append(hash.decode() if isinstance(hash, bytes) else hash)
        return real_verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    try:
        for name in ("Known Person", "Nobody Called So"):
            with pytest.raises(ApiError) as refused:
                sign_in(ctx, name, "not the password at all", "127.0.0.1")
            assert (refused.value.status, refused.value.code) == (401, "bad_credentials")
        with ctx.db.read() as conn:
            account = find_account(conn, "Known Person")
    finally:
        ctx.db.dispose()
    assert account is not None
    assert len(verified) == 2, verified  # one slow verification per attempt, known name or not
    known, unknown = verified
    assert known == account["password_hash"] and unknown != known
    assert extract_parameters(unknown) == extract_parameters(known)
