"""What a PrEP or doxy-PEP reminder says on a lock screen: never the medicine, the reason or the clinic.

Every notification of this kind is discreet, whatever the discreet setting: it is built from
neutral words, counts and dates only. "Your daily reminder" is what a glance at a locked phone
shows; the app says the rest once unlocked. (One module, so the strings are wrapped for gettext
in one place.)
"""

from __future__ import annotations

from datetime import date

from ..config import ClinicProfile
from .wording import Wording, _reminder_title, _short_date

__all__ = ["check_up_text", "daily_dose_text", "doxy_window_text", "event_dose_text", "refill_low_text", "refill_text"]

_DETAILS = "The app has the details."


def daily_dose_text() -> Wording:
    return Wording("Your daily reminder", f"It's that time of day. {_DETAILS}", True)


def event_dose_text() -> Wording:
    return Wording("Your reminder", f"It's time. {_DETAILS}", True)


def refill_text(days_left: int) -> Wording:
    left = "1 day" if days_left == 1 else f"{days_left} days"
    return Wording("Your reminder", f"About {left} left: time to plan a refill. {_DETAILS}", True)


def refill_low_text() -> Wording:
    """Event-based: no days to count, only that the supply runs low."""
    return Wording("Your reminder", f"Running low: time to plan a refill. {_DETAILS}", True)


def check_up_text(due: date, today: date, clinic: ClinicProfile) -> Wording:
    delta = (due - today).days
    when = "today" if delta <= 0 else "tomorrow" if delta == 1 else f"on {_short_date(due)}"
    return Wording(_reminder_title(clinic, True), f"A check-up is due {when}. {_DETAILS}", True)


def doxy_window_text() -> Wording:
    return Wording("Your reminder", f"Something you noted is waiting for you. {_DETAILS}", True)
