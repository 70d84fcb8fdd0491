"""A clinic database as an older schema left it, then migrated: the schema-migration tests' one recipe.

:func:`migrated_from` builds today's schema, lets the test undo what came after ``version`` and write
the rows that version held (``as_it_was``), marks the database as that version, and opens it again,
as a server upgrade does: ``init_schema`` migrates it. The test reads the migrated database::

    def as_it_was(conn: sa.Connection) -> None:
        conn.execute(sa.text("ALTER TABLE patients DROP COLUMN prep_test_due"))
        add_old_patient(conn)

    with migrated_from(url, 4, as_it_was) as db, db.read() as conn:
        assert schema_version(conn) == str(SCHEMA_VERSION)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import sqlalchemy as sa

from companion.clinic.server.database import Database

T0 = "2026-01-01T00:00:00.000000Z"


def schema_version(conn: sa.Connection) -> str:
    """The version the database's ``meta`` table says it is at."""
    version: str = conn.execute(sa.text("SELECT value FROM meta WHERE key = 'schema_version'")).scalar_one()
    return version


def add_old_patient(conn: sa.Connection, pid: str = "pat_old") -> None:
    """A patient row with only the columns every schema has had (name ``Old``, created at :data:`T0`)."""
    conn.execute(sa.text("INSERT INTO patients (id, name, search_text, ins_status, created_at, updated_at) "
                         "VALUES (:id, 'Old', 'old', 'none', :t, :t)"), {"id": pid, "t": T0})


@contextlib.contextmanager
def migrated_from(url: str, version: int, as_it_was: Callable[[sa.Connection], None]) -> Iterator[Database]:
    """The database at ``url`` as schema ``version`` left it (``as_it_was`` drops the later tables, columns
    and indexes and writes the old rows, in one transaction), migrated by a fresh ``init_schema``; disposed after."""
    db = Database(url, pool_size=1)
    db.init_schema()
    with db.engine.begin() as conn:
        as_it_was(conn)
        conn.execute(sa.text("UPDATE meta SET value = :v WHERE key = 'schema_version'"), {"v": str(version)})
    db.dispose()
    db = Database(url, pool_size=1)
    db.init_schema()
    try:
        yield db
    finally:
        db.dispose()
