"""``companion reminders`` and ``companion export`` as a user runs them (subprocesses, env passcode)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle
from icalendar import Calendar

from companion.core.models import Appointment, Message
from companion.reminders import DELIVERED_KEY
from companion.vault import ScryptParams, Vault
from tests.fixtures.vault import VAULT_PASSCODE

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)  # 10:00 in Berlin, 04:00 in New York


def run(vault: Path, *args: str, tz: str = "Europe/Berlin") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COMPANION_VAULT": str(vault), "COMPANION_PASSCODE": VAULT_PASSCODE,
           "COMPANION_KDF_LOG2N": "14", "TZ": tz, "PYTHONPATH": str(ROOT)}
    code = "import sys; from companion.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli") / "vault"
    with Vault.create(folder, VAULT_PASSCODE, kdf=ScryptParams.fast()) as v:
        v.appointments.upsert(Appointment(id="a1", start=START, minutes=30, visit_kind="HIV test QXVISIT",
                                          sensitive=True))
        v.appointments.upsert(Appointment(id="a2", start=START + timedelta(days=3), minutes=30,
                                          visit_kind="QXCANCELLED", status="cancelled", sequence=2))
        v.messages.upsert(Message(id="m1", thread="general", author="clinic", body="QXBODY",
                                  sent_at=START - timedelta(days=1, hours=1)))
    return folder


def test_reminders_json_shows_the_discreet_notifications_without_recording(vault: Path) -> None:
    for _ in range(2):  # read-only: asking twice gives the same answer
        out = run(vault, "reminders", "--at", "2026-06-09T10:00:00+02:00", "--json")
        assert out.returncode == 0, out.stderr
        doc = json.loads(out.stdout)
        assert doc["zone"] == "Europe/Berlin" and doc["quiet_now"] is False
        assert sorted((r["kind"], r["title"], r["body"]) for r in doc["reminders"]) == [
            ("appointment", "Reminder from Riverside Clinic", "Appointment tomorrow at 10:00."),
            ("message", "Riverside Clinic", "You have a new message. Open the app to read it."),
        ]
        assert "QX" not in out.stdout
    with Vault.open(vault, VAULT_PASSCODE) as v:
        assert v.meta.get(DELIVERED_KEY) is None


def test_reminders_honour_quiet_hours_and_the_local_zone(vault: Path) -> None:
    night = run(vault, "reminders", "--at", "2026-06-09T23:30", "--json")  # local (Berlin) 23:30: quiet
    assert night.returncode == 0, night.stderr
    assert json.loads(night.stdout)["quiet_now"] is True
    assert json.loads(night.stdout)["reminders"] == []
    morning = run(vault, "reminders", "--at", "2026-06-10T07:00")
    assert morning.returncode == 0, morning.stderr
    assert "Reminder from Riverside Clinic: Appointment today at 10:00." in morning.stdout

    def ny_bodies(at: str) -> list[str]:
        out = run(vault, "reminders", "--at", at, "--json", tz="America/New_York")
        return [r["body"] for r in json.loads(out.stdout)["reminders"] if r["kind"] == "appointment"]

    # New York: the appointment is at 04:00 local. The 24h reminder (04:00) waits for the end of quiet hours;
    # the 2h one (02:00) cannot wait (07:00 would be after the visit), so it shows inside them.
    assert ny_bodies("2026-06-09T04:00") == []
    assert ny_bodies("2026-06-09T07:00") == ["Appointment tomorrow at 04:00."]
    assert ny_bodies("2026-06-10T02:00") == ["Appointment today at 04:00."]


@pytest.mark.parametrize("bad", ["garbage", "2026-13-40T10:00", "tomorrow"])
def test_bad_at_is_a_one_line_error(vault: Path, bad: str) -> None:
    out = run(vault, "reminders", "--at", bad)
    assert out.returncode in (1, 2)
    assert len(out.stderr.strip().splitlines()) == 1
    assert "--at" in out.stderr and "Traceback" not in out.stderr


def test_export_ics_to_a_private_file(vault: Path, tmp_path: Path) -> None:
    target = tmp_path / "appointments.ics"
    target.write_text("old")
    target.chmod(0o644)
    out = run(vault, "export", "ics", "-o", str(target))
    assert out.returncode == 0, out.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert len(out.stderr.strip().splitlines()) == 1 and "NOT encrypted" in out.stderr
    cal = Calendar.from_ical(target.read_bytes())
    assert {str(e["STATUS"]) for e in cal.walk("VEVENT")} == {"CONFIRMED", "CANCELLED"}
    assert b"QX" not in target.read_bytes() and b"HIV" not in target.read_bytes()


def test_export_fhir_to_stdout(vault: Path) -> None:
    out = run(vault, "export", "fhir")
    assert out.returncode == 0, out.stderr
    assert "NOT encrypted" in out.stderr
    doc = json.loads(out.stdout)
    assert Bundle.model_validate(doc).type == "collection"


def test_wrong_passcode_is_one_line(vault: Path) -> None:
    env_run = subprocess.run(
        [sys.executable, "-c", "import sys; from companion.cli import main; sys.exit(main(sys.argv[1:]))",
         "reminders"], env={**os.environ, "COMPANION_VAULT": str(vault), "COMPANION_PASSCODE": "wrong passcode 1",
                            "PYTHONPATH": str(ROOT)}, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert env_run.returncode == 1
    assert len(env_run.stderr.strip().splitlines()) == 1 and "Traceback" not in env_run.stderr
