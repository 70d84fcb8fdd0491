"""The staff message route after its lighter patient check and its one trip to the thread pool
(issue 14's live path): an unknown patient is still a one-line 404 naming the patient, a token is
still admitted before the body is judged, a token admitted lately (checked inside the write) is
still refused the moment it ends, and nothing refused is written or published."""

from __future__ import annotations

import json

import httpx
import pytest
import sqlalchemy as sa

from companion.core.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.fixtures.desk import PASSWORD, add_desk_user
from tests.fixtures.flet_session import run_isolated
from tests.fixtures.server import BACKENDS, ServerFactory
from tests.support.server_harness import ServerProcess, pull_all


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_message_to_an_unknown_patient_is_404_and_writes_nothing(server_factory: ServerFactory, backend: str) -> None:
    """The message's own foreign key finds the patient missing (no probe first), on either database:
    a 404 naming the patient, the transaction rolled back, nothing in any feed or the audit."""
    server = server_factory(backend)
    st = server.staff
    pid, device, cursor = server.caught_up_device("Known Patient")
    refused = st.request("POST", "/v1/staff/patients/pat_doesnotexist/messages", json={"body": "hello"})
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    assert "patient" in refused.json()["error"]["message"]
    sent = st.send_message(pid, "For the known patient")
    with server.device_client(device["token"]) as http:
        changes, _ = pull_all(http, cursor)
    assert [c["id"] for c in changes] == [sent["id"]]  # the refused one never reached any feed
    audit = st.request("GET", "/v1/staff/audit", "admin", params={"action": "message.send", "limit": 100}).json()
    assert all(e["patient_id"] != "pat_doesnotexist" for e in audit["entries"])


def test_a_staff_write_says_where_its_time_went_and_a_refusal_says_nothing(sqlite_server: ServerProcess) -> None:
    """A staff write's answer carries ``Server-Timing`` with durations only (routing until the write,
    the writers' lock, the statements, the commit): what ``bench/sync.py`` splits a live change by.
    A refused write (404, 422) carries none, and nothing in the header names a patient or a record."""
    st = sqlite_server.staff
    pid = st.add_patient("Timed Patient")["id"]
    sent = st.request("POST", f"/v1/staff/patients/{pid}/messages", json={"body": "Your kit is ready"})
    assert sent.status_code == 201, sent.text
    header = sent.headers["server-timing"]
    parts = dict(part.strip().split(";dur=") for part in header.split(","))
    assert list(parts) == ["route", "lock", "write", "commit"], header
    assert all(float(ms) >= 0 for ms in parts.values()), header
    assert pid not in header and sent.json()["id"] not in header
    for path, body in (("/v1/staff/patients/pat_doesnotexist/messages", {"body": "hello"}),
                       (f"/v1/staff/patients/{pid}/messages", {"body": ""})):
        refused = st.request("POST", path, json=body)
        assert refused.status_code in (404, 422) and "server-timing" not in refused.headers, refused.headers
    read = st.request("GET", f"/v1/staff/patients/{pid}/messages")
    assert read.status_code == 200 and "server-timing" not in read.headers  # reads carry none


