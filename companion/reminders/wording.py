"""What a reminder says: discreet or full text, kind and useful, in local time.

Discretion rule (the one that matters): discreet text is built only from the
clinic's ``discreet_name``, times, dates and counts — never from a record's
free text. So it cannot name a test, a visit type, a diagnosis, a result, a
room or a message, whatever the clinic typed into the record. A record flagged
``sensitive`` is always worded discreetly, even with discreet mode off; bill
descriptions and message bodies never appear in a notification at all (they
carry no sensitivity flag and often name a test).

Times are wall-clock times in the zone the caller passes (24-hour ``10:00``),
relative to when the notification shows: "today at 10:00", "tomorrow at
10:00", "on Friday at 10:00", "on Fri 14 Mar at 10:00". English only for now;
day and month names do not depend on the process locale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from ..config import ClinicProfile
from ..core.models import Appointment, Bill, PrepStep, Result
from ..core.units import format_cents

__all__ = [
    "Wording",
    "appointment_text",
    "bill_text",
    "message_text",
    "prep_text",
    "result_text",
    "updates_text",
    "when_text",
]

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class Wording:
    """A notification's text; ``discreet`` says which rule produced it."""

    title: str
    body: str
    discreet: bool


def _short_date(day: date) -> str:
    return f"{_DAYS[day.weekday()][:3]} {day.day} {_MONTHS[day.month - 1]}"


def _day_text(day: date, today: date) -> str:
    delta = (day - today).days
    if delta <= 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    if delta < 7:
        return f"on {_DAYS[day.weekday()]}"
    return f"on {_short_date(day)}"


def when_text(event: datetime, shown_at: datetime, tz: tzinfo) -> str:
    """``"tomorrow at 10:00"``: the event's local day relative to the moment the notification shows."""
    local = event.astimezone(tz)
    return f"{_day_text(local.date(), shown_at.astimezone(tz).date())} at {local:%H:%M}"


def _reminder_title(clinic: ClinicProfile, discreet: bool) -> str:
    name = clinic.discreet_name if discreet else clinic.name
    if name == ClinicProfile().discreet_name:  # the built-in default "Your clinic" reads better in lower case
        name = name.lower()
    return f"Reminder from {name}"


def appointment_text(
    appt: Appointment, shown_at: datetime, tz: tzinfo, clinic: ClinicProfile, *, discreet: bool
) -> Wording:
    discreet = discreet or appt.sensitive
    when = when_text(appt.start, shown_at, tz)
    if discreet:
        return Wording(_reminder_title(clinic, True), f"Appointment {when}.", True)
    where = f", {appt.location}" if appt.location else ""
    return Wording(_reminder_title(clinic, False), f"{appt.visit_kind}: {when}{where}.", False)


def prep_text(
    step: PrepStep, appt: Appointment, shown_at: datetime, tz: tzinfo, clinic: ClinicProfile, *, discreet: bool
) -> Wording:
    discreet = discreet or appt.sensitive
    when = when_text(appt.start, shown_at, tz)
    if discreet:
        body = f"Time to get ready for your appointment {when}. The app has the details."
        return Wording(_reminder_title(clinic, True), body, True)
    return Wording(_reminder_title(clinic, False), f"{step.title} (for your appointment {when}).", False)


def bill_text(
    bill: Bill, shown_at: datetime, tz: tzinfo, clinic: ClinicProfile, *, discreet: bool
) -> Wording:
    today = shown_at.astimezone(tz).date()
    delta = (bill.due - today).days
    if delta <= 0:
        due = "today"
    elif delta == 1:
        due = "tomorrow"
    else:
        due = f"in {delta} days ({_short_date(bill.due)})"
    if discreet:
        return Wording(_reminder_title(clinic, True), f"A bill is due {due}. The app has the details.", True)
    body = f"A payment of {format_cents(bill.patient_cents)} is due {due}."
    return Wording(_reminder_title(clinic, False), body, False)


def message_text(count: int, clinic: ClinicProfile) -> Wording:
    """Always discreet: a message body or its author may say what the care is about."""
    if count == 1:
        return Wording(clinic.discreet_name, "You have a new message. Open the app to read it.", True)
    return Wording(clinic.discreet_name, f"You have {count} new messages. Open the app to read them.", True)


def result_text(result: Result, clinic: ClinicProfile, *, discreet: bool) -> Wording:
    """Never the value or interpretation; the test's name only for a non-sensitive result out of discreet mode."""
    if discreet or result.sensitive:
        return updates_text(1, clinic, discreet=True)
    return Wording(clinic.name, f"Your {result.test} result is ready in the app.", False)


def updates_text(count: int, clinic: ClinicProfile, *, discreet: bool) -> Wording:
    """Several new results shown at once (one notification, not a burst)."""
    if discreet:
        if count == 1:
            return Wording(clinic.discreet_name, "There is an update for you in the app.", True)
        return Wording(clinic.discreet_name, f"There are {count} updates for you in the app.", True)
    return Wording(clinic.name, f"{count} new results are ready in the app.", False)
