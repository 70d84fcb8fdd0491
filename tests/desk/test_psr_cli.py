"""``companion-psr`` end to end (subprocess against the real server) and its input parsers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from companion.clinic.psr.parsing import parse_amount, parse_duration, parse_start
from companion.core.errors import RecordError
from tests.support.server_harness import ServerProcess, mutation, pull_all


def psr(server: ServerProcess | None, *args: str, role: str = "psr", env: dict[str, str] | None = None,
        token: str | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("COMPANION_")}
    if server is not None:
        base.update(COMPANION_SERVER=server.base_url, COMPANION_STAFF_TOKEN=token or server.tokens[role])
    return subprocess.run([sys.executable, "-m", "companion.clinic.psr.cli", *args], capture_output=True, text=True,
                          env={**base, **(env or {})}, timeout=60, stdin=subprocess.DEVNULL)


def ok_json(server: ServerProcess, *args: str, role: str = "psr") -> Any:
    run = psr(server, *args, "--json", role=role)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    return json.loads(run.stdout)


def one_line_error(run: subprocess.CompletedProcess[str], code: int = 1) -> str:
    assert run.returncode == code, (run.returncode, run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("companion-psr: error: "), run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""
    return lines[0]


def test_front_desk_day_end_to_end(sqlite_server: ServerProcess, tmp_path: Path) -> None:
    s = sqlite_server
    patient = ok_json(s, "patient", "add", "--name", "Robin Example", "--dob", "1990-04-01", "--phone", "555-0101")
    pid = patient["id"]
    assert patient["name"] == "Robin Example" and patient["dob"] == "1990-04-01"
    code = ok_json(s, "pairing-code", pid)
    assert set(code) >= {"code", "expires_at"}
    appt = ok_json(s, "appointment", "add", pid, "--start", "2031-03-01T10:30:00Z", "--minutes", "30",
                   "--kind", "STI screening", "--location", "Room 2", "--provider", "Dr. Lee", "--sensitive")
    assert appt["start"] == "2031-03-01T10:30:00Z" and appt["sensitive"] is True
    prep = ok_json(s, "prep", "add", appt["id"], "--title", "Don't urinate", "--body", "For 1 hour before",
                   "--before", "1h30m")
    assert prep["before_minutes"] == 90
    bill = ok_json(s, "bill", "add", pid, "--amount", "45.00", "--due", "2031-04-01", "--description", "Visit",
                   "--insurance-paid", "120.00")
    assert (bill["patient_cents"], bill["insurance_paid_cents"], bill["total_cents"]) == (4500, 12000, 16500)
    result = ok_json(s, "result", "add", pid, "--test", "Chlamydia NAAT", "--interpretation", "negative",
                     "--value", "Not detected", "--sensitive", role="clinician")
    assert result["state"] == "held"
    assert ok_json(s, "result", "release", result["id"], role="clinician")["state"] == "released"
    message = ok_json(s, "message", "send", pid, "Your results are ready")
    assert message["body"] == "Your results are ready" and message["id"].startswith("msg_")
    moved = ok_json(s, "appointment", "reschedule", appt["id"], "--start", "2031-03-02T11:00:00Z")
    assert moved["sequence"] == 1
    article_file = tmp_path / "window.md"
    article_file.write_text("# Window periods\n\nSome tests need time.", encoding="utf-8")
    article = ok_json(s, "article", "add", "--file", str(article_file), "--tag", "testing", "--tag", "hiv",
                      "--appointment-kind", "STI screening")
    assert article["title"] == "Window periods" and article["tags"] == ["hiv", "testing"]

    device = s.pair_device(pid)
    with s.device_client(device["token"]) as http:
        changes, _ = pull_all(http)
        http.post("/v1/sync", json={"mutations": [
            mutation("message.send", body="Thanks!"),
            mutation("checkin.submit", appointment_id=appt["id"], insurance={"payer": "Acme", "member_id": "1"}),
            mutation("bill.plan_request", bill_id=bill["id"], installments=3),
        ]}).raise_for_status()
    kinds = {c["kind"] for c in changes}
    assert {"profile", "appointment", "prep", "bill", "result", "message", "article"} <= kinds

    items = ok_json(s, "inbox")
    assert {i["kind"] for i in items if i["patient_id"] == pid} == {"message.send", "checkin.submit",
                                                                    "bill.plan_request"}
    text = psr(s, "inbox")
    assert text.returncode == 0 and "Thanks!" in text.stdout and pid in text.stdout
    handled = ok_json(s, "inbox", "handle", items[0]["id"])
    assert handled["handled"] is True and handled["id"] == items[0]["id"]
    verified = ok_json(s, "patient", "verify-insurance", pid, "--status", "verified", "--note", "checked")
    assert verified["insurance"]["status"] == "verified"
    plan = ok_json(s, "bill", "plan", bill["id"], "--status", "active", "--installments", "3")
    assert plan["payment_plan"]["status"] == "active"
    devices = ok_json(s, "device", "list", pid)
    assert [d["id"] for d in devices] == [device["device_id"]]
    assert ok_json(s, "device", "revoke", device["device_id"], role="admin")["revoked"] is True
    listed = ok_json(s, "patient", "list", "--search", "robin")
    assert [p["id"] for p in listed] == [pid]
    audit = ok_json(s, "audit", "--patient", pid, "--limit", "200", role="admin")
    assert {"result.release", "device.revoke", "feed.read"} <= {e["action"] for e in audit}
    cancelled = ok_json(s, "appointment", "cancel", appt["id"], "--reason", "clinic closed")
    assert cancelled["status"] == "cancelled"


def test_json_flag_works_before_or_after_the_command(sqlite_server: ServerProcess) -> None:
    before = psr(sqlite_server, "--json", "whoami")
    after = psr(sqlite_server, "whoami", "--json")
    assert json.loads(before.stdout)["role"] == json.loads(after.stdout)["role"] == "psr"


def test_flags_override_the_environment(sqlite_server: ServerProcess) -> None:
    run = psr(None, "--server", sqlite_server.base_url, "--token", sqlite_server.tokens["admin"], "whoami", "--json")
    assert run.returncode == 0 and json.loads(run.stdout)["role"] == "admin"


@pytest.mark.parametrize(("args", "role", "needle", "code"), [
    (("result", "add", "pat_x", "--test", "HIV", "--interpretation", "negative"), "psr", "HTTP 403", 1),
    (("audit",), "psr", "HTTP 403", 1),
    (("patient", "show", "pat_doesnotexist00"), "psr", "HTTP 404", 1),
    (("patient", "add", "--name", "x" * 300), "psr", "HTTP 422", 1),
    (("bill", "add", "pat_x", "--amount", "abc", "--due", "2031-01-01", "--description", "d"), "psr", "--amount", 2),
    (("bill", "add", "pat_x", "--amount", "-5", "--due", "2031-01-01", "--description", "d"), "psr", "negative", 2),
    (("bill", "add", "pat_x", "--amount", "4.505", "--due", "2031-01-01", "--description", "d"), "psr", "decimals",
     2),
    (("bill", "add", "pat_x", "--amount", "4", "--due", "tomorrow", "--description", "d"), "psr", "--due", 2),
    (("appointment", "add", "pat_x", "--start", "next tuesday", "--minutes", "30", "--kind", "k"), "psr",
     "--start", 2),
    (("appointment", "add", "pat_x", "--start", "2031-01-01T10:00", "--minutes", "ten", "--kind", "k"), "psr",
     "--minutes", 2),
    (("prep", "add", "apt_x", "--title", "t", "--body", "b", "--before", "soon"), "psr", "--before", 2),
    (("article", "add", "--file", "/nonexistent/file.md"), "psr", "--file", 2),
    (("nonsense",), "psr", "invalid choice", 2),
    (("patient", "add"), "psr", "--name", 2),
])
def test_failures_are_one_line_on_stderr(sqlite_server: ServerProcess, args: tuple[str, ...], role: str,
                                         needle: str, code: int) -> None:
    line = one_line_error(psr(sqlite_server, *args, role=role), code)
    assert needle in line


def test_unreachable_server_and_bad_tokens(sqlite_server: ServerProcess) -> None:
    down = one_line_error(psr(None, "inbox", env={"COMPANION_SERVER": "http://127.0.0.1:9",
                                                  "COMPANION_STAFF_TOKEN": "cps_x"}))
    assert "cannot reach" in down
    bad = one_line_error(psr(sqlite_server, "inbox", token="cps_wrong"))
    assert "HTTP 401" in bad
    missing = one_line_error(psr(None, "inbox", env={"COMPANION_SERVER": sqlite_server.base_url}))
    assert "COMPANION_STAFF_TOKEN" in missing


@pytest.mark.parametrize(("text", "cents"), [
    ("45.00", 4500), ("45", 4500), ("0.1", 10), ("0.10", 10), ("1,234.56", 123456), (".5", 50), ("$12.30", 1230),
    ("19.99", 1999), ("0.07", 7), ("10000000.00", 10**9),
])
def test_amounts_are_exact(text: str, cents: int) -> None:
    assert parse_amount(text) == cents


@pytest.mark.parametrize("text", ["abc", "-1", "1.234", "1e3", "NaN", "inf", "", "1.2.3", "10000000.01"])
def test_bad_amounts_are_refused(text: str) -> None:
    with pytest.raises(RecordError):
        parse_amount(text)


@pytest.mark.parametrize(("text", "minutes"), [
    ("12h", 720), ("90m", 90), ("1d", 1440), ("1h30m", 90), ("2d 6h", 3240), ("45min", 45), ("0m", 0),
])
def test_durations(text: str, minutes: int) -> None:
    assert parse_duration(text) == minutes


@pytest.mark.parametrize("text", ["", "12", "h", "1.5h", "-1h", "30m1h", "61d", "soon"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(RecordError):
        parse_duration(text)


def test_start_times_with_and_without_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_start("2031-01-01T10:00:00Z") == datetime(2031, 1, 1, 10, tzinfo=UTC)
    assert parse_start("2031-01-01T10:00:00+02:00") == datetime(2031, 1, 1, 8, tzinfo=UTC)
    naive = parse_start("2031-01-01T10:00")
    assert naive.tzinfo is not None and naive == datetime(2031, 1, 1, 10).astimezone().astimezone(UTC)
