"""Money and durations (companion.core.units): one grammar for the CLI, the desk, the app and reminders."""

from __future__ import annotations

from pathlib import Path

import pytest

from companion.clinic.desk.state import patient_page
from companion.clinic.psr.parsing import parse_amount, parse_duration
from companion.config import ClinicProfile, load_profile
from companion.core.errors import ConfigError, RecordError
from companion.core.units import MAX_CENTS, format_cents, format_minutes, parse_cents, parse_minutes
from companion.reminders.settings import ReminderSettings
from companion.state.formatting import money


@pytest.mark.parametrize(("text", "cents"), [
    ("45", 4500), ("45.00", 4500), ("$45.00", 4500), ("$ 45", 4500), ("1,234.50", 123450), ("1234.5", 123450),
    ("  7.05 ", 705), ("0", 0), ("0.01", 1), (".5", 50), ("45.", 4500), ("€12.30", 1230), ("£1", 100),
    ("1,000,000.00", 100_000_000), ("10,000,000.00", MAX_CENTS), ("9999999.99", 999_999_999),
    ("0.29", 29), ("1.10", 110), ("19.99", 1999),  # the ones binary floats get wrong
])
def test_amounts_people_type(text: str, cents: int) -> None:
    assert parse_cents(text, "amount") == cents


@pytest.mark.parametrize(("text", "problem"), [
    ("45.005", "has more than 2 decimals"),
    ("0.001", "has more than 2 decimals"),
    ("-45", "must not be negative"),
    ("-$45.00", "must not be negative"),
    ("$-45.00", "must not be negative"),
    ("10,000,000.01", "must be at most 10,000,000.00"),
    ("45,00", "not an amount like 45.00"),        # a decimal comma is not read as thousands
    ("1,23", "not an amount like 45.00"),
    ("12,34,567", "not an amount like 45.00"),
    ("", "not an amount like 45.00"),
    ("$", "not an amount like 45.00"),
    ("abc", "not an amount like 45.00"),
    ("1e3", "not an amount like 45.00"),
    ("NaN", "not an amount like 45.00"),
    ("inf", "not an amount like 45.00"),
    ("1.2.3", "not an amount like 45.00"),
    ("45 USD", "not an amount like 45.00"),
])
def test_amounts_refused_name_the_field(text: str, problem: str) -> None:
    with pytest.raises(RecordError) as refused:
        parse_cents(text, "bill.amount")
    assert refused.value.field == "bill.amount" and refused.value.problem.startswith(problem)


def test_a_smaller_maximum() -> None:
    assert parse_cents("5.00", "x", maximum=500) == 500
    with pytest.raises(RecordError, match=r"x: must be at most 5\.00"):
        parse_cents("5.01", "x", maximum=500)


@pytest.mark.parametrize(("cents", "plain", "dollars"), [
    (0, "0.00", "$0.00"), (5, "0.05", "$0.05"), (4500, "45.00", "$45.00"), (123450, "1,234.50", "$1,234.50"),
    (MAX_CENTS, "10,000,000.00", "$10,000,000.00"), (10**15 + 1, "10,000,000,000,000.01", "$10,000,000,000,000.01"),
    (-500, "-5.00", "-$5.00"),
])
def test_one_format_for_display(cents: int, plain: str, dollars: str) -> None:
    assert format_cents(cents) == plain and format_cents(cents, "$") == dollars
    assert money(cents) == dollars  # the app's screens
    if cents >= 0:
        assert parse_cents(dollars, "round trip", maximum=10**16) == cents


def test_the_cli_and_the_desk_read_amounts_the_same_way() -> None:
    for text in ("1,234.50", "$45.00", "45"):
        assert parse_amount(text, "--amount") == parse_cents(text, "Amount")
    with pytest.raises(RecordError, match="--insurance-paid: has more than 2 decimals"):
        parse_amount("45.005", "--insurance-paid")
    assert vars(patient_page)["parse_cents"] is parse_cents  # the desk's "Patient pays" field (imported, not exported)


@pytest.mark.parametrize(("text", "minutes"), [
    ("12h", 720), ("90m", 90), ("90 min", 90), ("1d", 1440), ("1h30m", 90), ("2d 6h", 3240), ("1D 2H 3M", 1563),
    ("0m", 0), (" 24h ", 1440), ("14d", 14 * 1440),
])
def test_durations(text: str, minutes: int) -> None:
    assert parse_minutes(text, "before") == minutes


@pytest.mark.parametrize("text", ["", "12", "h", "1.5h", "-1h", "30m1h", "1h1h", "soon", "1 hour", "1w"])
def test_bad_durations_name_the_field(text: str) -> None:
    with pytest.raises(RecordError) as refused:
        parse_minutes(text, "leads")
    assert refused.value.field == "leads" and "not a duration like 12h" in refused.value.problem


def test_duration_maximum_and_round_trip() -> None:
    assert parse_minutes("60d", "x", maximum=60 * 1440) == 60 * 1440
    with pytest.raises(RecordError, match="x: must be at most 60 days"):
        parse_minutes("60d 1m", "x", maximum=60 * 1440)
    with pytest.raises(RecordError, match="must be at most 1h30m"):
        parse_minutes("2h", "x", maximum=90)
    for minutes in (1, 59, 60, 90, 120, 1440, 1441, 14 * 1440):
        assert parse_minutes(format_minutes(minutes), "x") == minutes
    assert [format_minutes(m) for m in (1440, 120, 90, 5)] == ["24h", "2h", "1h30m", "5m"]


def test_every_place_that_reads_a_duration_uses_the_one_grammar(tmp_path: Path) -> None:
    assert parse_duration("2d 6h") == 3240  # the staff CLI's --before
    with pytest.raises(RecordError, match="--before: must be at most 60 days"):
        parse_duration("61d")
    defaults = ReminderSettings.defaults(ClinicProfile())
    settings = ReminderSettings.from_json({"leads": ["1d", "90 min"]}, defaults)
    assert settings.leads_minutes == (1440, 90)  # the patient's reminder settings
    assert ReminderSettings.from_json(settings.to_json(), defaults) == settings
    with pytest.raises(ConfigError, match=r"settings\.reminders\.leads: not a duration like 12h"):
        ReminderSettings.from_json({"leads": ["soon"]}, defaults)
    profile = tmp_path / "flet.toml"  # the clinic's defaults in flet.toml
    profile.write_text('[reminders]\nappointment_leads = ["2d 6h", "90 min"]\n', encoding="utf-8")
    assert load_profile(profile).reminders.appointment_leads_minutes == (3240, 90)
    profile.write_text('[reminders]\nappointment_leads = ["later"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"reminders\.appointment_leads: not a duration like 12h"):
        load_profile(profile)
