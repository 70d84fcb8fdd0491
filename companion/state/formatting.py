"""How times, money and durations read on screen: plain, local, short.

Pure functions of their arguments (the local zone is passed in), so views and
tests agree on every string. Times in records are UTC; patients read them in
the device's zone.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

from ..core.units import format_cents

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
    """``4500`` -> ``"$45.00"`` (the clinic's currency is dollars; the core's :func:`format_cents`)."""
    return format_cents(cents, "$")


def local_time(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%H:%M")


def short_date(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def long_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B} {day.year}"


def day_and_time(moment: datetime, tz: tzinfo, now: datetime | None = None) -> str:
    """``"Today, 10:30"``, ``"Tomorrow, 09:00"`` or ``"Tue 14 May, 16:15"`` in the local zone."""
    local = moment.astimezone(tz)
    if now is not None:
        today = now.astimezone(tz).date()
        if local.date() == today:
            return f"Today, {local:%H:%M}"
        if local.date() == today + timedelta(days=1):
            return f"Tomorrow, {local:%H:%M}"
        if local.date() == today - timedelta(days=1):
            return f"Yesterday, {local:%H:%M}"
    return f"{short_date(local.date())}, {local:%H:%M}"


def _span(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, mins = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {mins} min" if mins and hours < 6 else f"{hours} h"
    days = hours // 24
    return "1 day" if days == 1 else f"{days} days"


def countdown(moment: datetime, now: datetime) -> str:
    """``"in 20 h"``, ``"in 3 days"``, ``"now"`` or ``"2 h ago"``."""
    delta = (moment - now).total_seconds()
    if abs(delta) < 60:
        return "now"
    return f"in {_span(delta)}" if delta > 0 else f"{_span(-delta)} ago"


def ago(moment: datetime | None, now: datetime) -> str:
    """``"just now"``, ``"5 min ago"``; ``"never"`` for None."""
    if moment is None:
        return "never"
    delta = (now - moment).total_seconds()
    if delta < 45:
        return "just now"
    return f"{_span(delta)} ago"


def before_text(minutes: int) -> str:
    """A prep step's offset: ``720`` -> ``"12 h before"``, ``90`` -> ``"1 h 30 min before"``."""
    if minutes <= 0:
        return "At the appointment"
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append("1 day" if days == 1 else f"{days} days")
    if hours:
        parts.append(f"{hours} h")
    if mins:
        parts.append(f"{mins} min")
    return " ".join(parts) + " before"


def sync_summary(paired: bool, stored_state: str | None, live_state: str | None, last_sync: datetime | None,
                 pending: int, now: datetime) -> tuple[str, str]:
    """The always-visible sync chip: ``(text, tone)`` with tone ``ok``, ``busy``, ``offline`` or ``problem``."""
    waiting = f" · {pending} waiting to send" if pending else ""
    if stored_state == "revoked" and not paired:
        return "Disconnected by the clinic", "problem"
    if not paired:
        return "Not connected to a clinic", "problem"
    state = live_state or stored_state
    if state == "syncing":
        return f"Syncing…{waiting}", "busy"
    if state in ("offline", "error", None) or last_sync is None:
        when = "never synced" if last_sync is None else f"last synced {ago(last_sync, now)}"
        label = "Offline" if state in ("offline", None) else "Sync problem"
        return f"{label} · {when}{waiting}", "offline" if state != "error" else "problem"
    return f"Up to date · synced {ago(last_sync, now)}{waiting}", "ok"


def first_sync_text(done: int, total: int) -> str:
    """How far the first download is: ``1,200 of 10,000 records``."""
    return f"{done:,} of {total:,} record{'' if total == 1 else 's'}"


DEFAULT_CLINIC_NAME = "Your clinic"  # the profile's built-in name: a clinic that set none


def clinic_name(profile_name: str, server_name: str | None) -> str:
    """The clinic's own name: the profile's, else the one the clinic's server gave at pairing."""
    if profile_name and profile_name != DEFAULT_CLINIC_NAME:
        return profile_name
    return server_name or profile_name


def notifications_text(available: bool, backend: str) -> str:
    """Whether reminders reach the patient outside the app, in plain words (no backend names)."""
    if backend == "in-app" or not available:
        return "Notifications from this device aren't available; reminders show inside the app."
    return "Reminders show as notifications on this device, and inside the app."
