"""The clinic profile both sides read (companion.core.clinic_profile): time zone, opening hours, slot
length, place and providers; every bad value named by its key, in the app's loader and the server's
alike; the free times a request is offered keep to the profile's hours."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from companion.config import load_profile
from companion.core.clinic_profile import DEFAULT_OPENING, ClinicSite, Schedule, load_clinic_site, parse_clinic_site
from companion.core.errors import ConfigError
from companion.core.requests import free_slots

REPO = Path(__file__).resolve().parents[2]
NEW_YORK = ZoneInfo("America/New_York")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "flet.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_key_is_optional_and_the_defaults_are_the_old_hours() -> None:
    site = parse_clinic_site({}, "flet.toml")
    assert site == ClinicSite() and site.tz is UTC and site.timezone == "UTC"
    assert site.schedule.opening == DEFAULT_OPENING and "sun" not in site.schedule.opening
    assert site.schedule.slot_minutes == 30 and site.schedule.place is None and site.schedule.provider is None


def test_a_full_profile_is_read(tmp_path: Path) -> None:
    path = _write(tmp_path, """
[clinic]
name = "Riverside"
timezone = "America/New_York"
[schedule]
opening = { mon = "08:00-18:00", sat = "09:00-13:00", fri = "07:30-24:00" }
slot_minutes = 20
place = "12 River Street"
providers = ["Nurse Alex Kim", "Dr Sam Patel", "Nurse Alex Kim"]
[billing]
phone = "+1 555 0102"
""")
    site = load_clinic_site(path)
    assert site.name == "Riverside" and site.tz == NEW_YORK
    plan = site.schedule
    assert plan.opening == {"mon": (time(8), time(18)), "fri": (time(7, 30), time.max), "sat": (time(9), time(13))}
    assert plan.opening_text() == {"mon": "08:00-18:00", "fri": "07:30-24:00", "sat": "09:00-13:00"}
    assert plan.slot_minutes == 20 and plan.place == "12 River Street"
    assert plan.providers == ("Nurse Alex Kim", "Dr Sam Patel") and plan.provider == "Nurse Alex Kim"
    # the app reads the same keys with the same parser, beside its own tables
    app = load_profile(path)
    assert app.timezone == "America/New_York" and app.schedule == plan


@pytest.mark.parametrize(("text", "message"), [
    ('[clinic]\ntimezone = "Mars/Olympus"', "flet.toml: clinic.timezone: expected a time zone name"),
    ('[schedule]\nopening = { mon = "8-18" }', 'flet.toml: schedule.opening.mon: expected "HH:MM-HH:MM"'),
    ('[schedule]\nopening = { mon = "18:00-08:00" }', "flet.toml: schedule.opening.mon: '18:00-08:00' closes before"),
    ('[schedule]\nopening = { monday = "08:00-18:00" }', "flet.toml: schedule.opening.monday: unknown weekday"),
    ('[schedule]\nopening = "weekdays"', "flet.toml: schedule.opening: expected a table"),
    ("[schedule]\nslot_minutes = 0", "flet.toml: schedule.slot_minutes: expected a whole number from 5 to 240"),
    ("[schedule]\nslot_minutes = 25", "flet.toml: schedule.slot_minutes: expected a length that divides a day"),
    ('[schedule]\nproviders = "Dr Patel"', "flet.toml: schedule.providers: expected a list of names"),
    ("[schedule]\nplace = 3", "flet.toml: schedule.place: expected text"),
    ('[schedule]\nhours = "9-5"', "flet.toml: schedule.hours: unknown key"),
])
def test_a_bad_value_is_refused_naming_its_key_on_both_sides(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_clinic_site(path)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_profile(path)


def test_a_missing_or_broken_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="clinic profile not found"):
        load_clinic_site(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match=r"flet\.toml: not valid TOML"):
        load_clinic_site(_write(tmp_path, "[schedule\n"))


def test_the_shipped_flet_toml_is_a_valid_server_profile() -> None:
    site = load_clinic_site(REPO / "flet.toml")
    assert site.timezone == "America/New_York" and site.schedule.provider and site.schedule.place
    assert set(site.schedule.opening) == {"mon", "tue", "wed", "thu", "fri", "sat"}


def test_free_times_keep_to_the_profiles_hours_and_slot_length() -> None:
    plan = Schedule(opening={"wed": (time(14), time(16))}, slot_minutes=45)
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # Tuesday
    slots = free_slots((), (), booked=[], now=now, tz=NEW_YORK, schedule=plan, limit=20, per_window=9, horizon_days=7)
    local = [s.astimezone(NEW_YORK).strftime("%a %H:%M") for s in slots]
    assert local == ["Wed 14:00", "Wed 14:45"]  # the third (15:30) would end after 16:00 closing
    assert slots[0] == datetime(2026, 12, 2, 19, 0, tzinfo=UTC)  # 14:00 in New York in winter is 19:00Z
