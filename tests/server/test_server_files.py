"""The SQLite database and its -wal/-shm files are 0600 whatever the umask (the real server, and
``Database()`` on its own), and files an older version left readable are made private at start."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from companion.clinic.server.database import Database
from tests.support.server_harness import ServerProcess


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _modes(db: Path) -> dict[str, int]:
    return {suffix or "db": stat.S_IMODE(os.stat(f"{db}{suffix}").st_mode)
            for suffix in ("", "-wal", "-shm") if os.path.exists(f"{db}{suffix}")}


@pytest.mark.usefixtures("umask_022")
def test_a_new_database_and_its_wal_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    db = Database(f"sqlite:///{path}", pool_size=1)
    try:
        db.init_schema()
        with db.append() as conn:  # a write: the -wal and -shm files exist now
            conn.execute(sa.text("INSERT INTO meta (key, value) VALUES ('probe', 'x')"))
        modes = _modes(path)
        assert set(modes) == {"db", "-wal", "-shm"}, modes
        assert all(mode == 0o600 for mode in modes.values()), {k: oct(v) for k, v in modes.items()}
    finally:
        db.dispose()


@pytest.mark.usefixtures("umask_022")
def test_readable_files_left_by_an_older_version_are_made_private_at_start(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    older = sqlite3.connect(path)  # as SQLite makes them: 0644 under umask 022, WAL files kept open
    older.execute("PRAGMA journal_mode=WAL")
    older.execute("CREATE TABLE leftover (x)")
    older.execute("INSERT INTO leftover VALUES (1)")
    older.commit()
    try:
        assert set(_modes(path).values()) == {0o644}
        db = Database(f"sqlite:///{path}", pool_size=1)
        try:
            db.init_schema()
            modes = _modes(path)
            assert set(modes) == {"db", "-wal", "-shm"} and set(modes.values()) == {0o600}, modes
        finally:
            db.dispose()
    finally:
        older.close()


@pytest.mark.usefixtures("umask_022")
def test_the_real_server_keeps_its_database_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "clinic.db"
    path.parent.mkdir()
    server = ServerProcess(f"sqlite:///{path}", tmp_path / "run")
    server.start()
    try:
        pid = server.staff.add_patient("Private Person")["id"]  # the server process writes
        server.staff.send_message(pid, "kept private on disk")
        assert httpx.get(server.url("/healthz")).status_code == 200
        modes = _modes(path)
        assert {"db", "-wal", "-shm"} <= set(modes) and set(modes.values()) == {0o600}, modes
    finally:
        server.close()
