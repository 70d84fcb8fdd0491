"""Every word of the Prevention screen (PrEP and doxy-PEP), in one place, in the patient's language.

The constants are marked with :func:`~companion.i18n.N_` and translated where they are shown
(``_(words.TITLE)``), so they follow a change of language; the functions return text already in
the active language. Inside the app, after the passcode, the words can be plain: the lock-screen
wording lives in :mod:`companion.reminders.prevention_wording` and names nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

from ..core.prevention import COURSE_PILLS, DOXY_WINDOW, DoseRefusal, EventSupply
from ..i18n import N_, _, clock, ngettext, number
from .formatting import countdown, day_and_time, short_date

TITLE = N_("Prevention")
INTRO = N_("PrEP and doxy-PEP, for you alone: what you enter here stays on this device and is never sent "
           "to the clinic. Reminders on the lock screen only say \u201cYour daily reminder\u201d.")
DAMAGED = N_("Your PrEP and doxy-PEP entries on this device could not be read. Set them again below.")
WHEN_FORMAT = N_("write a time like 21:00, yesterday 21:00, tomorrow 9:30 or 2026-12-03 21:00")
PILLS_FORMAT = N_("write how many pills you have left, as a number")
# The day words a patient may write before a time (the labels' examples use them); the English
# ones are always understood too.
DAY_WORDS = {"today": N_("today"), "tonight": N_("tonight"), "yesterday": N_("yesterday"),
             "tomorrow": N_("tomorrow")}

# PrEP
PREP_TITLE = N_("PrEP reminders")
MODE_LABELS = {"off": N_("Off"), "daily": N_("Daily"), "event": N_("2-1-1 (event-based)")}
DAILY_TIME = N_("Change the time…")
DAILY_PICK_HELP = N_("Daily reminder at")
PAUSE = N_("Pause reminders")
RESUME = N_("Resume reminders")
PAUSED = N_("Reminders paused. Nothing will remind you until you resume.")
RESUMED = N_("Reminders back on.")
PREP_OFF = N_("PrEP reminders are off.")
EVENT_SAVED = N_("Event-based PrEP: add when you expect to have sex, and the app reminds you of each dose.")
EVENT_LABEL = N_("When do you expect to have sex? The app plans the doses from it.")
EVENT_CHOICES = {"tonight": N_("Tonight"), "tomorrow": N_("Tomorrow"), "day": N_("Another day")}
EVENT_PICK_HELP = N_("When you expect to have sex")
EVENT_PAST = N_("that time has passed: add the next time you expect to have sex")
EVENT_FAR = N_("plan up to 30 days ahead")
EVENT_NOTE = N_("2-1-1 is for anal sex only, and not for people with hepatitis B. "
                "The first 2 pills must be taken at least 2 hours before sex.")
NO_EVENTS = N_("No doses planned.")
REMOVE = N_("Remove")
REMOVED = N_("Removed.")
SUPPLY_LABEL = N_("Pills left (count them today)")
EVENT_SUPPLY_NOTE = N_("Count your pills and the app takes off each dose it reminds you of.")
SAVE_SUPPLY = N_("Save count")
MISSED_DOSE = N_("If you miss a dose")
CHECK_UP_NONE = N_("Test every 3 months while you take PrEP. Your clinic sets the date at your visit.")
ASK_VISIT = N_("Ask for a visit")

# doxy-PEP
DOXY_TITLE = N_("Doxy-PEP log")
DOXY_RULE = N_("One dose of 200 mg as soon as you can, within 72 hours after sex. "
               "No more than one dose in 24 hours: one dose covers all sex in the 72 hours before it.")
SEX_LABEL = N_("When did you have sex?")
SEX_PICK_HELP = N_("When you had sex")
SEX_FUTURE = N_("log sex once it has happened")
DOSE_LABEL = N_("When did you take the dose?")
DOSE_PICK_HELP = N_("When you took the dose")
JUST_NOW = N_("Just now")
EARLIER_TODAY = N_("Earlier today")
YESTERDAY = N_("Yesterday")
ANOTHER_DAY = N_("Another day")  # no "…" on a quick choice: it reads as cut off (the icon says "picker")
DOSE_LOGGED = N_("Dose logged. Test every 3 to 6 months while you use doxy-PEP.")
DOXY_TESTING = N_("While you use doxy-PEP, test every 3 to 6 months, even when you feel well.")
ABOUT_DOXY = N_("About doxy-PEP")
NO_DOXY = N_("Nothing logged yet.")


def picking_on(what: str, day: date) -> str:
    """The time picker's heading: what it asks and the day chosen ("When you had sex, Mon 30 Nov");
    ``what`` is already in the patient's language."""
    return _("%(what)s, %(day)s") % {"what": what, "day": short_date(day)}


