"""Every word of the Prevention screen (PrEP and doxy-PEP), in one place to wrap for translation.

Inside the app, after the passcode, the words can be plain: the lock-screen wording lives in
:mod:`companion.reminders.prevention_wording` and names nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

from ..core.prevention import COURSE_PILLS, DOXY_WINDOW, DoseRefusal, EventSupply
from .formatting import countdown, day_and_time, short_date

TITLE = "Prevention"
INTRO = ("PrEP and doxy-PEP, for you alone: what you enter here stays on this device and is never sent "
         "to the clinic. Reminders on the lock screen only say \u201cYour daily reminder\u201d.")
DAMAGED = "Your PrEP and doxy-PEP entries on this device could not be read. Set them again below."
WHEN_FORMAT = "write a time like 21:00, yesterday 21:00, tomorrow 9:30 or 2026-12-03 21:00"
PILLS_FORMAT = "write how many pills you have left, as a number"

# PrEP
PREP_TITLE = "PrEP reminders"
MODE_LABELS = {"off": "Off", "daily": "Daily", "event": "2-1-1 (event-based)"}
DAILY_TIME = "Change the time…"
DAILY_PICK_HELP = "Daily reminder at"
PAUSE = "Pause reminders"
RESUME = "Resume reminders"
PAUSED = "Reminders paused. Nothing will remind you until you resume."
RESUMED = "Reminders back on."
PREP_OFF = "PrEP reminders are off."
EVENT_SAVED = "Event-based PrEP: add when you expect to have sex, and the app reminds you of each dose."
EVENT_LABEL = "When do you expect to have sex? The app plans the doses from it."
EVENT_CHOICES = {"tonight": "Tonight…", "tomorrow": "Tomorrow…", "day": "Another day…"}
EVENT_PICK_HELP = "When you expect to have sex"
EVENT_PAST = "that time has passed: add the next time you expect to have sex"
EVENT_FAR = "plan up to 30 days ahead"
EVENT_NOTE = ("2-1-1 is for anal sex only, and not for people with hepatitis B. "
              "The first 2 pills must be taken at least 2 hours before sex.")
NO_EVENTS = "No doses planned."
REMOVE = "Remove"
REMOVED = "Removed."
SUPPLY_LABEL = "Pills left (count them today)"
EVENT_SUPPLY_NOTE = "Count your pills and the app takes off each dose it reminds you of."
SAVE_SUPPLY = "Save count"
MISSED_DOSE = "If you miss a dose"
CHECK_UP_NONE = "Test every 3 months while you take PrEP. Your clinic sets the date at your visit."
ASK_VISIT = "Ask for a visit"

# doxy-PEP
DOXY_TITLE = "Doxy-PEP log"
DOXY_RULE = ("One dose of 200 mg as soon as you can, within 72 hours after sex. "
             "No more than one dose in 24 hours: one dose covers all sex in the 72 hours before it.")
SEX_LABEL = "When did you have sex?"
SEX_PICK_HELP = "When you had sex"
SEX_FUTURE = "log sex once it has happened"
DOSE_LABEL = "When did you take the dose?"
DOSE_PICK_HELP = "When you took the dose"
JUST_NOW = "Just now"
EARLIER_TODAY = "Earlier today…"
YESTERDAY = "Yesterday…"
ANOTHER_DAY = "Another day…"
DOSE_LOGGED = "Dose logged. Test every 3 to 6 months while you use doxy-PEP."
DOXY_TESTING = "While you use doxy-PEP, test every 3 to 6 months, even when you feel well."
ABOUT_DOXY = "About doxy-PEP"
NO_DOXY = "Nothing logged yet."


def picking_on(what: str, day: date) -> str:
    """The time picker's heading: what it asks and the day chosen ("When you had sex, Mon 30 Nov")."""
    return f"{what}, {short_date(day)}"


def daily_saved(at: time) -> str:
    return f"Daily reminder set for {at:%H:%M}."


def event_planned(ahead: timedelta) -> str:
    if ahead <= timedelta(hours=2):
        return "Doses planned. Take the first 2 pills now: protection needs them at least 2 hours before sex."
    return "Doses planned: the app reminds you of each one."


def supply_saved(runs_out: date) -> str:
    return f"Saved. Your pills last until {short_date(runs_out - timedelta(days=1))}; the app reminds you to refill."


def _pills(n: int) -> str:
    return f"{n} pill{'s' if n != 1 else ''}"


def event_supply_saved(after_planned: int) -> str:
    if after_planned < COURSE_PILLS:
        return "Saved. That is less than one 2-1-1 course (4 pills): ask the clinic for a refill."
    return "Saved. The app takes off each dose and reminds you to refill before a course runs short."


