"""Pairing codes and device revocation against the real server.

Codes expire (a 1-second TTL setting stands in for 10 minutes), die after 5 wrong guesses aimed
at them, work once; the pairing endpoint answers 429 with Retry-After under brute force, for
right codes too; a revoked device is refused on every endpoint at once.
"""

from __future__ import annotations

import time

import httpx
import pytest

from companion.clinic.server.tokens import CODE_ALPHABET
from tests.fixtures.server import ServerFactory
from tests.support.server_harness import ServerProcess, pull_all


def _pair(server: ServerProcess, code: str) -> httpx.Response:
    with server.device_client() as http:
        return http.post("/v1/devices", json={"code": code, "device_name": "Phone"})


def _wrong_guess_for(code: str) -> str:
    """Same lookup group (first 3 characters), different secret: a guess aimed at this code."""
    raw = code.replace("-", "")
    last = CODE_ALPHABET[(CODE_ALPHABET.index(raw[-1]) + 1) % len(CODE_ALPHABET)]
    return f"{raw[:3]}-{raw[3:6]}-{raw[6:8]}{last}"


def test_code_pairs_once_and_the_answer_follows_the_protocol(sqlite_server: ServerProcess) -> None:
    from companion.core.protocol import parse_pairing_response

    pid = sqlite_server.staff.add_patient("Pairing Patient")["id"]
    issued = sqlite_server.staff.pairing_code(pid)
    assert set(issued) == {"code", "expires_at", "patient_id"}
    answer = _pair(sqlite_server, issued["code"].lower().replace("-", " "))  # typed loosely: still fine
    assert answer.status_code == 200, answer.text
    pairing = parse_pairing_response(answer.json())
    assert pairing.patient_id == pid and pairing.token.startswith("cpd_")
    again = _pair(sqlite_server, issued["code"])
    assert again.status_code == 422 and again.json()["error"]["code"] == "pairing_failed"
    devices = sqlite_server.staff.devices(pid)
    assert [d["id"] for d in devices] == [pairing.device_id] and devices[0]["name"] == "Phone"


def test_code_expires(server_factory: ServerFactory) -> None:
    server = server_factory("sqlite", env={"COMPANION_PAIRING_TTL": "1"})
    pid = server.staff.add_patient("Slow Typist")["id"]
    code = server.staff.pairing_code(pid)["code"]
    # Elapsed time meant: the code's 1 s lifetime must pass (polling with tries would spend the rate limit).
    time.sleep(1.3)
    response = _pair(server, code)
    assert response.status_code == 422 and response.json()["error"]["code"] == "pairing_failed"
    fresh = server.staff.pairing_code(pid)["code"]
    assert _pair(server, fresh).status_code == 200


def test_five_wrong_guesses_kill_the_code(sqlite_server: ServerProcess) -> None:
    pid = sqlite_server.staff.add_patient("Guessed At")["id"]
    code = sqlite_server.staff.pairing_code(pid)["code"]
    for _ in range(5):
        assert _pair(sqlite_server, _wrong_guess_for(code)).status_code == 422
    dead = _pair(sqlite_server, code)
    assert dead.status_code == 422 and dead.json()["error"]["code"] == "pairing_failed"
    assert sqlite_server.staff.devices(pid) == []


def test_brute_force_gets_429_with_retry_after_even_for_the_right_code(server_factory: ServerFactory) -> None:
    server = server_factory("sqlite")  # default limits: 10 failures per address per 10 minutes
    pid = server.staff.add_patient("Target")["id"]
    code = server.staff.pairing_code(pid)["code"]
    statuses = [_pair(server, f"ZZZ-ZZZ-ZZ{CODE_ALPHABET[i]}").status_code for i in range(12)]
    assert statuses[:10] == [422] * 10 and statuses[10:] == [429, 429]
    limited = _pair(server, code)
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
    retry_after = int(limited.headers["Retry-After"])
    assert 1 <= retry_after <= 600


def test_rate_limit_window_slides(server_factory: ServerFactory) -> None:
    server = server_factory("sqlite", env={"COMPANION_PAIRING_RATE": "3/2"})
    pid = server.staff.add_patient("Patient")["id"]
    for _ in range(3):
        assert _pair(server, "AAA-AAA-AAA").status_code == 422
    blocked = _pair(server, "AAA-AAA-AAA")
    assert blocked.status_code == 429 and 1 <= int(blocked.headers["Retry-After"]) <= 2
    # Elapsed time meant: the 2 s window must slide past the three failures (a try meanwhile would count).
    time.sleep(2.2)
    assert _pair(server, server.staff.pairing_code(pid)["code"]).status_code == 200


def test_malformed_pairing_requests_are_422(sqlite_server: ServerProcess) -> None:
    with sqlite_server.device_client() as http:
        for body in ({}, {"code": 12345}, {"code": "ABC-DEF-GHJ", "extra": 1}, {"code": "x" * 41}):
            response = http.post("/v1/devices", json=body)
            assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_revocation_is_immediate_on_every_endpoint_and_every_process(server_factory: ServerFactory,
                                                                     backend: str) -> None:
    first = server_factory(backend)
    servers = [first] + ([server_factory.second_process(first)] if backend == "postgresql" else [])
    pid = first.staff.add_patient("Lost Phone")["id"]
    device = first.pair_device(pid)
    keep = first.pair_device(pid)
    for server in servers:
        with server.device_client(device["token"]) as http:
            assert http.get("/v1/sync").status_code == 200
    first.staff.revoke_device(device["device_id"])
    for server in servers:
        with server.device_client(device["token"]) as http:
            for method, path in (("GET", "/v1/sync"), ("POST", "/v1/sync"), ("GET", "/v1/devices/me")):
                response = http.request(method, path, json={"mutations": []} if method == "POST" else None)
                assert response.status_code == 401 and response.json()["error"]["code"] == "device_revoked"
        with server.device_client(keep["token"]) as http:  # the patient's other device is untouched
            pull_all(http)
    listed = {d["id"]: d for d in first.staff.devices(pid)}
    assert listed[device["device_id"]]["revoked"] is True and listed[keep["device_id"]]["revoked"] is False


def test_a_device_can_unpair_itself(sqlite_server: ServerProcess) -> None:
    pid = sqlite_server.staff.add_patient("Wiping")["id"]
    device = sqlite_server.pair_device(pid)
    with sqlite_server.device_client(device["token"]) as http:
        assert http.delete("/v1/devices/me").status_code == 204
        assert http.get("/v1/sync").json()["error"]["code"] == "device_revoked"