def time_format(text: str) -> str:
    """The refusal of a time that is not ``HH:MM`` (the core's words are English only)."""
    return _("expected a time like 09:00, got %(text)s") % {"text": repr(text)}


def daily_saved(at: time) -> str:
    return _("Daily reminder set for %(time)s.") % {"time": clock(at)}


def event_planned(ahead: timedelta) -> str:
    if ahead <= timedelta(hours=2):
        return _("Doses planned. Take the first 2 pills now: protection needs them at least 2 hours before sex.")
    return _("Doses planned: the app reminds you of each one.")


def supply_saved(runs_out: date) -> str:
    return _("Saved. Your pills last until %(day)s; the app reminds you to refill.") % {
        "day": short_date(runs_out - timedelta(days=1))}


def _pills(n: int) -> str:
    return ngettext("%(n)s pill", "%(n)s pills", n) % {"n": number(n)}


def event_supply_saved(after_planned: int) -> str:
    if after_planned < COURSE_PILLS:
        return _("Saved. That is less than one 2-1-1 course (%(pills)s): ask the clinic for a refill.") % {
            "pills": _pills(COURSE_PILLS)}
    return _("Saved. The app takes off each dose and reminds you to refill before a course runs short.")


def event_supply_line(supply: EventSupply) -> str:
    """2-1-1: what is left now, and after the doses planned (a course takes at least 4 pills)."""
    now, after = supply.left, supply.after_planned
    if after < 0:
        return ngettext("About %(n)s pill left: not enough for the doses planned (%(short)s short). "
                        "Ask the clinic for a refill.",
                        "About %(n)s pills left: not enough for the doses planned (%(short)s short). "
                        "Ask the clinic for a refill.", now) % {"n": number(now), "short": _pills(-after)}
    if after != now:
        text = ngettext("About %(n)s pill left, %(after)s after the doses planned.",
                        "About %(n)s pills left, %(after)s after the doses planned.", now) % {
            "n": number(now), "after": number(after)}
    else:
        text = ngettext("About %(n)s pill left.", "About %(n)s pills left.", now) % {"n": number(now)}
    if after < COURSE_PILLS:
        text += " " + _("That is less than one course (%(pills)s): time to ask for a refill.") % {
            "pills": _pills(COURSE_PILLS)}
    return text


def doxy_check_up_line(due: date, today: date) -> str:
    if due < today:
        return _("A check-up was due on %(day)s: ask for a visit.") % {"day": short_date(due)}
    return _("Your next check-up: %(day)s, 3 months after your first dose since your last test. "
             "The app reminds you that morning.") % {"day": short_date(due)}


def doxy_clinic_date_line(due: date) -> str:
    return _("Your next test: %(day)s (set by your clinic). It is the check-up doxy-PEP needs too.") % {
        "day": short_date(due)}


