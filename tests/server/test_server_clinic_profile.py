"""The clinic server reads the clinic profile (COMPANION_CLINIC_PROFILE or serve --profile): a bad value
stops it with one line naming the key; GET /v1/staff/clinic answers the profile to signed-in staff only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from companion.clinic.server.settings import Settings
from companion.core.errors import ConfigError
from tests.fixtures.server import ServerFactory

PROFILE = """
[clinic]
name = "Riverside Clinic"
timezone = "America/New_York"
[schedule]
opening = { mon = "08:00-18:00", sat = "09:00-13:00" }
slot_minutes = 20
place = "12 River Street, Suite 3"
providers = ["Nurse Alex Kim", "Dr Sam Patel"]
[billing]
phone = "+1 555 0102"
"""


def _serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("COMPANION_")}
    return subprocess.run([sys.executable, "-m", "companion.clinic.server.cli", "serve", "--port", "0", *args],
                          capture_output=True, text=True, env={**base, **(env or {})}, timeout=60,
                          stdin=subprocess.DEVNULL)


def test_a_bad_profile_value_stops_the_server_naming_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "clinic.toml"
    bad.write_text('[schedule]\nopening = { mon = "8 to 6" }\n', encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'c.db'}"
    by_env = {"COMPANION_CLINIC_PROFILE": str(bad)}
    for run in (_serve("--db", db, "--profile", str(bad)), _serve("--db", db, env=by_env)):
        lines = run.stderr.strip().splitlines()
        assert run.returncode != 0 and len(lines) == 1, run.stderr
        assert lines[0].startswith("companion-server: error: clinic.toml: schedule.opening.mon: expected"), lines
    missing = _serve("--db", db, "--profile", str(tmp_path / "none.toml"))
    assert missing.returncode != 0 and "clinic profile not found" in missing.stderr


def test_settings_take_the_profile_and_the_option_wins(tmp_path: Path) -> None:
    good, other = tmp_path / "a.toml", tmp_path / "b.toml"
    good.write_text(PROFILE, encoding="utf-8")
    other.write_text('[clinic]\ntimezone = "Europe/Berlin"\n', encoding="utf-8")
    env = {"COMPANION_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", "COMPANION_CLINIC_PROFILE": str(good)}
    settings = Settings.from_env(env=env)
    assert settings.site.timezone == "America/New_York" and settings.clinic_name == "Riverside Clinic"
    assert Settings.from_env(env=env, profile=str(other)).site.timezone == "Europe/Berlin"
    assert Settings.from_env(env={**env, "COMPANION_CLINIC_NAME": "Named"}).clinic_name == "Named"
    assert Settings.from_env(env={"COMPANION_DATABASE_URL": env["COMPANION_DATABASE_URL"]}).site.timezone == "UTC"
    try:
        Settings.from_env(env={**env, "COMPANION_CLINIC_PROFILE": str(tmp_path / "none.toml")})
    except ConfigError as exc:
        assert "clinic profile not found" in str(exc)
    else:
        raise AssertionError("a missing profile was accepted")


def test_the_staff_route_answers_the_profile_to_staff_only(tmp_path: Path, server_factory: ServerFactory) -> None:
    path = tmp_path / "clinic.toml"
    path.write_text(PROFILE, encoding="utf-8")
    server = server_factory(env={"COMPANION_CLINIC_PROFILE": str(path)})
    for role in ("psr", "clinician", "admin"):
        answer = server.staff.request("GET", "/v1/staff/clinic", role=role)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"name": "Riverside Clinic", "timezone": "America/New_York",
                                 "opening": {"mon": "08:00-18:00", "sat": "09:00-13:00"}, "slot_minutes": 20,
                                 "place": "12 River Street, Suite 3", "providers": ["Nurse Alex Kim", "Dr Sam Patel"],
                                 "provider": "Nurse Alex Kim"}
    site = server.staff.as_role("psr").clinic()  # the staff client reads it back with the core's parser
    assert site.timezone == "America/New_York" and site.schedule.slot_minutes == 20
    assert site.schedule.providers == ("Nurse Alex Kim", "Dr Sam Patel")
    no_token = httpx.get(server.url("/v1/staff/clinic"))
    assert no_token.status_code == 401 and no_token.json()["error"]["code"]
    patient = server.staff.add_patient("Dee Vice")["id"]
    device = server.pair_device(patient)["token"]  # a patient's device is not staff
    with server.device_client(device) as http:
        assert http.get("/v1/staff/clinic").status_code == 401


def test_without_a_profile_the_route_answers_the_defaults(server_factory: ServerFactory) -> None:
    answer = server_factory().staff.request("GET", "/v1/staff/clinic").json()
    assert answer["timezone"] == "UTC" and answer["place"] is None and answer["providers"] == []
    assert answer["opening"]["mon"] == "08:00-20:00" and "sun" not in answer["opening"]
