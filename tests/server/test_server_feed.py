"""The sync feed on SQLite and PostgreSQL: what a device sees, in what order, and when.

Scoping, pagination, tombstones, held results, reschedules, cursors, and long-poll wake-ups
(< 1 s; on PostgreSQL with the write made through a second server process).
"""

from __future__ import annotations

import base64
import contextlib
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from companion.clinic.server.schema import changes as changes_table
from companion.core.models import parse_record
from companion.core.protocol import MAX_PAGE
from tests.fixtures.server import ServerFactory
from tests.support.server_harness import ServerProcess, pull_all


def _kinds(changes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(c["kind"], c["op"]) for c in changes]


def _paired(server: ServerProcess, name: str = "Feed Patient") -> tuple[str, httpx.Client]:
    pid = server.staff.add_patient(name)["id"]
    device = server.pair_device(pid)
    return pid, server.device_client(device["token"])


def test_first_sync_carries_the_patients_records_and_clinic_articles_only(server: ServerProcess) -> None:
    other = server.staff.add_patient("Someone Else")["id"]
    server.staff.send_message(other, "not for you")
    pid, http = _paired(server)
    appt = server.staff.add_appointment(pid)
    server.staff.add_prep(appt["id"])
    server.staff.add_bill(pid)
    server.staff.send_message(pid, "welcome")
    article = server.staff.add_article(title="Window periods", body="# Window periods\n...")
    with http:
        changes, _ = pull_all(http)
    ids = {c["id"] for c in changes}
    assert {pid, appt["id"], article["id"]} <= ids
    assert other not in ids
    assert all(c["data"].get("body") != "not for you" for c in changes if c["kind"] == "message")
    seqs = [c["seq"] for c in changes]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    for c in changes:
        parse_record(c["kind"], c["data"])  # exactly what the app will parse


def test_pages_respect_limit_and_has_more_then_resume_from_cursor(server: ServerProcess) -> None:
    pid, http = _paired(server)
    for i in range(7):
        server.staff.send_message(pid, f"message {i}")
    with http:
        first = http.get("/v1/sync", params={"limit": 3}).json()
        assert len(first["changes"]) == 3 and first["has_more"] is True
        rest, cursor = pull_all(http, first["cursor"], limit=3)
        again = http.get("/v1/sync", params={"cursor": cursor}).json()
    everything = first["changes"] + rest
    assert [c["seq"] for c in everything] == sorted({c["seq"] for c in everything})
    assert sum(1 for c in everything if c["kind"] == "message") >= 7
    assert again["changes"] == [] and again["has_more"] is False and again["cursor"] == cursor


def test_limit_above_max_page_is_refused(server: ServerProcess) -> None:
    _, http = _paired(server)
    with http:
        assert http.get("/v1/sync", params={"limit": MAX_PAGE}).status_code == 200
        response = http.get("/v1/sync", params={"limit": MAX_PAGE + 1})
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"


def test_held_results_never_reach_a_device_and_release_emits_the_change(server: ServerProcess) -> None:
    pid, http = _paired(server)
    held = server.staff.add_result(pid, test="Syphilis RPR", value="HELD-SENTINEL-VALUE")
    blocked = server.staff.add_result(pid, test="HIV", value="BLOCKED-SENTINEL")
    server.staff.request("POST", f"/v1/staff/results/{blocked['id']}/block", "clinician").raise_for_status()
    with http:
        _, cursor = pull_all(http)
        raw = http.get("/v1/sync").text
        assert held["id"] not in raw and blocked["id"] not in raw and "SENTINEL" not in raw
        released = server.staff.release_result(held["id"])
        assert released["state"] == "released" and released["released_at"]
        new, cursor = pull_all(http, cursor)
        assert _kinds(new) == [("result", "upsert")]
        assert new[0]["data"]["released_at"] == released["released_at"]
        server.staff.request("POST", f"/v1/staff/results/{held['id']}/block", "clinician").raise_for_status()
        gone, _ = pull_all(http, cursor)
    assert gone == [{"seq": gone[0]["seq"], "kind": "result", "id": held["id"], "op": "delete", "data": None}]


def test_tombstones_for_deleted_prep_and_retracted_articles(server: ServerProcess) -> None:
    pid, http = _paired(server)
    appt = server.staff.add_appointment(pid)
    prep = server.staff.add_prep(appt["id"])
    article = server.staff.add_article(title="Costs", body="What things cost")
    with http:
        _, cursor = pull_all(http)
        server.staff.request("DELETE", f"/v1/staff/prep/{prep['id']}").raise_for_status()
        server.staff.request("DELETE", f"/v1/staff/articles/{article['id']}").raise_for_status()
        changes, _ = pull_all(http, cursor)
    deletes = {(c["kind"], c["id"]) for c in changes if c["op"] == "delete"}
    assert ("prep", prep["id"]) in deletes and ("article", article["id"]) in deletes


