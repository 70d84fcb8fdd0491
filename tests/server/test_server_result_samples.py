"""When a result's sample was taken, on SQLite and PostgreSQL: staff record it (API and
``companion-psr``), the feed carries it, an old database gains the column with its results kept
(their sample day unknown), and a withdrawn request leaves the desk one inbox item, not two."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from companion.clinic.psr.cli import main as psr_main
from companion.clinic.server.records import result_of
from companion.clinic.server.schema import SCHEMA_VERSION, results
from companion.core.models import Result, parse_record
from companion.core.requests import request_appointment_id
from tests.fixtures.server import BACKENDS
from tests.support.old_schema import add_old_patient, migrated_from, schema_version
from tests.support.server_harness import ServerProcess, mutation, pull_all


@pytest.fixture
def device(server: ServerProcess) -> Iterator[tuple[str, httpx.Client]]:
    pid = server.staff.add_patient("Sample Patient")["id"]
    with server.device_client(server.pair_device(pid)["token"]) as http:
        yield pid, http


def _feed_results(http: httpx.Client) -> dict[str, dict[str, Any]]:
    changes, _ = pull_all(http)
    return {c["id"]: c["data"] for c in changes if c["kind"] == "result" and c["op"] == "upsert"}


def test_the_sample_day_goes_from_staff_through_the_feed_to_the_record(
        server: ServerProcess, device: tuple[str, httpx.Client]) -> None:
    pid, http = device
    dated = server.staff.add_result(pid, test="HIV-1/2 Ag/Ab", sensitive=True, sample_taken="2026-11-28")
    undated = server.staff.add_result(pid, test="Syphilis antibody")
    assert dated["sample_taken"] == "2026-11-28" and undated["sample_taken"] is None  # the staff view says it
    for r in (dated, undated):
        server.staff.release_result(r["id"])
    feed = _feed_results(http)
    assert feed[dated["id"]]["sample_taken"] == "2026-11-28"
    assert feed[undated["id"]]["sample_taken"] is None
    record = parse_record("result", feed[dated["id"]])
    assert isinstance(record, Result) and record.sample_taken == date(2026, 11, 28)


@pytest.mark.parametrize("bad", ["28/11/2026", "2026-11-31", 20261128, "2026-11-28T10:00:00Z"])
def test_a_sample_day_that_is_not_a_date_is_refused(server: ServerProcess, bad: Any) -> None:
    pid = server.staff.add_patient("Bad Sample")["id"]
    response = server.staff.request("POST", f"/v1/staff/patients/{pid}/results", role="clinician",
                                    json={"test": "HIV", "interpretation": "negative", "sample_taken": bad})
    assert response.status_code == 422, response.text


def test_companion_psr_result_add_takes_the_sample_day(server: ServerProcess, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    pid = server.staff.add_patient("CLI Sample")["id"]
    monkeypatch.setenv("COMPANION_SERVER", server.base_url)
    monkeypatch.setenv("COMPANION_STAFF_TOKEN", server.tokens["clinician"])
    assert psr_main(["result", "add", pid, "--test", "Chlamydia NAAT", "--interpretation", "negative",
                     "--sample-taken", "2026-11-28", "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["sample_taken"] == "2026-11-28" and made["state"] == "held"
    assert psr_main(["result", "list", pid]) == 0
    assert "sample taken 2026-11-28" in capsys.readouterr().out
    assert psr_main(["result", "add", pid, "--test", "X", "--interpretation", "negative",
                     "--sample-taken", "28 Nov"]) != 0
    assert "--sample-taken" in capsys.readouterr().err


def test_withdrawing_a_request_leaves_the_desk_one_item(
        server: ServerProcess, device: tuple[str, httpx.Client]) -> None:
    pid, http = device
    ask = mutation("appointment.request", kind="HIV test", note="Evenings")
    response = http.post("/v1/sync", json={"mutations": [ask]})
    assert response.status_code == 200 and response.json()["results"][0]["status"] == "applied"
    visit_id = request_appointment_id(ask["id"])
    withdraw = mutation("appointment.cancel", appointment_id=visit_id, reason="Found another clinic")
    response = http.post("/v1/sync", json={"mutations": [withdraw]})
    assert response.status_code == 200 and response.json()["results"][0]["status"] == "applied"
    [item] = server.staff.inbox("open", patient_id=pid)  # the withdrawal only
    assert item["kind"] == "appointment.cancel" and item["detail"]["was"] == "requested"
    assert item["ref_id"] == visit_id
    [settled] = [i for i in server.staff.inbox("handled", patient_id=pid) if i["kind"] == "appointment.request"]
    assert settled["ref_id"] == visit_id and settled["handled"]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_server").new_database()
        return url
    return f"sqlite:///{tmp_path / 'old.db'}"


def test_a_version_2_database_gains_sample_days_and_keeps_its_results(database_url: str) -> None:
    def as_it_was(conn: sa.Connection) -> None:  # schema 2, with a released result in it
        conn.execute(sa.text("ALTER TABLE results DROP COLUMN sample_taken"))
        add_old_patient(conn)
        conn.execute(sa.text("INSERT INTO results (id, patient_id, test, interpretation, sensitive, state, "
                             "released_at, created_by, created_at) VALUES ('res_old', 'pat_old', 'HIV', 'negative', "
                             ":no, 'released', :t, 'stf_1', :t)"), {"t": "2026-01-02T00:00:00.000000Z", "no": False})

    with migrated_from(database_url, 2, as_it_was) as db:
        with db.read() as conn:
            version = schema_version(conn)
            row = conn.execute(sa.select(results).where(results.c.id == "res_old")).mappings().one()
        assert version == str(SCHEMA_VERSION)
        record = result_of(row)
        assert record.sample_taken is None and record.to_dict()["sample_taken"] is None
        with db.engine.begin() as conn:
            conn.execute(sa.update(results).where(results.c.id == "res_old").values(sample_taken=date(2026, 1, 1)))
        with db.read() as conn:
            row = conn.execute(sa.select(results).where(results.c.id == "res_old")).mappings().one()
        assert result_of(row).sample_taken == date(2026, 1, 1)
