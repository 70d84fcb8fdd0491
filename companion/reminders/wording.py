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
10:00", "on Friday at 10:00", "on Fri 14 Mar at 10:00", in the patient's language: the words from the
catalog (:mod:`companion.i18n`), day and month names and money from Babel (never the process
locale). The language is the app's active one, set before a notification is worded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from ..config import ClinicProfile
from ..core.models import Appointment, Bill, PrepStep, Result
from ..i18n import _, clock, money, ngettext, short_date, weekday

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


@dataclass(frozen=True, slots=True)
class Wording:
    """A notification's text; ``discreet`` says which rule produced it."""

    title: str
    body: str
    discreet: bool


def when_text(event: datetime, shown_at: datetime, tz: tzinfo) -> str:
    """``"tomorrow at 10:00"``: the event's local day relative to the moment the notification shows."""
    local = event.astimezone(tz)
    day, at = local.date(), {"time": clock(local)}
    delta = (day - shown_at.astimezone(tz).date()).days
    if delta <= 0:
        return _("today at %(time)s") % at
    if delta == 1:
        return _("tomorrow at %(time)s") % at
    if delta < 7:
        return _("on %(weekday)s at %(time)s") % {"weekday": weekday(day), **at}
    return _("on %(date)s at %(time)s") % {"date": short_date(day), **at}


def _reminder_title(clinic: ClinicProfile, discreet: bool) -> str:
    name = clinic.discreet_name if discreet else clinic.name
    if name == ClinicProfile().discreet_name:  # the built-in default "Your clinic" reads better in lower case
        return _("Reminder from your clinic")
    return _("Reminder from %(clinic)s") % {"clinic": name}


def _default_name(name: str) -> str:
    """The clinic's name as a notification's title; the built-in default in the patient's language."""
    return _("Your clinic") if name == ClinicProfile().discreet_name else name


def appointment_text(
    appt: Appointment, shown_at: datetime, tz: tzinfo, clinic: ClinicProfile, *, discreet: bool
) -> Wording:
    discreet = discreet or appt.sensitive
    when = when_text(appt.start, shown_at, tz)
    if discreet:
        return Wording(_reminder_title(clinic, True), _("Appointment %(when)s.") % {"when": when}, True)
    where = f", {appt.location}" if appt.location else ""
    body = _("%(visit)s: %(when)s%(where)s.") % {"visit": appt.visit_kind, "when": when, "where": where}
    return Wording(_reminder_title(clinic, False), body, False)


def prep_text(
    step: PrepStep, appt: Appointment, shown_at: datetime, tz: tzinfo, clinic: ClinicProfile, *, discreet: bool
) -> Wording:
    discreet = discreet or appt.sensitive
    when = when_text(appt.start, shown_at, tz)
    if discreet:
        body = _("Time to get ready for your appointment %(when)s. The app has the details.") % {"when": when}
        return Wording(_reminder_title(clinic, True), body, True)
    body = _("%(step)s (for your appointment %(when)s).") % {"step": step.title, "when": when}
    return Wording(_reminder_title(clinic, False), body, False)


def bill_text(
    bill: Bill, shown_at: datetime, tz: tzinfo, clinic: ClinicProfile, *, discreet: bool
) -> Wording:
    today = shown_at.astimezone(tz).date()
    delta = (bill.due - today).days
    if delta <= 0:
        due = _("today")
    elif delta == 1:
        due = _("tomorrow")
    else:
        due = ngettext("in %(n)s day (%(date)s)", "in %(n)s days (%(date)s)", delta) % {
            "n": delta, "date": short_date(bill.due)}
    if discreet:
        body = _("A bill is due %(due)s. The app has the details.") % {"due": due}
        return Wording(_reminder_title(clinic, True), body, True)
    body = _("A payment of %(amount)s is due %(due)s.") % {"amount": money(bill.patient_cents), "due": due}
    return Wording(_reminder_title(clinic, False), body, False)


def message_text(count: int, clinic: ClinicProfile) -> Wording:
    """Always discreet: a message body or its author may say what the care is about."""
    body = ngettext("You have a new message. Open the app to read it.",
                    "You have %(n)s new messages. Open the app to read them.", count) % {"n": count}
    return Wording(_default_name(clinic.discreet_name), body, True)


def result_text(result: Result, clinic: ClinicProfile, *, discreet: bool) -> Wording:
    """Never the value or interpretation; the test's name only for a non-sensitive result out of discreet mode."""
    if discreet or result.sensitive:
        return updates_text(1, clinic, discreet=True)
    body = _("Your %(test)s result is ready in the app.") % {"test": result.test}
    return Wording(_default_name(clinic.name), body, False)


def updates_text(count: int, clinic: ClinicProfile, *, discreet: bool) -> Wording:
    """Several new results shown at once (one notification, not a burst)."""
    if discreet:
        body = ngettext("There is an update for you in the app.", "There are %(n)s updates for you in the app.",
                        count) % {"n": count}
        return Wording(_default_name(clinic.discreet_name), body, True)
    body = ngettext("%(n)s new result is ready in the app.", "%(n)s new results are ready in the app.",
                    count) % {"n": count}
    return Wording(_default_name(clinic.name), body, False)
