"""The patient's language reaches the desk: each pull says which language the app speaks
(``Companion-Language``), the server keeps it per device, and staff read it with the patient
(real server, both backends). A malformed value is refused; a device sets only its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from companion.clinic.server.schema import SCHEMA_VERSION, devices
from companion.core.protocol import LANGUAGE_HEADER
from companion.i18n import set_language
from companion.sync.client import client_for_vault, synchronize
from companion.vault import Vault
from tests.fixtures.sync import Clinic
from tests.support.old_schema import T0, add_old_patient, migrated_from, schema_version


@pytest.fixture
def clinic(server: object) -> Clinic:
    return Clinic(server)


def _sync(vault: Vault) -> None:
    with client_for_vault(vault) as client:
        synchronize(vault, client)


def _language(clinic: Clinic, patient_id: str | None = None) -> Any:
    pid = patient_id or clinic.patient_id
    one = clinic.server.staff.as_role().get_patient(pid)["language"]
    listed = {p["id"]: p["language"] for p in clinic.server.staff.collect("/v1/staff/patients", "patients")}
    assert listed[pid] == one  # the list says what the patient's page says
    return one


def test_the_desk_reads_the_language_the_patients_app_speaks(clinic: Clinic, tmp_path: Path) -> None:
    vault = clinic.pair(tmp_path / "vault")
    try:
        assert _language(clinic) is None  # paired, no pull yet: not known
        set_language("es")
        _sync(vault)
        assert _language(clinic) == "es"
        assert [d["language"] for d in clinic.staff.devices(clinic.patient_id)] == ["es"]
        set_language("en")  # the patient chose English in Settings: the next pull says so
        _sync(vault)
        assert _language(clinic) == "en"
    finally:
        vault.close()


def test_a_device_sets_only_its_own_language_and_a_revoked_one_none(clinic: Clinic, tmp_path: Path) -> None:
    other = Clinic(clinic.server, name="Bea Other")
    mine, theirs = clinic.pair(tmp_path / "mine"), other.pair(tmp_path / "theirs")
    try:
        set_language("en")
        _sync(theirs)
        set_language("es")
        _sync(mine)
        assert (_language(clinic), _language(other, other.patient_id)) == ("es", "en")
        device = clinic.staff.devices(clinic.patient_id)[0]
        clinic.staff.revoke_device(device["id"])
        assert _language(clinic) is None  # a revoked device no longer speaks for the patient
    finally:
        mine.close()
        theirs.close()


@pytest.mark.parametrize("bad", ["ES", "español", "e", "es-MX", "toolong", "e1", "<b>", "e\ts", "ﬀ"])
def test_a_malformed_language_is_refused_in_one_line(clinic: Clinic, tmp_path: Path, bad: str) -> None:
    vault = clinic.pair(tmp_path / "vault")
    try:
        token = vault.meta.get("sync.token")
        # bytes throughout: the language is sent as the UTF-8 a client would put on the wire
        headers = {b"Authorization": f"Bearer {token}".encode(), b"Companion-Protocol": b"1",
                   LANGUAGE_HEADER.encode(): bad.encode("utf-8")}
        answer = httpx.get(f"{clinic.server.base_url}/v1/sync", params={"limit": 1}, headers=headers, timeout=10)
        assert answer.status_code == 422
        assert answer.json()["error"]["message"] == f"{LANGUAGE_HEADER} must be a language code like es"
        assert _language(clinic) is None
    finally:
        vault.close()


def test_a_version_5_database_gains_device_languages_and_keeps_its_devices(tmp_path: Path) -> None:
    def as_it_was(conn: sa.Connection) -> None:  # schema 5, with a paired device in it
        conn.execute(sa.text("DROP INDEX ix_devices_patient_seen"))  # schema 8's, over the language column
        conn.execute(sa.text("CREATE INDEX ix_devices_patient_id ON devices (patient_id)"))
        conn.execute(sa.text("ALTER TABLE devices DROP COLUMN language"))
        conn.execute(sa.text("ALTER TABLE articles DROP COLUMN translations"))
        add_old_patient(conn)
        conn.execute(sa.text("INSERT INTO devices (id, patient_id, name, token_hash, created_at) "
                             "VALUES ('dev_old', 'pat_old', 'phone', 'h', :t)"), {"t": T0})

    with migrated_from(f"sqlite:///{tmp_path / 'old.db'}", 5, as_it_was) as db, db.read() as conn:
        version = schema_version(conn)
        row = conn.execute(sa.select(devices).where(devices.c.id == "dev_old")).mappings().one()
    assert version == str(SCHEMA_VERSION) and row["language"] is None and row["name"] == "phone"
