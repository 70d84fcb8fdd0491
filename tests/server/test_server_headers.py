"""Security headers on every /v1 answer of the real server, errors and the guard's own answers too,
and never a wildcard CORS grant — even when a browser on another site asks for one."""

from __future__ import annotations

import httpx
import pytest

from companion.core.protocol import MAX_REQUEST_BYTES
from tests.support.server_harness import ServerProcess

EXPECTED = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "cache-control": "no-store"}
EVIL = {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}


def _check(response: httpx.Response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get_list(name) == [value], (response.request.url, name, response.headers)
    assert "access-control-allow-origin" not in response.headers


def test_api_answers_carry_the_security_headers(sqlite_server: ServerProcess) -> None:
    staff = sqlite_server.staff
    pid = staff.add_patient("Header Check")["id"]
    device = sqlite_server.pair_device(pid)
    for _ in range(30):  # enough for a gzip-compressed pull
        staff.send_message(pid, "a message long enough to be worth compressing " * 3)
    answers = [
        staff.request("GET", "/v1/staff/me"),  # 200
        staff.request("GET", f"/v1/staff/patients/{pid}/messages", headers=EVIL),  # 200, foreign Origin
        staff.request("GET", "/v1/staff/patients/pat_nothere0000"),  # 404
        staff.request("POST", "/v1/staff/patients", json={"name": ""}),  # 422
        staff.request("GET", "/v1/staff/audit"),  # 403: a PSR
        httpx.get(sqlite_server.url("/v1/staff/me"), headers={"Authorization": "Bearer cps_wrong"}),  # 401
        httpx.get(sqlite_server.url("/v1/no-such-route")),  # 404 from the router
        httpx.request("OPTIONS", sqlite_server.url("/v1/sync"), headers=EVIL),  # a CORS preflight: 405
        httpx.get(sqlite_server.url("/v1/sync"), headers={"Companion-Protocol": "0"}),  # 426 from the guard
        httpx.post(sqlite_server.url("/v1/sync"), content=b"x" * (MAX_REQUEST_BYTES + 1)),  # 413 from the guard
    ]
    with sqlite_server.device_client(device["token"]) as http:
        pulled = http.get("/v1/sync", params={"limit": 500}, headers={"Origin": "https://evil.example"})
    assert pulled.headers.get("content-encoding") == "gzip"
    answers.append(pulled)
    statuses = [a.status_code for a in answers]
    assert statuses == [200, 200, 404, 422, 403, 401, 404, 405, 426, 413, 200], statuses
    for answer in answers:
        _check(answer)


@pytest.mark.parametrize("path", ["/healthz", "/openapi.json"])
def test_no_wildcard_cors_outside_the_api_either(sqlite_server: ServerProcess, path: str) -> None:
    answer = httpx.get(sqlite_server.url(path), headers={"Origin": "https://evil.example"})
    assert answer.status_code == 200 and "access-control-allow-origin" not in answer.headers


def test_the_guard_strips_a_wildcard_grant_and_replaces_caching_headers() -> None:
    """Whatever a route or a future middleware sets, the guard's rule holds (the pure function)."""
    from companion.clinic.server.middleware import secure_headers

    route_set = [(b"access-control-allow-origin", b"*"), (b"cache-control", b"max-age=600"),
                 (b"content-type", b"application/json")]
    api = secure_headers(route_set, "/v1/staff/articles")
    assert (b"access-control-allow-origin", b"*") not in api and (b"content-type", b"application/json") in api
    assert [v for n, v in api if n == b"cache-control"] == [b"no-store"]
    desk = secure_headers(route_set, "/desk/app.js")  # the desk's own pages set their own caching
    assert desk == route_set[1:]
    exact = [(b"access-control-allow-origin", b"https://desk.clinic.example")]
    assert secure_headers(exact, "/desk") == exact
