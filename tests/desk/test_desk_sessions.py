"""Desk sign-in on the real server: argon2id passwords, sessions as staff tokens, backoff, expiry,
sign-out, audit — and the CLI that sets passwords (on SQLite; the session code is dialect-neutral)."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from companion.clinic.server.cli import main as server_cli
from tests.fixtures.desk import DESK_USERS, PASSWORD, add_desk_user
from tests.support.server_harness import ServerProcess
from tests.support.waiting import wait_until


def _sign_in(server: ServerProcess, name: str, password: str, **headers: str) -> httpx.Response:
    return httpx.post(server.url("/v1/staff/sessions"), json={"name": name, "password": password},
                      headers=headers, timeout=10)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_sign_in_gives_a_role_bound_session_token_and_sign_out_ends_it(desk_server: ServerProcess) -> None:
    answer = _sign_in(desk_server, DESK_USERS["psr"].upper(), PASSWORD)  # names are case-insensitive
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["staff"]["role"] == "psr" and "inbox" in body["staff"]["permissions"]
    token = body["token"]
    me = httpx.get(desk_server.url("/v1/staff/me"), headers=_bearer(token))
    assert me.status_code == 200 and me.json()["name"] == DESK_USERS["psr"]
    # the role applies: a PSR may not read the audit log nor release results
    assert httpx.get(desk_server.url("/v1/staff/audit"), headers=_bearer(token)).status_code == 403
    assert httpx.post(desk_server.url("/v1/staff/results/res_nothere123456/release"),
                      headers=_bearer(token)).status_code == 403
    out = httpx.delete(desk_server.url("/v1/staff/sessions/current"), headers=_bearer(token))
    assert out.status_code == 204
    gone = httpx.get(desk_server.url("/v1/staff/me"), headers=_bearer(token))
    assert gone.status_code == 401 and gone.json()["error"]["code"] == "session_ended"
    # API tokens keep working, and cannot be "signed out"
    api = desk_server.staff.request("GET", "/v1/staff/me")
    assert api.status_code == 200
    assert desk_server.staff.request("DELETE", "/v1/staff/sessions/current").status_code == 422
    # the password is stored as an argon2id hash, never as given
    import sqlalchemy as sa

    engine = sa.create_engine(desk_server.db_url)
    with engine.connect() as conn:
        hashes = [r[0] for r in conn.execute(sa.text("SELECT password_hash FROM staff WHERE password_hash <> ''"))]
        sessions = [r[0] for r in conn.execute(sa.text("SELECT token_hash FROM staff_sessions"))]
    engine.dispose()
    assert hashes and all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)
    assert token not in sessions and all(len(h) == 64 for h in sessions)


def test_wrong_password_backs_off_per_account_and_is_audited(server_factory) -> None:  # type: ignore[no-untyped-def]
    server = server_factory(env={"COMPANION_SIGNIN_FREE": "2"})
    add_desk_user(server, "Pat Desk", "psr")
    for _ in range(2):
        wrong = _sign_in(server, "Pat Desk", "not the password")
        assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "wrong name or password"
    refused = _sign_in(server, "Pat Desk", PASSWORD)  # even the right password waits now
    assert refused.status_code == 429
    assert 25 <= int(refused.headers["Retry-After"]) <= 30
    assert "try again in" in refused.json()["error"]["message"]
    # an unknown name answers exactly like a wrong password
    unknown = _sign_in(server, "Nobody Here", "whatever it is")
    assert unknown.status_code == 401 and unknown.json()["error"]["message"] == "wrong name or password"
    def audited() -> list[dict[str, Any]]:  # read-type audit rows are flushed every quarter second
        found: list[dict[str, Any]] = server.staff.request("GET", "/v1/staff/audit", role="admin",
                                                           params={"limit": 50}).json()["entries"]
        return found

    def flushed() -> bool:
        actions = [e["action"] for e in audited()]
        return actions.count("staff.signin_failed") == 3 and "staff.signin_refused" in actions

    assert wait_until(flushed, 10)
    entries = audited()
    actions = [e["action"] for e in entries]
    assert actions.count("staff.signin_failed") == 3 and "staff.signin_refused" in actions
    assert PASSWORD not in str(entries) and "not the password" not in str(entries) and "Nobody" not in str(entries)
    assert "not the password" not in server.log_text() and PASSWORD not in server.log_text()


def test_backoff_per_address_uses_the_address_the_desk_vouches_for(server_factory) -> None:  # type: ignore[no-untyped-def]
    server = server_factory(env={"COMPANION_SIGNIN_FREE": "1"})
    # without the server's desk key the header is ignored: all these come from 127.0.0.1
    for i in range(4):
        _sign_in(server, f"Guess {i}", "wrong password", **{"Companion-Desk-Address": f"10.0.0.{i}"})
    limited = _sign_in(server, "Guess 9", "wrong password", **{"Companion-Desk-Address": "10.9.9.9"})
    assert limited.status_code == 429


def test_idle_timeout_and_absolute_lifetime(server_factory) -> None:  # type: ignore[no-untyped-def]
    server = server_factory(env={"COMPANION_SESSION_IDLE": "2", "COMPANION_SESSION_MAX": "4"})
    add_desk_user(server, "Idle Person", "psr")
    token = _sign_in(server, "Idle Person", PASSWORD).json()["token"]
    # background polls do not count as activity
    for _ in range(3):
        time.sleep(0.8)  # elapsed time meant: three polls spread over more than the 2 s idle limit
        polled = httpx.get(server.url("/v1/staff/inbox"), headers={**_bearer(token), "Companion-Background": "1"})
    assert polled.status_code == 401 and polled.json()["error"]["code"] == "session_expired"
    assert "without activity" in polled.json()["error"]["message"]
    # activity keeps a session alive, but never past its lifetime
    # What each answer must be follows from when it was asked and answered (a loaded machine stretches
    # the gaps): the server stamped the sign-in and each use somewhere between our request and its
    # answer, so "alive" is judged from the widest bounds and "expired" from the narrowest.
    # Answers within 0.2 s of a limit are not judged.
    idle, lifetime, margin = 2.0, 4.0, 0.2
    before = time.monotonic()
    token = _sign_in(server, "Idle Person", PASSWORD).json()["token"]
    after = time.monotonic()
    last_asked, last_answered, judged, expired = before, after, 0, False
    while time.monotonic() - before < lifetime + 1.5:
        time.sleep(0.6)  # elapsed time meant: uses spread over the idle time and past the lifetime
        asked = time.monotonic()
        status = httpx.get(server.url("/v1/staff/me"), headers=_bearer(token)).status_code
        answered = time.monotonic()
        oldest_age, oldest_gap = answered - before, answered - last_asked
        youngest_age, youngest_gap = asked - after, asked - last_answered
        if oldest_age < lifetime - margin and oldest_gap < idle - margin and not expired:
            assert status == 200, (oldest_age, oldest_gap)
            judged += 1
        elif youngest_age > lifetime + margin or youngest_gap > idle + margin:
            assert status == 401, (youngest_age, youngest_gap)
            judged += 1
        expired = expired or status == 401
        last_asked, last_answered = asked, answered
    assert expired and judged >= 3


def test_revoking_the_account_ends_its_sessions(desk_server: ServerProcess) -> None:
    made = add_desk_user(desk_server, "Temp Worker", "psr")
    token = _sign_in(desk_server, "Temp Worker", PASSWORD).json()["token"]
    assert httpx.get(desk_server.url("/v1/staff/me"), headers=_bearer(token)).status_code == 200
    desk_server.staff.request("POST", f"/v1/staff/accounts/{made['id']}/revoke", role="admin")
    gone = httpx.get(desk_server.url("/v1/staff/me"), headers=_bearer(token))
    assert gone.status_code == 401 and gone.json()["error"]["code"] == "staff_revoked"


def test_cli_passwords(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    monkeypatch.setenv("COMPANION_STAFF_PASSWORD", "short")
    assert server_cli(["staff", "add", "Jo", "--role", "psr", "--password", "--db", db]) == 2
    assert "at least 10 characters" in capsys.readouterr().err
    monkeypatch.setenv("COMPANION_STAFF_PASSWORD", "a long enough one")
    assert server_cli(["staff", "add", "Jo", "--role", "psr", "--password", "--db", db]) == 0
    assert "desk sign-in password set" in capsys.readouterr().out
    assert server_cli(["staff", "add", "jo", "--role", "admin", "--password", "--db", db]) == 1
    assert "names must be unique" in capsys.readouterr().err
    monkeypatch.setenv("COMPANION_STAFF_PASSWORD", "another long one")
    assert server_cli(["staff", "passwd", "Jo", "--db", db]) == 0
    assert "desk password set" in capsys.readouterr().out
    assert server_cli(["staff", "passwd", "Nobody", "--db", db]) == 2
    err = capsys.readouterr().err
    assert "no active staff member" in err and "Traceback" not in err
    monkeypatch.delenv("COMPANION_STAFF_PASSWORD")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert server_cli(["staff", "passwd", "Jo", "--db", db]) == 1
    assert "COMPANION_STAFF_PASSWORD" in capsys.readouterr().err


def test_schema_upgrade_from_version_1_adds_password_column(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from companion.clinic.server.database import Database

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE meta (key VARCHAR(50) PRIMARY KEY, value TEXT NOT NULL)"))
        conn.execute(sa.text("INSERT INTO meta VALUES ('schema_version', '1'), ('epoch', 'abcd1234')"))
        conn.execute(sa.text("CREATE TABLE staff (id VARCHAR(40) PRIMARY KEY, name VARCHAR(200) NOT NULL, "
                             "role VARCHAR(20) NOT NULL, token_hash VARCHAR(64) NOT NULL UNIQUE, "
                             "created_at VARCHAR(32) NOT NULL, created_by VARCHAR(40), revoked_at VARCHAR(32))"))
    engine.dispose()
    db = Database(url, pool_size=1)
    db.init_schema()
    with db.read() as conn:
        cols = {r[1] for r in conn.execute(sa.text("PRAGMA table_info(staff)"))}
        version = conn.execute(sa.text("SELECT value FROM meta WHERE key='schema_version'")).scalar_one()
    db.dispose()
    assert "password_hash" in cols and int(version) >= 2  # and every later step ran too
