"""The next PrEP test date, on SQLite and PostgreSQL: staff set it on a patient (the desk's PATCH), the
patient's own feed carries it in the profile, and no one else's; bad, oversized and malformed dates,
an unknown patient, a device token and the roles without patient writes are refused; a version 4
database gains the column."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa

from companion.clinic.server.records import profile_of
from companion.clinic.server.schema import SCHEMA_VERSION, patients
from companion.config import ClinicProfile
from companion.core.models import Profile
from companion.reminders import RecordingNotifier, deliver_due
from companion.sync.client import client_for_vault, synchronize
from companion.sync.pairing import pair
from companion.vault import ScryptParams, Vault
from tests.fixtures.server import BACKENDS
from tests.support.old_schema import add_old_patient, migrated_from, schema_version
from tests.support.server_harness import ServerProcess, pull_all


@pytest.fixture
def device(server: ServerProcess) -> Iterator[tuple[str, httpx.Client]]:
    pid = server.staff.add_patient("PrEP Patient")["id"]
    with server.device_client(server.pair_device(pid)["token"]) as http:
        yield pid, http


def _profile(http: httpx.Client) -> dict[str, Any]:
    changes, _ = pull_all(http)
    [profile] = [c["data"] for c in changes if c["kind"] == "profile" and c["op"] == "upsert"]
    return dict(profile)


def test_the_date_goes_from_staff_through_the_feed_to_the_profile(
        server: ServerProcess, device: tuple[str, httpx.Client]) -> None:
    pid, http = device
    assert _profile(http)["prep_test_due"] is None
    staff = server.staff.as_role("psr")
    assert staff.set_prep_test_due(pid, "2027-03-01")["prep_test_due"] == "2027-03-01"
    profile = _profile(http)
    assert profile["prep_test_due"] == "2027-03-01"
    assert str(Profile.from_dict(profile).prep_test_due) == "2027-03-01"
    assert staff.set_prep_test_due(pid, None)["prep_test_due"] is None
    assert _profile(http)["prep_test_due"] is None
    # the other details stay as they were
    assert staff.get_patient(pid)["name"] == "PrEP Patient"


def test_another_patient_never_sees_it(server: ServerProcess, device: tuple[str, httpx.Client]) -> None:
    pid, _http = device
    other = server.staff.add_patient("Someone Else")["id"]
    server.staff.as_role("psr").set_prep_test_due(pid, "2027-04-01")
    with server.device_client(server.pair_device(other)["token"]) as theirs:
        changes, _ = pull_all(theirs)
    assert "2027-04-01" not in str(changes)
    assert {c["id"] for c in changes if c["kind"] == "profile"} == {other}


@pytest.mark.parametrize("value", ["2027-13-01", "1999-12-31", "2100-01-01", 20270301, "next month", "2027-03-01T10:00",
                                   "2" * 100_000, ["2027-03-01"]])
def test_bad_dates_are_refused_with_a_clear_error(server: ServerProcess, device: tuple[str, httpx.Client],
                                                  value: object) -> None:
    pid, _http = device
    resp = server.staff.request("PATCH", f"/v1/staff/patients/{pid}", json={"prep_test_due": value})
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["message"]
    assert server.staff.as_role("psr").get_patient(pid)["prep_test_due"] is None


def test_no_one_else_may_set_it(server: ServerProcess, device: tuple[str, httpx.Client]) -> None:
    pid, http = device
    missing = server.staff.request("PATCH", "/v1/staff/patients/pat_nobody", json={"prep_test_due": "2027-03-01"})
    assert missing.status_code == 404
    as_device = http.patch(server.url(f"/v1/staff/patients/{pid}"), json={"prep_test_due": "2027-03-01"})
    assert as_device.status_code == 401
    for role in ("clinician", "admin"):  # patient details are the front desk's (patients.write: psr)
        refused = server.staff.request("PATCH", f"/v1/staff/patients/{pid}", role=role,
                                       json={"prep_test_due": "2027-03-01"})
        assert refused.status_code == 403, (role, refused.text)
    assert server.staff.as_role("psr").get_patient(pid)["prep_test_due"] is None


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_server").new_database()
        return url
    return f"sqlite:///{tmp_path / 'old.db'}"


def test_a_version_4_database_gains_the_column_and_keeps_its_patients(database_url: str) -> None:
    def as_it_was(conn: sa.Connection) -> None:  # schema 4, with a patient in it
        conn.execute(sa.text("ALTER TABLE patients DROP COLUMN prep_test_due"))
        add_old_patient(conn)

    with migrated_from(database_url, 4, as_it_was) as db, db.read() as conn:
        version = schema_version(conn)
        row = conn.execute(sa.select(patients).where(patients.c.id == "pat_old")).mappings().one()
    assert version == str(SCHEMA_VERSION)
    assert profile_of(dict(row)).prep_test_due is None and profile_of(dict(row)).name == "Old"


def test_the_date_reaches_the_apps_reminders_through_sync(server: ServerProcess, tmp_path: Any) -> None:
    pid = server.staff.add_patient("Synced Patient")["id"]
    server.staff.as_role("psr").set_prep_test_due(pid, "2027-03-10")
    code = server.staff.pairing_code(pid)["code"]
    clinic = ClinicProfile(name="Riverside Sexual Health Clinic", discreet_name="Riverside Clinic")
    with Vault.create(tmp_path / "vault", "correct horse 42", kdf=ScryptParams.fast()) as vault:
        pair(vault, server.base_url, code, device_name="Sync test")
        with client_for_vault(vault) as client:
            synchronize(vault, client)
        rec = RecordingNotifier()
        week_before = datetime(2027, 3, 3, 15, 0, tzinfo=UTC)  # 10:00 in New York
        deliver_due(vault, rec, week_before, clinic, tz=ZoneInfo("America/New_York"))
    assert ("Reminder from Riverside Clinic", "A check-up is due on Wed 10 Mar. The app has the details.") in rec.shown
