"""``companion export ics``: the patient's appointments as an iCalendar file (RFC 5545).

A calendar export leaves the vault for good: it is synced to cloud calendars,
shared with partners and employers, and shown on lock screens and watches.
So it carries what a calendar needs and nothing that says what the care is:

- ``SUMMARY`` is neutral and always the same ("Riverside Clinic appointment",
  from ``discreet_name``), whatever the visit or the discreet setting.
- ``LOCATION`` is the clinic's street address from ``flet.toml`` — never the
  appointment's own location text, which can name a service ("HIV testing,
  room 3").
- ``DESCRIPTION`` names the visit kind, provider and what to bring only when
  discreet mode is off *and* the appointment is not sensitive; otherwise it
  says the details are in the app. Prep steps never contribute text (their
  titles often name a test): they become alarms with the discreet prep
  wording.
- ``CLASS:PRIVATE`` on every event, so shared calendars show "busy" only.

Updates work the way calendar clients expect: ``UID`` is
``<appointment id>@patient-companion.invalid`` (stable for the appointment's
life), ``SEQUENCE`` is the server's reschedule counter, and a cancelled
appointment stays in the file with ``STATUS:CANCELLED`` so re-importing
removes it. Alarms (``VALARM``) follow the patient's reminder lead times;
quiet hours cannot be expressed in iCalendar and are left to the calendar.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from icalendar import Alarm, Calendar, Event

from ..config import ClinicProfile
from ..core.models import Appointment, PrepStep
from ..i18n import N_, _
from ..reminders.settings import ReminderSettings, load_settings

if TYPE_CHECKING:
    from ..vault import Vault

__all__ = ["PRODID", "UID_DOMAIN", "build_calendar", "event_uid", "export_ics", "neutral_summary"]

PRODID = "-//Patient Companion//Appointments export//EN"
UID_DOMAIN = "patient-companion.invalid"  # reserved TLD: a fixed, never-resolving domain for UIDs
_STATUS = {
    "requested": "TENTATIVE",
    "scheduled": "CONFIRMED",
    "confirmed": "CONFIRMED",
    "checked_in": "CONFIRMED",
    "completed": "CONFIRMED",
    "no_show": "CONFIRMED",
    "cancelled": "CANCELLED",
}
_NO_DETAILS = N_("Details are in the Patient Companion app.")


def event_uid(appointment_id: str) -> str:
    return f"{appointment_id}@{UID_DOMAIN}"


def neutral_summary(clinic: ClinicProfile) -> str:
    name = clinic.discreet_name.strip()
    if name.lower() in ("", "your clinic"):
        return _("Clinic appointment")
    return _("%(clinic)s appointment") % {"clinic": name}


def _description(appt: Appointment, show_details: bool) -> str:
    if not show_details:
        return _(_NO_DETAILS)
    lines = [appt.visit_kind]
    if appt.provider:
        lines.append(_("With: %(provider)s") % {"provider": appt.provider})
    if appt.what_to_bring:
        lines.append(_("Bring: %(items)s") % {"items": appt.what_to_bring})
    return "\n".join(lines)


def _alarm(before: timedelta, text: str) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", -before)
    alarm.add("description", text)
    return alarm


def _event(
    appt: Appointment, steps: Iterable[PrepStep], clinic: ClinicProfile, settings: ReminderSettings, now: datetime
) -> Event:
    status = _STATUS.get(appt.status, "CONFIRMED")
    event = Event()
    event.add("uid", event_uid(appt.id))
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", appt.start.astimezone(UTC))
    event.add("dtend", appt.end.astimezone(UTC))
    event.add("sequence", appt.sequence)
    event.add("status", status)
    event.add("summary", neutral_summary(clinic))
    event.add("class", "PRIVATE")
    event.add("transp", "OPAQUE")
    if clinic.address:
        event.add("location", clinic.address)
    event.add("description", _description(appt, show_details=not (settings.discreet or appt.sensitive)))
    if status != "CANCELLED":
        for lead in settings.leads_minutes:
            text = _("Reminder from %(clinic)s: appointment") % {"clinic": clinic.discreet_name}
            event.add_component(_alarm(timedelta(minutes=lead), text))
        for step in steps:
            if step.done_at is None and step.before_minutes > 0:
                event.add_component(_alarm(timedelta(minutes=step.before_minutes),
                                           _("Time to get ready for your appointment. The app has the details.")))
    return event


def build_calendar(
    appointments: Sequence[Appointment],
    prep: Sequence[PrepStep],
    *,
    clinic: ClinicProfile,
    settings: ReminderSettings,
    now: datetime,
) -> Calendar:
    """One ``VEVENT`` per appointment (cancelled ones marked), ordered by start."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    for appt in sorted(appointments, key=lambda a: (a.start, a.id)):
        cal.add_component(_event(appt, [s for s in prep if s.appointment_id == appt.id], clinic, settings, now))
    return cal


def export_ics(vault: Vault, clinic: ClinicProfile, now: datetime) -> bytes:
    """The calendar of an open vault's appointments, with alarms from its reminder settings."""
    settings = load_settings(vault.meta, clinic)
    cal = build_calendar(vault.appointments.all(), vault.prep.all(), clinic=clinic, settings=settings, now=now)
    data: bytes = cal.to_ical()
    return data
