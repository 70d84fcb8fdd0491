"""How times, money and durations read on screen: plain, local, short, in the patient's language.

Pure functions of their arguments (the local zone is passed in), so views and tests agree on every
string. Times in records are UTC; patients read them in the device's zone. Words come from the
catalog (:mod:`companion.i18n`), day and month names, numbers and money from Babel.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

from ..i18n import N_, _, ngettext, number
from ..i18n import clock as _clock
from ..i18n import long_date as _long_date
from ..i18n import money as _money
from ..i18n import short_date as _short_date

__all__ = [
    "DEFAULT_CLINIC_NAME",
    "ago",
    "before_text",
    "clinic_name",
    "countdown",
    "day_and_time",
    "local_time",
    "long_date",
    "money",
    "notifications_text",
    "short_date",
    "sync_summary",
]


def money(cents: int) -> str:
    """``4500`` -> ``"$45.00"`` (the clinic's currency is dollars; Babel's format for the language)."""
    return _money(cents)


def local_time(moment: datetime, tz: tzinfo) -> str:
    return _clock(moment.astimezone(tz))


def short_date(day: date) -> str:
    return _short_date(day)


def long_date(day: date) -> str:
    return _long_date(day)


def day_and_time(moment: datetime, tz: tzinfo, now: datetime | None = None) -> str:
    """``"Today, 10:30"``, ``"Tomorrow, 09:00"`` or ``"Tue 14 May, 16:15"`` in the local zone."""
    local = moment.astimezone(tz)
    at = {"time": _clock(local)}
    if now is not None:
        today = now.astimezone(tz).date()
        if local.date() == today:
            return _("Today, %(time)s") % at
        if local.date() == today + timedelta(days=1):
            return _("Tomorrow, %(time)s") % at
        if local.date() == today - timedelta(days=1):
            return _("Yesterday, %(time)s") % at
    return _("%(day)s, %(time)s") % {"day": _short_date(local.date()), **at}


def days_text(days: int) -> str:
    return ngettext("%(n)s day", "%(n)s days", days) % {"n": days}


def _hours(hours: int) -> str:
    return _("%(n)s h") % {"n": hours}


def _minutes(minutes: int) -> str:
    return _("%(n)s min") % {"n": minutes}


def _span(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return _("less than a minute")
    if minutes < 60:
        return _minutes(minutes)
    hours, mins = divmod(minutes, 60)
    if hours < 24:
        return f"{_hours(hours)} {_minutes(mins)}" if mins and hours < 6 else _hours(hours)
    return days_text(hours // 24)


def countdown(moment: datetime, now: datetime) -> str:
    """``"in 20 h"``, ``"in 3 days"``, ``"now"`` or ``"2 h ago"``."""
    delta = (moment - now).total_seconds()
    if abs(delta) < 60:
        return _("now")
    if delta > 0:
        return _("in %(span)s") % {"span": _span(delta)}
    return _("%(span)s ago") % {"span": _span(-delta)}


def ago(moment: datetime | None, now: datetime) -> str:
    """``"just now"``, ``"5 min ago"``; ``"never"`` for None."""
    if moment is None:
        return _("never")
    delta = (now - moment).total_seconds()
    if delta < 45:
        return _("just now")
    return _("%(span)s ago") % {"span": _span(delta)}


def before_text(minutes: int) -> str:
    """A prep step's offset: ``720`` -> ``"12 h before"``, ``90`` -> ``"1 h 30 min before"``."""
    if minutes <= 0:
        return _("At the appointment")
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(days_text(days))
    if hours:
        parts.append(_hours(hours))
    if mins:
        parts.append(_minutes(mins))
    return _("%(span)s before") % {"span": " ".join(parts)}


def sync_summary(paired: bool, stored_state: str | None, live_state: str | None, last_sync: datetime | None,
                 pending: int, now: datetime) -> tuple[str, str]:
    """The always-visible sync chip: ``(text, tone)`` with tone ``ok``, ``busy``, ``offline`` or ``problem``."""
    waiting = (" · " + ngettext("%(n)s waiting to send", "%(n)s waiting to send", pending) % {"n": pending}
               if pending else "")
    if stored_state == "revoked" and not paired:
        return _("Disconnected by the clinic"), "problem"
    if not paired:
        return _("Not connected to a clinic"), "problem"
    state = live_state or stored_state
    if state == "syncing":
        return _("Syncing…") + waiting, "busy"
    if state in ("offline", "error", None) or last_sync is None:
        when = _("never synced") if last_sync is None else _("last synced %(ago)s") % {"ago": ago(last_sync, now)}
        label = _("Offline") if state in ("offline", None) else _("Sync problem")
        return f"{label} · {when}{waiting}", "offline" if state != "error" else "problem"
    return _("Up to date · synced %(ago)s") % {"ago": ago(last_sync, now)} + waiting, "ok"


def first_sync_text(done: int, total: int) -> str:
    """How far the first download is: ``1,200 of 10,000 records``."""
    return ngettext("%(done)s of %(total)s record", "%(done)s of %(total)s records", total) % {
        "done": number(done), "total": number(total)}


DEFAULT_CLINIC_NAME = N_("Your clinic")  # the profile's built-in name: a clinic that set none


def clinic_name(profile_name: str, server_name: str | None) -> str:
    """The clinic's own name: the profile's, else the one the clinic's server gave at pairing."""
    if profile_name and profile_name != DEFAULT_CLINIC_NAME:
        return profile_name
    return server_name or _(profile_name)


def notifications_text(available: bool, backend: str) -> str:
    """Whether reminders reach the patient outside the app, in plain words (no backend names)."""
    if backend == "in-app" or not available:
        return _("Notifications from this device aren't available; reminders show inside the app.")
    return _("Reminders show as notifications on this device, and inside the app.")