def test_the_token_is_checked_before_the_body_whatever_the_body(sqlite_server: ServerProcess) -> None:
    """The route admits its token in its own worker thread (one trip with the write), yet a caller
    still learns nothing from a body before its token is admitted: a bad body from an unknown,
    revoked, device or wrong-role token gets the same 401 / 403 as a good one would; only an
    admitted PSR hears that the body is wrong, and nothing is written for any of them."""
    st = sqlite_server.staff
    pid, device, cursor = sqlite_server.caught_up_device("Precedence Patient")
    made = st.request("POST", "/v1/staff/accounts", "admin", json={"name": "Leaving PSR", "role": "psr"}).json()
    revoked = made["token"]
    assert st.request("POST", f"/v1/staff/accounts/{made['id']}/revoke", "admin").status_code == 200
    path = f"/v1/staff/patients/{pid}/messages"
    bodies = [{"body": "hello"}, {"body": ""}, {"body": "x" * 100_000}, {"nobody": 1}, [1, 2], "not json"]
    callers = {"none": None, "unknown": "cps_" + "a" * 40, "revoked": revoked, "device": device["token"],
               "another kind": "cst_" + "a" * 40, "malformed": "Bearer-ish"}
    with httpx.Client(base_url=sqlite_server.base_url, timeout=30.0) as raw:
        for body in bodies:
            content = body if isinstance(body, str) else json.dumps(body)
            for who, token in callers.items():
                headers = {"Content-Type": "application/json"}
                if token is not None:
                    headers["Authorization"] = f"Bearer {token}"
                answer = raw.post(path, content=content, headers=headers)
                assert answer.status_code == 401, (who, body, answer.status_code, answer.text[:200])
                assert answer.json()["error"]["code"] in {"unauthorized", "invalid_token", "staff_revoked"}
            admin = st.request("POST", path, "admin", content=content, headers={"Content-Type": "application/json"})
            assert admin.status_code == 403 and admin.json()["error"]["code"] == "forbidden", (body, admin.text)
            psr = st.request("POST", path, content=content, headers={"Content-Type": "application/json"})
            expected = 201 if body == {"body": "hello"} else 422
            assert psr.status_code == expected, (body, psr.text[:200])
            if expected == 422:
                assert psr.json()["error"]["code"] == "invalid_request" and "\n" not in psr.json()["error"]["message"]
    with sqlite_server.device_client(device["token"]) as http:
        changes, _ = pull_all(http, cursor)
    assert [c["data"]["body"] for c in changes] == ["hello"]  # the PSR's one good message, nothing else


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_token_that_just_sent_is_refused_the_moment_it_is_revoked_or_signed_out(
        server_factory: ServerFactory, backend: str) -> None:
    """A token this process admitted lately is admitted again inside the message's own write (one
    read less); it is still the database that says yes. Revoked, or its desk session ended — here,
    or on PostgreSQL through another server process — its very next message is a 401 that writes
    nothing, and a token never admitted is checked before the write as always."""
    here = server_factory(backend)
    there = server_factory.second_process(here) if backend == "postgresql" else here
    pid, device, cursor = here.caught_up_device("Revocation Patient")
    path = f"/v1/staff/patients/{pid}/messages"
    leaving = {"name": "Leaving PSR", "role": "psr"}
    made = there.staff.request("POST", "/v1/staff/accounts", "admin", json=leaving).json()
    add_desk_user(here, "Desk PSR", "psr")
    with httpx.Client(base_url=here.base_url, timeout=30.0) as raw:
        session = raw.post("/v1/staff/sessions", json={"name": "Desk PSR", "password": PASSWORD}).json()["token"]
        for token in (made["token"], session):
            sent = raw.post(path, json={"body": "first"}, headers={"Authorization": f"Bearer {token}"})
            assert sent.status_code == 201, sent.text
        assert there.staff.request("POST", f"/v1/staff/accounts/{made['id']}/revoke", "admin").status_code == 200
        with httpx.Client(base_url=there.base_url, timeout=30.0) as other:
            assert other.delete("/v1/staff/sessions/current",
                                headers={"Authorization": f"Bearer {session}"}).status_code == 204
        for token, code in ((made["token"], "staff_revoked"), (session, "session_ended")):
            refused = raw.post(path, json={"body": "after the end"}, headers={"Authorization": f"Bearer {token}"})
            assert refused.status_code == 401 and refused.json()["error"]["code"] == code, refused.text
    with here.device_client(device["token"]) as http:
        changes, _ = pull_all(http, cursor)
    assert [c["data"]["body"] for c in changes] == ["first", "first"]


def test_a_psr_message_is_one_transaction_of_few_statements(server_factory: ServerFactory) -> None:
    """The live path's cost is counted in statements: the second message of a token is one write
    transaction — its token check, the message (whose foreign key is the patient check), its feed
    change, the inbox items it settles, the audit row — with nothing read back and no read
    transaction before it."""
    from companion.clinic.server.app import create_app
    from companion.clinic.server.settings import Settings

    server = server_factory()
    pid = server.staff.add_patient("Counted")["id"]
    server.stop()
    app = create_app(Settings.from_env(server.db_url))
    statements: list[str] = []
    sa.event.listen(app.state.ctx.db.engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *rest: statements.append(" ".join(statement.split()[:3])))
    headers = {"Authorization": f"Bearer {server.tokens['psr']}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}

    async def send_two() -> list[list[str]]:
        counted = []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as http:
            for body in ("first", "second"):
                statements.clear()
                sent = await http.post(f"/v1/staff/patients/{pid}/messages", json={"body": body}, headers=headers)
                assert sent.status_code == 201, sent.text
                counted.append(list(statements))
        return counted

    try:
        first, second = run_isolated(send_two())
    finally:
        app.state.ctx.db.dispose()
    assert first[:3] == ["BEGIN", "SELECT staff.id, staff.name,", "BEGIN IMMEDIATE"], first  # a token new here
    assert second[:2] == ["BEGIN IMMEDIATE", "SELECT staff.id, staff.name,"], second  # checked inside the write
    assert second.count("BEGIN IMMEDIATE") == 1 and "BEGIN" not in second, second
    assert not any(s.startswith(("DELETE", "UPDATE", "SELECT messages")) for s in second), second  # nothing read back
    assert not any(s.startswith("SELECT patients") for s in second), second  # the message's foreign key checks
    assert len(second) <= 6, second
    assert not any(s.startswith("SELECT max(changes.seq)") for s in second), second  # (nobody waits here)
