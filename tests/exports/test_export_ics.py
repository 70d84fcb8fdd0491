"""The iCalendar export: parses back, stable UIDs, SEQUENCE, cancellations, alarms, no sensitive text."""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from companion.config import ClinicProfile
from companion.core.models import Appointment, PrepStep
from companion.exports import build_calendar, event_uid
from companion.reminders import ReminderSettings

CLINIC = ClinicProfile(name="Riverside Sexual Health Clinic", discreet_name="Riverside Clinic",
                       address="12 River Street, Suite 3")
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
START = datetime(2026, 6, 10, 8, tzinfo=UTC)


def export(appts: list[Appointment], prep: Sequence[PrepStep] = (), **cfg: Any) -> tuple[str, Calendar]:
    cal = build_calendar(appts, list(prep), clinic=CLINIC, settings=ReminderSettings(**cfg), now=NOW)
    text = cal.to_ical().decode()
    unfolded = re.sub(r"\r\n[ \t]", "", text)
    return unfolded, Calendar.from_ical(text)


def events(cal: Calendar) -> dict[str, Any]:
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def appt(**changes: Any) -> Appointment:
    base = Appointment(id="apt_1", start=START, minutes=30, visit_kind="Check-up", location="Room 2",
                       provider="Dr Lee", what_to_bring="ID card")
    return replace(base, **changes)


def test_round_trip_with_stable_uid_sequence_and_alarms() -> None:
    text, cal = export([appt(sequence=0)], [PrepStep(id="p", appointment_id="apt_1", title="Stop eating", body="",
                                                     before_minutes=720)],
                       leads_minutes=(1440, 120), discreet=False)
    (event,) = cal.walk("VEVENT")
    assert str(event["UID"]) == "apt_1@patient-companion.invalid" == event_uid("apt_1")
    assert event.decoded("DTSTART") == START and event.decoded("DTEND") == START + timedelta(minutes=30)
    assert event.decoded("SEQUENCE") == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == "Riverside Clinic appointment"
    assert str(event["LOCATION"]) == "12 River Street, Suite 3"  # the clinic's address, not "Room 2"
    assert str(event["CLASS"]) == "PRIVATE"
    assert sorted(a.decoded("TRIGGER") for a in event.walk("VALARM")) == [
        -timedelta(hours=24), -timedelta(hours=12), -timedelta(hours=2)]
    assert "Check-up" in str(event["DESCRIPTION"])  # not sensitive, discreet off: details allowed
    assert "Stop eating" not in text  # prep text never goes into a calendar

    _, moved = export([appt(start=START + timedelta(days=1), sequence=1)])
    (again,) = moved.walk("VEVENT")
    assert str(again["UID"]) == str(event["UID"])
    assert again.decoded("SEQUENCE") == 1


def test_cancelled_appointments_are_marked_and_silent() -> None:
    _, cal = export([appt(status="cancelled", sequence=3), appt(id="apt_2", status="requested")])
    ev = events(cal)
    cancelled = ev[event_uid("apt_1")]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) == 3
    assert cancelled.walk("VALARM") == []
    assert str(ev[event_uid("apt_2")]["STATUS"]) == "TENTATIVE"


def test_discreet_mode_hides_details_of_ordinary_visits_too() -> None:
    text, _ = export([appt()], discreet=True)
    for word in ("Check-up", "Dr Lee", "ID card", "Room 2", "Sexual"):
        assert word not in text


sentinel = st.text(string.ascii_uppercase, min_size=5, max_size=9).map(lambda s: f"QX{s}")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(sentinel, st.integers(-5, 30), st.sampled_from(["scheduled", "cancelled", "completed"]),
                          st.integers(0, 5)), min_size=1, max_size=4), st.booleans())
def test_no_sentinel_text_of_sensitive_records_anywhere(items: list[tuple[str, int, str, int]], discreet: bool) -> None:
    appts, prep = [], []
    for i, (word, days, status, seq) in enumerate(items):
        appts.append(appt(id=f"a{i}", start=START + timedelta(days=days), visit_kind=f"HIV test {word}",
                          location=f"{word} suite", provider=f"Dr {word}", what_to_bring=word, note=word,
                          status=status, sequence=seq, sensitive=True))
        prep.append(PrepStep(id=f"p{i}", appointment_id=f"a{i}", title=f"Before your {word}", body=word,
                             before_minutes=60))
    text, cal = export(appts, prep, discreet=discreet)
    assert len(cal.walk("VEVENT")) == len(appts)
    for word, *_ in items:
        assert word.lower() not in text.lower()
    assert "HIV" not in text and "Sexual" not in text
