"""``companion-server``: staff accounts, database location and URL forms, start-up failures."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from companion.clinic.server.schema import SCHEMA_VERSION
from companion.clinic.server.settings import normalise_db_url
from companion.core.errors import ConfigError
from tests.fixtures.server import ServerFactory


def server_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("COMPANION_")}
    return subprocess.run([sys.executable, "-m", "companion.clinic.server.cli", *args], capture_output=True, text=True,
                          env={**base, **(env or {})}, timeout=timeout, stdin=subprocess.DEVNULL)


def test_staff_add_prints_the_token_once_and_stores_only_its_hash(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    run = server_cli("staff", "add", "Dana Desk", "--role", "psr", "--db", db, "--json")
    assert run.returncode == 0, run.stderr
    made = json.loads(run.stdout)
    assert {"id", "token", "role"} <= set(made) and made["role"] == "psr" and made["token"].startswith("cps_")
    with sqlite3.connect(tmp_path / "c.db") as conn:
        stored = conn.execute("SELECT token_hash FROM staff").fetchall()
        dumped = "\n".join(conn.iterdump())
    assert len(stored) == 1 and made["token"] not in dumped
    listed = json.loads(server_cli("staff", "list", "--db", db, "--json").stdout)
    assert [(s["id"], s["revoked"]) for s in listed] == [(made["id"], False)]
    text = server_cli("staff", "add", "Cli Nician", "--role", "clinician", "--db", db)
    assert text.returncode == 0 and "token" in text.stdout
    revoked = json.loads(server_cli("staff", "revoke", made["id"], "--db", db, "--json").stdout)
    assert revoked["revoked"] is True
    missing = server_cli("staff", "revoke", "stf_nobody", "--db", db)
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "no staff member" in missing.stderr


def test_revoked_staff_token_is_refused_by_a_running_server(server_factory: ServerFactory) -> None:
    server = server_factory("sqlite")
    made = json.loads(server_cli("staff", "add", "Temp", "--role", "psr", "--db", server.db_url, "--json").stdout)
    headers = {"Authorization": f"Bearer {made['token']}"}
    assert httpx.get(server.url("/v1/staff/me"), headers=headers).status_code == 200
    server_cli("staff", "revoke", made["id"], "--db", server.db_url)
    refused = httpx.get(server.url("/v1/staff/me"), headers=headers)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "staff_revoked"


def test_default_database_lives_in_the_data_folder_in_wal_mode(tmp_path: Path) -> None:
    env = {"COMPANION_SERVER_DATA": str(tmp_path / "data")}
    run = server_cli("staff", "add", "First", "--role", "admin", "--json", env=env)
    assert run.returncode == 0, run.stderr
    db = tmp_path / "data" / "clinic.db"
    assert db.exists()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)


@pytest.mark.parametrize(("args", "needle"), [
    (("staff", "add", "X", "--role", "boss"), "invalid choice"),
    (("staff", "add", "X", "--role", "psr", "--db", "mysql://u@h/db"), "unsupported database URL"),
    (("staff", "add", "X", "--role", "psr", "--db", "sqlite://relative.db"), "sqlite:///"),
    (("staff", "add", "X", "--role", "psr", "--db", "sqlite:///:memory:"), "in-memory"),
    (("serve", "--db", "postgresql://nobody:pw@127.0.0.1:9/none", "--port", "0"), "cannot open the database"),
])
def test_failures_are_one_line(args: tuple[str, ...], needle: str) -> None:
    run = server_cli(*args)
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in run.stderr, run.stderr


def test_blank_staff_name_is_refused(tmp_path: Path) -> None:
    run = server_cli("staff", "add", "   ", "--role", "psr", "--db", f"sqlite:///{tmp_path / 'c.db'}")
    assert run.returncode == 2 and run.stderr.strip() == "companion-server: error: name: must be 1 to 200 characters"


def test_busy_port_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = server_cli("serve", "--db", f"sqlite:///{tmp_path / 'c.db'}", "--port", str(port))
    assert run.returncode == 1 and "cannot listen" in run.stderr and "Traceback" not in run.stderr


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    assert server_cli("init", "--db", db).returncode == 0
    with sqlite3.connect(tmp_path / "c.db") as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    run = server_cli("serve", "--db", db, "--port", "0")
    assert run.returncode == 1 and "newer than this server" in run.stderr


def test_url_forms() -> None:
    assert normalise_db_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalise_db_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_db_url("postgresql+psycopg2://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_db_url("sqlite:////abs/path.db") == "sqlite:////abs/path.db"
    with pytest.raises(ConfigError):
        normalise_db_url("oracle://x")


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_data_survives_a_kill_and_restart(server_factory: ServerFactory, backend: str) -> None:
    server = server_factory(backend)
    pid = server.staff.add_patient("Survivor")["id"]
    server.staff.send_message(pid, "before the crash")
    server.kill()
    server.start()
    assert server.staff.request("GET", f"/v1/staff/patients/{pid}").status_code == 200
    messages = server.staff.request("GET", f"/v1/staff/patients/{pid}/messages").json()["messages"]
    assert [m["body"] for m in messages] == ["before the crash"]


def test_stopping_answers_waiting_long_polls_instead_of_cutting_them(server_factory: ServerFactory) -> None:
    server = server_factory("sqlite")
    _, device, cursor = server.caught_up_device("Night Owl")
    out: dict[str, Any] = {}

    def wait() -> None:
        with server.device_client(device["token"]) as http:
            response = http.get("/v1/sync", params={"cursor": cursor, "wait": 25})
            out.update(status=response.status_code, body=response.json())

    thread = threading.Thread(target=wait)
    thread.start()
    server.await_pulls(1)
    server.stop()
    thread.join(timeout=30)
    # answered (an empty page, its own cursor), not cut: uvicorn cuts what is still open after its 3 s
    # graceful limit and logs it, and a cut poll gets no answer at all
    assert out["status"] == 200 and out["body"]["changes"] == [] and out["body"]["cursor"] == cursor
    assert "graceful shutdown exceeded" not in server.log_text()
    assert server.exit_code == -signal.SIGTERM  # it ended on SIGTERM itself, not killed (-9) after 10 s


def test_stopping_under_a_live_client_is_quick(server_factory: ServerFactory) -> None:
    """A live client re-polls as soon as it is answered: the process must still exit at once."""
    server = server_factory("sqlite")
    _, device, cursor = server.caught_up_device("Always Online")
    stop = threading.Event()
    answers: list[int] = []

    def live() -> None:
        with server.device_client(device["token"], timeout=30.0) as http:
            while not stop.is_set():
                try:
                    answers.append(http.get("/v1/sync", params={"cursor": cursor, "wait": 25}).status_code)
                except httpx.HTTPError:
                    stop.wait(0.05)  # the server is going: re-poll a little later, at once if told to stop

    threads = [threading.Thread(target=live) for _ in range(3)]
    for thread in threads:
        thread.start()
    server.await_pulls(2)  # one device holds two; the third pull keeps answering the oldest
    server.stop()
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert answers and set(answers) <= {200}
    # the re-polls did not hold it open: nothing was left to cut at the 3 s graceful limit, and it
    # ended on SIGTERM itself (uvicorn re-raises it), not killed by the harness (-9) after 10 s
    assert "graceful shutdown exceeded" not in server.log_text()
    assert server.exit_code == -signal.SIGTERM


def test_the_server_imports_nothing_of_the_app() -> None:
    """What ``serve`` loads, the desk it mounts included: nothing of the patient app (vault, sync engine, views…).

    By the layout: only ``companion.core``, ``companion.clinic`` and the two apps' shared screen
    parts (``companion.ui``, ``companion.web``) may load.
    """
    probe = ("import sys, companion.clinic.server.cli, companion.clinic.server.app, companion.clinic.psr.cli, "
             "companion.clinic.desk.web; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tinydb', 'plyer') "
             "or (m.startswith('companion.') and m.split('.')[1] not in ('core', 'clinic', 'ui', 'web'))))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "[]", run.stdout + run.stderr


def test_database_url_from_the_environment(tmp_path: Path) -> None:
    from companion.clinic.server.settings import resolve_db_url

    assert resolve_db_url(None, {"COMPANION_DATABASE_URL": "postgres://u:p@h:5/db"}) == "postgresql+psycopg://u:p@h:5/db"
    assert resolve_db_url("sqlite:///x.db", {"COMPANION_DATABASE_URL": "postgres://h/db"}) == "sqlite:///x.db"
    assert resolve_db_url(None, {"COMPANION_SERVER_DATA": str(tmp_path)}) == f"sqlite:///{tmp_path / 'clinic.db'}"
