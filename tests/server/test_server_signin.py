"""Desk sign-in under attack, against the real server: concurrent guessing and name probing.

- Many wrong passwords at once: the backoff reserves each attempt before the slow hash, so only
  ``COMPANION_SIGNIN_FREE`` guesses are ever evaluated; every other one gets 429 (both backends).
- An unknown name costs the same argon2 hash as a known one, so timing does not tell which names
  have accounts.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.fixtures.desk import PASSWORD, add_desk_user
from tests.fixtures.server import BACKENDS
from tests.support.server_harness import ServerProcess

FREE = 5
ATTACKERS = 25


def _sign_in(server: ServerProcess, name: str, password: str) -> httpx.Response:
    return httpx.post(server.url("/v1/staff/sessions"), json={"name": name, "password": password}, timeout=60)


def _audit_actions(server: ServerProcess, want: str, count: int) -> list[str]:
    """The audit log's actions once ``count`` entries of ``want`` are flushed (read entries are queued)."""
    deadline = time.monotonic() + 10
    while True:
        entries = server.staff.request("GET", "/v1/staff/audit", role="admin", params={"limit": 500}).json()["entries"]
        actions = [e["action"] for e in entries]
        if actions.count(want) >= count or time.monotonic() > deadline:
            return actions
        time.sleep(0.05)


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


def _median_seconds(server: ServerProcess, names: list[str]) -> float:
    spent = []
    for name in names:
        began = time.perf_counter()
        answer = _sign_in(server, name, "not the password at all")
        spent.append(time.perf_counter() - began)
        assert answer.status_code == 401, answer.text
    return statistics.median(spent)


def test_unknown_and_known_names_take_about_as_long(server_factory: Any) -> None:
    server = server_factory(env={"COMPANION_SIGNIN_FREE": "1000"})
    known = [f"Known Person {i}" for i in range(5)]
    for name in known:
        add_desk_user(server, name, "psr")
    _median_seconds(server, ["Warm Up"])
    unknown = _median_seconds(server, [f"Nobody Called {i}" for i in range(5)])
    existing = _median_seconds(server, known)
    ratio = max(unknown, existing) / min(unknown, existing)
    print(f"sign-in median: unknown name {unknown * 1000:.0f} ms, known name {existing * 1000:.0f} ms, "
          f"ratio {ratio:.2f}")
    assert ratio < 2.0, (unknown, existing)
