"""The patient's language (the newest device's, read with the patient by every staff route): the
index it is read through, and a version 7 database gaining it, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from companion.clinic.server.database import Database
from companion.clinic.server.patients import LANGUAGE, get_patient
from companion.clinic.server.schema import SCHEMA_VERSION, patients
from tests.support.old_schema import T0, add_old_patient, migrated_from, schema_version


def _db_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    if backend == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return f"sqlite:///{tmp_path / 'clinic.db'}"


def _add_patient_with_devices(conn: sa.Connection) -> None:
    """One patient and three devices: the newest revoked, one that never said its language, and
    the one whose language is the patient's."""
    add_old_patient(conn)
    for dev, seen, revoked, language in (("dev_a", "2026-03-01T00:00:00.000000Z", T0, "fr"),
                                         ("dev_b", "2026-02-01T00:00:00.000000Z", None, None),
                                         ("dev_c", "2026-01-15T00:00:00.000000Z", None, "es")):
        conn.execute(sa.text("INSERT INTO devices (id, patient_id, name, token_hash, created_at, last_seen_at, "
                             "revoked_at, language) VALUES (:id, 'pat_old', 'phone', :id, :t, :seen, :revoked, "
                             ":language)"),
                     {"id": dev, "t": T0, "seen": seen, "revoked": revoked, "language": language})


def _device_indexes(conn: sa.Connection) -> dict[str | None, list[str | None]]:
    return {ix["name"]: list(ix["column_names"]) for ix in sa.inspect(conn).get_indexes("devices")}


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_version_7_database_gains_the_language_index_and_keeps_its_devices(
        request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> None:
    url = _db_url(request, backend, tmp_path)

    def as_it_was(conn: sa.Connection) -> None:  # schema 7: devices indexed by patient alone
        conn.execute(sa.text("DROP INDEX ix_devices_patient_seen"))
        conn.execute(sa.text("CREATE INDEX ix_devices_patient_id ON devices (patient_id)"))
        _add_patient_with_devices(conn)

    with migrated_from(url, 7, as_it_was) as db, db.read() as conn:
        version = schema_version(conn)
        indexes = _device_indexes(conn)
        kept = conn.execute(sa.text("SELECT count(*) FROM devices")).scalar_one()
        patient = get_patient(conn, "pat_old")
    assert version == str(SCHEMA_VERSION) == "8"
    assert indexes.get("ix_devices_patient_seen") == ["patient_id", "last_seen_at", "revoked_at", "language"]
    assert "ix_devices_patient_id" not in indexes  # the new index starts with patient_id: one fewer to keep
    assert kept == 3 and patient is not None and patient["language"] == "es"
    db = Database(url, pool_size=1)
    db.init_schema()  # a restart at version 8 changes nothing
    try:
        with db.read() as conn:
            assert _device_indexes(conn) == indexes
    finally:
        db.dispose()


def test_the_language_is_one_covering_index_read_without_a_sort(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'clinic.db'}", pool_size=1)
    db.init_schema()
    try:
        with db.engine.begin() as conn:
            _add_patient_with_devices(conn)
        statement = sa.select(patients.c.id, LANGUAGE).where(patients.c.id == "pat_old")
        sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
        with db.read() as conn:
            plan = [row[-1] for row in conn.execute(sa.text("EXPLAIN QUERY PLAN " + sql))]
            language = conn.execute(statement).one().language
        assert "SEARCH devices USING COVERING INDEX ix_devices_patient_seen (patient_id=?)" in plan, plan
        assert not any("TEMP B-TREE" in step or "SCAN devices" in step for step in plan), plan
        assert language == "es"  # newest first, the revoked one and the silent one passed over
    finally:
        db.dispose()
