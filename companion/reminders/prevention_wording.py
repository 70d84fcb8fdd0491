"""What a PrEP or doxy-PEP reminder says on a lock screen: never the medicine, the reason or the clinic.

Every notification of this kind is discreet, whatever the discreet setting: it is built from
neutral words, counts and dates only. "Your daily reminder" is what a glance at a locked phone
shows; the app says the rest once unlocked. (One module, so the strings are wrapped for gettext
in one place.)
"""

from __future__ import annotations

from datetime import date

from ..config import ClinicProfile
from ..i18n import _, ngettext, short_date
from .wording import Wording, _reminder_title

__all__ = ["check_up_text", "daily_dose_text", "doxy_window_text", "event_dose_text", "refill_low_text", "refill_text"]


def _details() -> str:
    return _("The app has the details.")


def daily_dose_text() -> Wording:
    return Wording(_("Your daily reminder"), _("It's that time of day. %(details)s") % {"details": _details()}, True)


def event_dose_text() -> Wording:
    return Wording(_("Your reminder"), _("It's time. %(details)s") % {"details": _details()}, True)


def refill_text(days_left: int) -> Wording:
    text = ngettext("About %(days)d day left: time to plan a refill. %(details)s",
                    "About %(days)d days left: time to plan a refill. %(details)s", days_left)
    return Wording(_("Your reminder"), text % {"days": days_left, "details": _details()}, True)


def refill_low_text() -> Wording:
    """Event-based: no days to count, only that the supply runs low."""
    return Wording(_("Your reminder"), _("Running low: time to plan a refill. %(details)s") % {"details": _details()},
                   True)


def check_up_text(due: date, today: date, clinic: ClinicProfile) -> Wording:
    delta = (due - today).days
    if delta <= 0:
        text = _("A check-up is due today. %(details)s")
    elif delta == 1:
        text = _("A check-up is due tomorrow. %(details)s")
    else:
        text = _("A check-up is due on %(date)s. %(details)s")
    return Wording(_reminder_title(clinic, True), text % {"date": short_date(due), "details": _details()}, True)


def doxy_window_text() -> Wording:
    text = _("Something you noted is waiting for you. %(details)s")
    return Wording(_("Your reminder"), text % {"details": _details()}, True)
