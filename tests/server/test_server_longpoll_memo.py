"""A no-op pull answered from memory (``pull_memo``), against the real server (both backends).

A re-poll whose device is remembered and whose patient's feed is known to end at its cursor is
answered without reading the database (``Server-Timing: memo``). Whatever could make that answer
wrong must make the server read again: a revocation (refused at the very next pull, and a waiting
pull ends at once), a write for the patient or for every patient, a new language. Empty reads are
audited as one ``feed.poll`` entry with their count, written before the device's next ``feed.read``.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx

from companion.core.protocol import LANGUAGE_HEADER
from tests.support.server_harness import ServerProcess, pull_all
from tests.support.waiting import wait_until


def _pull(http: httpx.Client, cursor: str, **params: Any) -> httpx.Response:
    return http.get("/v1/sync", params={"cursor": cursor, **params})


def _from_memory(response: httpx.Response) -> bool:
    timing: str | None = response.headers.get("server-timing")
    return timing == "memo"


def _warm(http: httpx.Client, cursor: str) -> None:
    """Pull at the head until one is answered from memory (the first may write last_seen_at)."""
    answers = [_pull(http, cursor) for _ in range(3)]
    assert all(a.status_code == 200 and a.json()["changes"] == [] for a in answers)
    assert any(_from_memory(a) for a in answers), [a.headers.get("server-timing") for a in answers]
    assert _from_memory(answers[-1])


def test_a_repoll_at_the_head_is_answered_from_memory_until_a_write_for_the_patient(server: ServerProcess) -> None:
    pid, device, cursor = server.caught_up_device("Quiet Poller")
    with server.device_client(device["token"]) as http:
        _warm(http, cursor)
        server.staff.send_message(pid, "Your appointment is confirmed")
        fresh = _pull(http, cursor)
        assert not _from_memory(fresh)
        assert [c["kind"] for c in fresh.json()["changes"]] == ["message"]
        cursor = fresh.json()["cursor"]
        _warm(http, cursor)
        assert _pull(http, fresh.json()["cursor"]).json()["cursor"] == cursor


def test_a_new_article_makes_every_remembered_head_stale(server: ServerProcess) -> None:
    _, device, cursor = server.caught_up_device("Article Reader")
    with server.device_client(device["token"]) as http:
        _warm(http, cursor)
        server.staff.add_article(title="Clinic hours over the holidays", body="Open as usual.")
        answer = _pull(http, cursor)
        assert not _from_memory(answer) and [c["kind"] for c in answer.json()["changes"]] == ["article"]


def test_a_revoked_device_is_refused_at_its_next_pull_though_it_was_remembered(server: ServerProcess) -> None:
    _, device, cursor = server.caught_up_device("Lost Phone")
    with server.device_client(device["token"]) as http:
        _warm(http, cursor)
        server.staff.revoke_device(device["device_id"])
        answer = _pull(http, cursor)
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "device_revoked"
        again = _pull(http, cursor, wait=20)
        assert again.status_code == 401 and again.json()["error"]["code"] == "device_revoked"


def test_a_remembered_device_waiting_is_refused_at_once_when_revoked(server: ServerProcess) -> None:
    _, device, cursor = server.caught_up_device("Stolen Phone")
    out: dict[str, Any] = {}
    with server.device_client(device["token"]) as http:
        _warm(http, cursor)

    def poll() -> None:
        with server.device_client(device["token"], timeout=40) as own:
            response = _pull(own, cursor, wait=25)
        out.update(status=response.status_code, body=response.json())

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    server.await_pulls(1)
    server.staff.revoke_device(device["device_id"])
    thread.join(timeout=30)
    # a poll that waited its 25 s out answers 200 with an empty page: the 401 says the revocation woke it
    assert out["status"] == 401 and out["body"]["error"]["code"] == "device_revoked"


def test_a_new_language_is_read_and_stored_not_answered_from_memory(server: ServerProcess) -> None:
    pid, device, cursor = server.caught_up_device("Spanish Speaker")
    with server.device_client(device["token"]) as http:
        _warm(http, cursor)
        answer = http.get("/v1/sync", params={"cursor": cursor}, headers={LANGUAGE_HEADER: "es"})
        assert answer.status_code == 200 and not _from_memory(answer)
        assert [d["language"] for d in server.staff.devices(pid)] == ["es"]


def test_another_patients_write_keeps_the_memo_and_sends_nothing(server: ServerProcess) -> None:
    _, device, cursor = server.caught_up_device("Bystander")
    other = server.staff.add_patient("Someone Else")["id"]
    with server.device_client(device["token"]) as http:
        _warm(http, cursor)
        server.staff.send_message(other, "Not for the bystander")
        answer = _pull(http, cursor)
        assert _from_memory(answer) and answer.json()["changes"] == []


def test_empty_reads_are_audited_as_one_count_before_the_next_read_of_records(server: ServerProcess) -> None:
    pid, device, cursor = server.caught_up_device("Counted Poller")
    with server.device_client(device["token"]) as http:
        for _ in range(4):
            assert _pull(http, cursor).json()["changes"] == []
        message = server.staff.send_message(pid, "Please call us")
        changes, _ = pull_all(http, cursor)
        assert [c["id"] for c in changes] == [message["id"]]

    def trail() -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = server.staff.request(
            "GET", "/v1/staff/audit", "admin", params={"patient_id": pid, "limit": 100}).json()["entries"]
        return [e for e in reversed(entries) if e["action"] in ("feed.read", "feed.poll")]

    assert wait_until(lambda: any(e["action"] == "feed.read" and f"message:{message['id']}" in str(e["detail"])
                                  for e in trail()), timeout=10)
    entries = trail()
    last_read = max(i for i, e in enumerate(entries) if e["action"] == "feed.read")
    poll = entries[last_read - 1]
    assert poll["action"] == "feed.poll" and poll["actor_id"] == device["device_id"]
    assert poll["detail"]["count"] == 4 and poll["detail"]["first"] <= poll["detail"]["last"]