def test_reschedule_bumps_sequence_and_replaces_the_record(server: ServerProcess) -> None:
    pid, http = _paired(server)
    appt = server.staff.add_appointment(pid, start=datetime(2031, 5, 1, 9, 0, tzinfo=UTC))
    moved = server.staff.reschedule(appt["id"], datetime(2031, 5, 2, 14, 30, tzinfo=UTC))
    assert moved["sequence"] == 1
    same_time = server.staff.request("PATCH", f"/v1/staff/appointments/{appt['id']}", json={"location": "Room 2"})
    assert same_time.json()["sequence"] == 1  # not a reschedule
    with http:
        changes, _ = pull_all(http)
    mine = [c for c in changes if c["id"] == appt["id"]]
    assert len(mine) == 1  # one row per record: the feed holds the latest version only
    assert mine[0]["data"]["start"] == "2031-05-02T14:30:00Z" and mine[0]["data"]["sequence"] == 1
    assert mine[0]["data"]["location"] == "Room 2"


def test_cursors_from_another_database_or_the_future_are_expired(server: ServerProcess) -> None:
    _, http = _paired(server)
    with http:
        _, cursor = pull_all(http)
        epoch, seq = base64.urlsafe_b64decode(cursor + "==").decode().split(".")
        foreign = base64.urlsafe_b64encode(f"deadbeef.{seq}".encode()).decode().rstrip("=")
        ahead = base64.urlsafe_b64encode(f"{epoch}.{int(seq) + 10**9}".encode()).decode().rstrip("=")
        for bad in (foreign, ahead):
            response = http.get("/v1/sync", params={"cursor": bad})
            assert response.status_code == 410 and response.json()["error"]["code"] == "cursor_expired"
        junk = http.get("/v1/sync", params={"cursor": "!!not-a-cursor"})
        assert junk.status_code == 422


def _long_poll(server: ServerProcess, token: str, cursor: str, wait: float, out: dict[str, Any]) -> None:
    with server.device_client(token) as http:
        response = http.get("/v1/sync", params={"cursor": cursor, "wait": wait})
        out["status"] = response.status_code
        out["body"] = response.json()
        out["timing"] = response.headers.get("server-timing", "")


def _start_poll(server: ServerProcess, token: str, cursor: str,
                wait: float = 20) -> tuple[threading.Thread, dict[str, Any]]:
    """A long-poll in a thread, settled into its wait; ``out`` fills in when it answers.

    Whatever woke it is in the answer, not in how soon it came: a poll whose wait ran out answers
    200 with an empty page and no durations in ``Server-Timing`` (it does not read the feed again)."""
    out: dict[str, Any] = {}
    before = server.waiting_pulls()
    thread = threading.Thread(target=_long_poll, args=(server, token, cursor, wait, out))
    thread.start()
    server.await_pulls(before + 1)
    return thread, out


def _woken_by_a_message(waiter: ServerProcess, writer: ServerProcess) -> dict[str, Any]:
    pid, device, cursor = waiter.caught_up_device("Waiting Patient", writer=writer)
    thread, out = _start_poll(waiter, device["token"], cursor)
    writer.staff.send_message(pid, "your results are ready to view")
    thread.join(timeout=25)
    return out


def test_long_poll_is_woken_by_a_staff_message(server: ServerProcess) -> None:
    out = _woken_by_a_message(server, server)
    assert out["status"] == 200 and [c["kind"] for c in out["body"]["changes"]] == ["message"]
    assert "hand;dur=" in out["timing"]  # woken by the commit, its rows handed over (how soon: bench/server.py)


@pytest.mark.postgres
def test_long_poll_wakes_across_server_processes_on_postgresql(server_factory: ServerFactory) -> None:
    first = server_factory("postgresql")
    second = server_factory.second_process(first)
    out = _woken_by_a_message(first, second)  # device waits on process 1, PSR writes through process 2
    assert out["status"] == 200 and [c["kind"] for c in out["body"]["changes"]] == ["message"]
    assert "read;dur=" in out["timing"]  # woken and read again (the commit's time is the other process's)


