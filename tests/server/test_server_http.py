"""HTTP surface of the clinic server: one error shape everywhere, size caps, protocol version,
no patient data in logs, and the audit trail."""

from __future__ import annotations

import re
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.fixtures.server import ServerFactory
from tests.support.server_harness import ServerProcess, mutation, pull_all


def _error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, str]:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    if code is not None:
        assert body["error"]["code"] == code
    error: dict[str, str] = body["error"]
    return error


def test_health_and_openapi(sqlite_server: ServerProcess) -> None:
    assert httpx.get(sqlite_server.url("/healthz")).json()["status"] == "ok"
    schema = httpx.get(sqlite_server.url("/openapi.json")).json()
    assert "/v1/sync" in schema["paths"] and "/v1/staff/patients" in schema["paths"]


def test_unknown_routes_and_methods_answer_json(sqlite_server: ServerProcess) -> None:
    _error(httpx.get(sqlite_server.url("/nope")), 404, "not_found")
    _error(httpx.get(sqlite_server.url("/v1/staff/nope/deeper")), 404, "not_found")
    _error(httpx.put(sqlite_server.url("/v1/sync")), 405, "method_not_allowed")


def test_no_two_routes_can_answer_one_request(tmp_path: Path) -> None:
    """The server lists its hot routes first (FastAPI tries them in order); that is only safe while
    no request could match two routes of one method: a path parameter never shadows a literal."""
    from starlette.routing import compile_path

    from companion.clinic.server.app import create_app
    from companion.clinic.server.settings import Settings

    app = create_app(Settings.from_env(f"sqlite:///{tmp_path / 'c.db'}"))
    routes = [(method, path, compile_path(path)[0]) for path, item in app.openapi()["paths"].items()
              for method in item]
    assert len(routes) > 50
    clashes = [(m1, p1, p2) for i, (m1, p1, r1) in enumerate(routes) for m2, p2, r2 in routes[i + 1:]
               if m1 == m2 and (r1.match(re.sub(r"\{[^}]+\}", "x_1", p2)) or r2.match(re.sub(r"\{[^}]+\}", "x_1", p1)))]
    assert clashes == []


def test_validation_errors_name_the_field_without_echoing_the_value(sqlite_server: ServerProcess) -> None:
    secret = "Secret-Name-" + "x" * 200
    error = _error(sqlite_server.staff.request("POST", "/v1/staff/patients", json={"name": secret}), 422,
                   "invalid_request")
    assert "name" in error["message"] and secret not in error["message"]
    _error(sqlite_server.staff.request("POST", "/v1/staff/patients", json={"name": "A", "shoe_size": 9}), 422)
    _error(sqlite_server.staff.request("POST", "/v1/staff/patients", content=b"{not json",
                                       headers={"content-type": "application/json"}), 422)
    _error(sqlite_server.staff.request("POST", "/v1/staff/patients", json={"name": "  "}), 422)
    _error(sqlite_server.staff.request("POST", "/v1/staff/patients", json={"name": "Nul\x00byte"}), 422)
    _error(sqlite_server.staff.request("GET", "/v1/staff/patients", params={"limit": 501}), 422)
    _error(sqlite_server.staff.request("GET", "/v1/staff/patients/pat_x%00y"), 422)


def test_message_size_cap_is_5000_characters(sqlite_server: ServerProcess) -> None:
    pid = sqlite_server.staff.add_patient("Chatty")["id"]
    ok = sqlite_server.staff.request("POST", f"/v1/staff/patients/{pid}/messages", json={"body": "é" * 5000})
    assert ok.status_code == 201
    _error(sqlite_server.staff.request("POST", f"/v1/staff/patients/{pid}/messages", json={"body": "é" * 5001}),
           422, "invalid_request")