def sex_logged(sex_at: datetime, now: datetime, tz: tzinfo, earliest: datetime | None = None) -> str:
    """``earliest``: the earliest sex no dose covers yet, still inside 72 hours (one dose covers it too,
    and its deadline comes first: the patient must read that one, not the later one)."""
    last = sex_at + DOXY_WINDOW
    if last <= now:
        return _("Logged. It is more than 72 hours ago: doxy-PEP no longer works for it. "
                 "Ask the clinic about testing.")
    if earliest is not None and earliest < sex_at:
        return _("Logged. Take your dose as soon as you can, by %(deadline)s: "
                 "one dose covers this and the earlier sex.") % {
            "deadline": day_and_time(earliest + DOXY_WINDOW, tz, now)}
    return _("Logged. Take your dose as soon as you can, by %(deadline)s.") % {
        "deadline": day_and_time(last, tz, now)}


def one_dose_covers(earliest: datetime, tz: tzinfo, now: datetime) -> str:
    return _("One dose by %(deadline)s covers all of these.") % {
        "deadline": day_and_time(earliest + DOXY_WINDOW, tz, now)}


def daily_status(at: time, paused: bool, in_quiet: bool, quiet_end: str) -> str:
    if paused:
        return _("Paused: no reminders until you resume.")
    text = _("Every day at %(time)s.") % {"time": clock(at)}
    if in_quiet:
        text += " " + _("That is inside your quiet hours, so the reminder waits until %(time)s.") % {
            "time": quiet_end}
    return text


def dose_line(at: datetime, pills: int, tz: tzinfo, now: datetime) -> str:
    return _("%(when)s: %(pills)s") % {"when": day_and_time(at, tz, now), "pills": _pills(pills)}


def supply_line(runs_out: date, now: date) -> str:
    left = (runs_out - now).days
    if left <= 0:
        return _("Your pills have run out: ask the clinic for a refill.")
    last = short_date(runs_out - timedelta(days=1))
    return ngettext("About %(n)s day of pills left (until %(day)s).",
                    "About %(n)s days of pills left (until %(day)s).", left) % {"n": number(left), "day": last}


def check_up_line(due: date, today: date) -> str:
    if due < today:
        return _("Your PrEP test was due on %(day)s: ask for a visit.") % {"day": short_date(due)}
    return _("Your next PrEP test: %(day)s (set by your clinic).") % {"day": short_date(due)}


def open_event_line(sex_at: datetime, tz: tzinfo, now: datetime) -> str:
    deadline = sex_at + DOXY_WINDOW
    return _("Sex · %(when)s: take your dose by %(deadline)s (%(countdown)s).") % {
        "when": day_and_time(sex_at, tz, now), "deadline": day_and_time(deadline, tz, now),
        "countdown": countdown(deadline, now)}


def sex_entry(at: datetime, tz: tzinfo, now: datetime) -> str:
    return _("Sex · %(when)s") % {"when": day_and_time(at, tz, now)}


def planned_entry(at: datetime, tz: tzinfo, now: datetime) -> str:
    return _("Sex planned · %(when)s") % {"when": day_and_time(at, tz, now)}


def dose_entry(at: datetime, tz: tzinfo, now: datetime) -> str:
    return _("Dose 200 mg · %(when)s") % {"when": day_and_time(at, tz, now)}


def refusal_text(refusal: DoseRefusal, now: datetime, tz: tzinfo) -> str:
    if refusal.rule == "future":
        return _("log a dose once you have taken it, not ahead of time")
    if refusal.rule == "gap" and refusal.last is not None and refusal.next_from is not None:
        return _("only one dose in 24 hours. Your last dose was %(last)s; the next can be from %(next)s. "
                 "One dose covers all sex in the 72 hours before it") % {
            "last": day_and_time(refusal.last, tz, now), "next": day_and_time(refusal.next_from, tz, now)}
    if refusal.rule == "late":
        return _("this is more than 72 hours after sex, when doxy-PEP no longer works. Do not take it now: "
                 "ask the clinic about testing instead")
    return _("log when you had sex first: a dose counts within 72 hours after it")