def test_long_poll_returns_empty_after_wait_and_ignores_other_patients(server: ServerProcess) -> None:
    _, device, cursor = server.caught_up_device("Patient Waiting")
    other = server.staff.add_patient("Other")["id"]
    thread, out = _start_poll(server, device["token"], cursor, wait=3)
    server.staff.send_message(other, "for someone else")
    still = server.waiting_pulls()  # committed while it waited (else this test would prove nothing)
    thread.join(timeout=10)
    assert still >= 1 and out["status"] == 200
    assert out["body"]["changes"] == [] and out["body"]["cursor"] == cursor
    assert "dur=" not in out["timing"]  # never woken: no durations (at most "memo", its first read's)


def test_revoking_a_device_ends_its_long_poll_with_401(server: ServerProcess) -> None:
    _, device, cursor = server.caught_up_device("Lost Phone")
    thread, out = _start_poll(server, device["token"], cursor)
    server.staff.revoke_device(device["device_id"])
    thread.join(timeout=25)
    # its 20 s running out would answer 200 and an empty page: the 401 says the revocation woke it
    assert out["status"] == 401 and out["body"]["error"]["code"] == "device_revoked"


def test_a_poll_woken_by_a_write_after_its_revocation_gets_401_not_the_page(server: ServerProcess) -> None:
    """Revoke, then write for the patient at once: the waiting poll must not carry the new message."""
    for i in range(3):  # the two writes race the poll's wake-up differently each time
        pid, device, cursor = server.caught_up_device(f"Stolen Phone {i}")  # each round a live device
        thread, out = _start_poll(server, device["token"], cursor)
        server.staff.revoke_device(device["device_id"])
        server.staff.send_message(pid, "private: your results are in")
        thread.join(timeout=25)
        assert out["status"] == 401 and out["body"]["error"]["code"] == "device_revoked", out
        assert "changes" not in out["body"] and "results" not in str(out["body"])


def test_new_article_reaches_every_patient(server: ServerProcess) -> None:
    with contextlib.ExitStack() as stack:
        clients = [stack.enter_context(_paired(server, f"Reader {i}")[1]) for i in range(3)]
        cursors = [pull_all(http)[1] for http in clients]
        article = server.staff.add_article(title="How results reach you", body="Through the app.",
                                           tags=["results"], appointment_kind="STI screening")
        for http, cursor in zip(clients, cursors, strict=True):
            changes, _ = pull_all(http, cursor)
            assert [(c["kind"], c["id"]) for c in changes] == [("article", article["id"])]
            assert changes[0]["data"]["appointment_kind"] == "STI screening"


def test_profile_insurance_verification_reaches_the_patient(server: ServerProcess) -> None:
    pid, http = _paired(server)
    with http:
        _, cursor = pull_all(http)
        server.staff.verify_insurance(pid, "rejected", note="Card expired")
        changes, _ = pull_all(http, cursor)
    assert [c["kind"] for c in changes] == ["profile"]
    assert changes[0]["data"]["insurance"]["status"] == "rejected"
    assert changes[0]["data"]["insurance"]["note"] == "Card expired"


def test_timestamps_on_the_wire_are_utc_with_z(server: ServerProcess) -> None:
    pid, http = _paired(server)
    server.staff.add_appointment(pid, start="2031-01-01T10:00:00+02:00")
    with http:
        changes, _ = pull_all(http)
    appt = next(c for c in changes if c["kind"] == "appointment")
    assert appt["data"]["start"] == "2031-01-01T08:00:00Z"
    assert datetime.fromisoformat(appt["data"]["start"].replace("Z", "+00:00")) - datetime(
        2031, 1, 1, 8, tzinfo=UTC) == timedelta(0)


def test_a_pull_is_an_index_range_scan_on_scope_and_seq(server: ServerProcess) -> None:
    """The feed query never walks the table: the plan uses ix_changes_scope_seq on both databases."""
    from companion.clinic.server.database import Database
    from companion.clinic.server.feed import scan_query

    pid = server.staff.add_patient("Planned")["id"]
    db = Database(server.db_url, pool_size=1)
    try:
        with db.append() as conn:  # enough rows of other patients that a table scan would be costly
            rows = [{"scope": f"pat_other{n % 500}", "kind": "message", "record_id": f"msg_plan{n}", "op": "delete",
                     "data": None} for n in range(5000)]
            conn.execute(sa.insert(changes_table), rows)
        with db.append() as conn:
            conn.exec_driver_sql("ANALYZE")
        with db.read() as conn:
            compiled = scan_query(pid, 3, 201).compile(conn, compile_kwargs={"literal_binds": True})
            explain = "EXPLAIN" if db.is_postgres else "EXPLAIN QUERY PLAN"
            plan = " ".join(str(r) for r in conn.exec_driver_sql(f"{explain} {compiled}").all())
    finally:
        db.dispose()
    assert "ix_changes_scope_seq" in plan, plan