def event_supply_line(supply: EventSupply) -> str:
    """2-1-1: what is left now, and after the doses planned (a course takes at least 4 pills)."""
    now, after = supply.left, supply.after_planned
    if after < 0:
        return (f"About {_pills(now)} left: not enough for the doses planned ({_pills(-after)} short). "
                "Ask the clinic for a refill.")
    text = f"About {_pills(now)} left" + (f", {after} after the doses planned." if after != now else ".")
    if after < COURSE_PILLS:
        text += f" That is less than one course ({_pills(COURSE_PILLS)}): time to ask for a refill."
    return text


def doxy_check_up_line(due: date, today: date) -> str:
    if due < today:
        return f"A check-up was due on {short_date(due)}: ask for a visit."
    return (f"Your next check-up: {short_date(due)}, 3 months after your first dose since your last test. "
            "The app reminds you that morning.")


def doxy_clinic_date_line(due: date) -> str:
    return f"Your next test: {short_date(due)} (set by your clinic). It is the check-up doxy-PEP needs too."


def sex_logged(sex_at: datetime, now: datetime, tz: tzinfo, earliest: datetime | None = None) -> str:
    """``earliest``: the earliest sex no dose covers yet, still inside 72 hours (one dose covers it too,
    and its deadline comes first: the patient must read that one, not the later one)."""
    last = sex_at + DOXY_WINDOW
    if last <= now:
        return "Logged. It is more than 72 hours ago: doxy-PEP no longer works for it. Ask the clinic about testing."
    if earliest is not None and earliest < sex_at:
        return (f"Logged. Take your dose as soon as you can, by {day_and_time(earliest + DOXY_WINDOW, tz, now)}: "
                "one dose covers this and the earlier sex.")
    return f"Logged. Take your dose as soon as you can, by {day_and_time(last, tz, now)}."


def one_dose_covers(earliest: datetime, tz: tzinfo, now: datetime) -> str:
    return f"One dose by {day_and_time(earliest + DOXY_WINDOW, tz, now)} covers all of these."


def daily_status(at: time, paused: bool, in_quiet: bool, quiet_end: str) -> str:
    if paused:
        return "Paused: no reminders until you resume."
    text = f"Every day at {at:%H:%M}."
    if in_quiet:
        text += f" That is inside your quiet hours, so the reminder waits until {quiet_end}."
    return text


def dose_line(at: datetime, pills: int, tz: tzinfo, now: datetime) -> str:
    return f"{day_and_time(at, tz, now)}: {pills} pill{'s' if pills != 1 else ''}"


def supply_line(runs_out: date, now: date) -> str:
    left = (runs_out - now).days
    if left <= 0:
        return "Your pills have run out: ask the clinic for a refill."
    last = short_date(runs_out - timedelta(days=1))
    return f"About {left} day{'s' if left != 1 else ''} of pills left (until {last})."


def check_up_line(due: date, today: date) -> str:
    if due < today:
        return f"Your PrEP test was due on {short_date(due)}: ask for a visit."
    return f"Your next PrEP test: {short_date(due)} (set by your clinic)."


def open_event_line(sex_at: datetime, tz: tzinfo, now: datetime) -> str:
    return (f"Sex · {day_and_time(sex_at, tz, now)}: take your dose by "
            f"{day_and_time(sex_at + DOXY_WINDOW, tz, now)} ({countdown(sex_at + DOXY_WINDOW, now)}).")


def sex_entry(at: datetime, tz: tzinfo, now: datetime) -> str:
    return f"Sex · {day_and_time(at, tz, now)}"


def planned_entry(at: datetime, tz: tzinfo, now: datetime) -> str:
    return f"Sex planned · {day_and_time(at, tz, now)}"


def dose_entry(at: datetime, tz: tzinfo, now: datetime) -> str:
    return f"Dose 200 mg · {day_and_time(at, tz, now)}"


def refusal_text(refusal: DoseRefusal, now: datetime, tz: tzinfo) -> str:
    if refusal.rule == "future":
        return "log a dose once you have taken it, not ahead of time"
    if refusal.rule == "gap" and refusal.last is not None and refusal.next_from is not None:
        return (f"only one dose in 24 hours. Your last dose was {day_and_time(refusal.last, tz, now)}; the next "
                f"can be from {day_and_time(refusal.next_from, tz, now)}. One dose covers all sex in the 72 hours "
                "before it")
    if refusal.rule == "late":
        return ("this is more than 72 hours after sex, when doxy-PEP no longer works. Do not take it now: "
                "ask the clinic about testing instead")
    return "log when you had sex first: a dose counts within 72 hours after it"