def test_bodies_over_one_mebibyte_get_413(sqlite_server: ServerProcess) -> None:
    big = b'{"name": "' + b"a" * (1024 * 1024) + b'"}'
    _error(sqlite_server.staff.request("POST", "/v1/staff/patients", content=big,
                                       headers={"content-type": "application/json"}), 413, "too_large")

    def chunks() -> object:
        yield b'{"mutations": ['
        for _ in range(300):
            yield b'{"id": "x", "type": "message.send", "payload": {"body": "' + b"b" * 4000 + b'"}},'
        yield b"]}"

    pid = sqlite_server.staff.add_patient("Streamer")["id"]
    device = sqlite_server.pair_device(pid)
    with sqlite_server.device_client(device["token"]) as http:
        _error(http.post("/v1/sync", content=chunks(),  # type: ignore[arg-type]
                         headers={"content-type": "application/json"}), 413, "too_large")


def test_protocol_header(sqlite_server: ServerProcess) -> None:
    pid = sqlite_server.staff.add_patient("Versioned")["id"]
    token = sqlite_server.pair_device(pid)["token"]
    url = sqlite_server.url("/v1/sync")
    auth = {"Authorization": f"Bearer {token}"}
    assert httpx.get(url, headers=auth).status_code == 200  # no header = version 1
    assert httpx.get(url, headers={**auth, "Companion-Protocol": "1"}).headers["companion-protocol"] == "1"
    assert httpx.get(url, headers={**auth, "Companion-Protocol": "1.3"}).status_code == 200
    error = _error(httpx.get(url, headers={**auth, "Companion-Protocol": "0"}), 426, "upgrade_required")
    assert "update" in error["message"]
    _error(httpx.post(sqlite_server.url("/v1/devices"), headers={"Companion-Protocol": "0"},
                      json={"code": "AAA-AAA-AAA"}), 426, "upgrade_required")
    _error(httpx.get(url, headers={**auth, "Companion-Protocol": "one"}), 422, "invalid_request")


def test_no_patient_data_in_server_logs(server_factory: ServerFactory) -> None:
    server = server_factory("sqlite", env={"COMPANION_LOG_LEVEL": "debug"})
    st = server.staff
    sentinels = {
        "name": "Quetzalcoatl Sentinelname", "body": "SENTINEL-BODY-7781 itchy rash", "value": "SENTINEL-VALUE-42",
        "test": "SENTINEL-TEST-PANEL", "payer": "SENTINEL-PAYER", "patient": "SENTINEL-PATIENT-MSG",
        "note": "SENTINEL-NOTE", "phone": "+1 555 0177", "email": "sentinel.person@example.org",
    }
    pid = st.add_patient(sentinels["name"], phone=sentinels["phone"], email=sentinels["email"])["id"]
    appt = st.add_appointment(pid, kind="SENTINEL-KIND", note=sentinels["note"])
    st.add_prep(appt["id"], title="SENTINEL-PREP", body=sentinels["note"])
    result = st.add_result(pid, test=sentinels["test"], value=sentinels["value"], note=sentinels["note"])
    st.release_result(result["id"])
    st.send_message(pid, sentinels["body"])
    st.request("GET", "/v1/staff/patients", params={"q": sentinels["name"]}).raise_for_status()
    st.request("GET", f"/v1/staff/patients/{sentinels['name']}")  # a name typed where an id goes: 404
    st.request("POST", "/v1/staff/patients", json={"name": sentinels["name"], "dob": sentinels["value"]})  # 422
    device = server.pair_device(pid)
    with server.device_client(device["token"]) as http:
        pull_all(http)
        http.post("/v1/sync", json={"mutations": [
            mutation("message.send", body=sentinels["patient"]),
            mutation("checkin.submit", appointment_id=appt["id"], insurance={"payer": sentinels["payer"]}),
            mutation("appointment.request", kind="x", preferred=[sentinels["value"]]),  # rejected with a reason
        ]}).raise_for_status()
        pull_all(http)
    st.inbox()
    server.stop()  # flush everything the process had to say
    log = server.log_text()
    assert "GET /v1/sync" in log  # the log is there and carries ids
    assert pid in log
    for what, secret in sentinels.items():
        assert secret not in log, f"the server log contains the {what}"
        assert secret.split()[0] not in log


def test_audit_trail_records_staff_actions_and_feed_reads(sqlite_server: ServerProcess) -> None:
    st = sqlite_server.staff
    pid = st.add_patient("Audited Person")["id"]
    result = st.add_result(pid, value="AUDIT-VALUE")
    st.release_result(result["id"])
    device = sqlite_server.pair_device(pid)
    with sqlite_server.device_client(device["token"]) as http:
        pull_all(http)
    entries = st.request("GET", "/v1/staff/audit", "admin", params={"patient_id": pid, "limit": 100}).json()[
        "entries"]
    actions = [(e["action"], e["actor_type"]) for e in reversed(entries)]
    assert ("patient.create", "staff") in actions and ("result.release", "staff") in actions
    assert ("device.pair", "device") in actions and ("feed.read", "device") in actions
    read = next(e for e in entries if e["action"] == "feed.read")
    assert read["actor_id"] == device["device_id"] and f"result:{result['id']}" in read["detail"]["records"]
    release = next(e for e in entries if e["action"] == "result.release")
    assert release["role"] == "clinician" and release["target"] == f"result:{result['id']}" and release["at"]
    assert "AUDIT-VALUE" not in repr(entries) and "Audited Person" not in repr(entries)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_audit_table_is_append_only(server_factory: ServerFactory, backend: str) -> None:
    from companion.clinic.server.database import Database

    server = server_factory(backend)
    server.staff.add_patient("Anyone")
    db = Database(server.db_url, pool_size=1)
    try:
        with db.read() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM audit").scalar_one() > 0
        for statement in ("UPDATE audit SET action = 'x'", "DELETE FROM audit"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.append() as conn:
                conn.exec_driver_sql(statement)
    finally:
        db.dispose()


def test_pushed_ids_must_be_uuids_and_answers_keep_order(sqlite_server: ServerProcess) -> None:
    pid = sqlite_server.staff.add_patient("Order")["id"]
    device = sqlite_server.pair_device(pid)
    ids = [str(uuid.uuid4()) for _ in range(5)]
    with sqlite_server.device_client(device["token"]) as http:
        answer = http.post("/v1/sync", json={"mutations": [
            mutation("message.send", mutation_id=i, body=f"n{n}") for n, i in enumerate(ids)]}).json()
    assert [r["id"] for r in answer["results"]] == ids


def test_conflicts_are_409(sqlite_server: ServerProcess) -> None:
    st = sqlite_server.staff
    pid = st.add_patient("Conflicted")["id"]
    appt = st.add_appointment(pid)
    st.request("PATCH", f"/v1/staff/appointments/{appt['id']}", json={"status": "completed"}).raise_for_status()
    _error(st.request("POST", f"/v1/staff/appointments/{appt['id']}/cancel", json={}), 409, "conflict")
    bill = st.add_bill(pid)
    st.request("PATCH", f"/v1/staff/bills/{bill['id']}", json={"status": "paid"}).raise_for_status()
    _error(st.request("PUT", f"/v1/staff/bills/{bill['id']}/payment-plan", json={"status": "active",
                                                                               "installments": 3}), 409)
    me = st.request("GET", "/v1/staff/me", "admin").json()
    _error(st.request("POST", f"/v1/staff/accounts/{me['id']}/revoke", "admin"), 409, "conflict")


def test_large_answers_are_gzipped_small_ones_and_waits_are_not_broken(sqlite_server: ServerProcess) -> None:
    """A pull page over a few KB travels gzipped (httpx asks for it and decodes it); small answers
    travel plain; a long-poll woken by a write still answers at once and decodes."""
    st = sqlite_server.staff
    pid = st.add_patient("Big Reader")["id"]
    device = sqlite_server.pair_device(pid)
    for i in range(40):
        st.send_message(pid, f"message {i}: please bring your card and arrive ten minutes early " * 4)
    with sqlite_server.device_client(device["token"]) as http:
        big = http.get("/v1/sync", params={"limit": 500})
        assert big.status_code == 200 and big.headers["content-encoding"] == "gzip"
        wire = int(big.headers["content-length"])
        assert len(big.content) > 3 * wire  # decoded by httpx; prose shrinks well
        assert len(big.json()["changes"]) == 41  # 40 messages + the profile
        cursor = big.json()["cursor"]
        plain = http.get("/v1/sync", params={"limit": 500}, headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.json() == big.json()
        small = http.get("/v1/sync", params={"cursor": cursor})
        assert "content-encoding" not in small.headers and small.json()["changes"] == []

        out: dict[str, Any] = {}

        def waiting() -> None:
            started = time.monotonic()
            answer = http.get("/v1/sync", params={"cursor": cursor, "wait": 20})
            out.update(answer=answer, took=time.monotonic() - started)

        thread = threading.Thread(target=waiting)
        thread.start()
        sqlite_server.await_pulls(1)
        st.send_message(pid, "woken: " + "a long message that is worth compressing " * 120)
        thread.join(timeout=25)
    answer = out["answer"]
    assert answer.status_code == 200 and answer.headers.get("content-encoding") == "gzip"
    assert [c["kind"] for c in answer.json()["changes"]] == ["message"]  # woken by it: a timeout answers empty
    print(f"gzip long-poll woken in {out['took'] * 1000:.0f} ms")


def test_a_time_before_year_1_in_utc_is_a_clear_refusal(sqlite_server: ServerProcess) -> None:
    """``0001-01-01T00:00+05:00`` has no UTC day (converting it raised OverflowError: a 500): the sync
    refuses the one mutation by field, a staff route answers 422 naming the parameter."""
    st = sqlite_server.staff
    pid = st.add_patient("Year One")["id"]
    early, late = "0001-01-01T00:00+05:00", "9999-12-31T23:30-05:00"
    with sqlite_server.device_client(sqlite_server.pair_device(pid)["token"]) as http:
        answer = http.post("/v1/sync", json={"mutations": [
            mutation("appointment.request", kind="STI screening", preferred=[early]),
            mutation("appointment.request", kind="STI screening", preferred=["2031-02-03T09:00:00Z", late])]})
    assert answer.status_code == 200, answer.text
    first, second = answer.json()["results"]
    assert first["status"] == second["status"] == "rejected"
    assert first["reason"].startswith("payload.preferred[0]: time out of range")
    assert second["reason"].startswith("payload.preferred[1]: time out of range")
    schedule = _error(st.request("GET", "/v1/staff/schedule", params={"start": early, "end": "0001-01-01T10:00+05:00"}),
                      422, "invalid_request")
    assert "start" in schedule["message"] and "years 1 and 9999" in schedule["message"]
    booked = _error(st.request("POST", f"/v1/staff/patients/{pid}/appointments",
                               json={"start": late, "minutes": 30, "kind": "STI screening"}), 422, "invalid_request")
    assert booked["message"].startswith("start: ")


def test_a_time_in_the_first_or_last_utc_year_is_stored_and_read_back(sqlite_server: ServerProcess) -> None:
    """Year 1 and year 9999 in UTC are odd but valid: stored with a four-digit year (``%Y`` wrote "1",
    which read back failed: a 500), listed in time order with the rest."""
    st = sqlite_server.staff
    pid = st.add_patient("Far Times")["id"]
    made = [st.request("POST", f"/v1/staff/patients/{pid}/appointments",
                       json={"start": start, "minutes": 30, "kind": "STI screening"})
            for start in ("9999-12-30T09:00:00Z", "2031-02-03T09:00:00Z", "0001-01-01T00:00:00Z")]
    assert [r.status_code for r in made] == [201, 201, 201], [r.text for r in made]
    listed = [a["start"][:4] for a in st.as_role("psr").appointments(pid)]
    assert listed == ["0001", "2031", "9999"]
