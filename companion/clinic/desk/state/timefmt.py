"""Times as the front desk reads them: the clinic's local zone, short and unambiguous.

The server speaks UTC ISO 8601; the desk shows local wall-clock time and names the zone once on
each screen (``Times in EST``). Input is parsed the same way: ``2026-03-03`` + ``14:30`` local.
:class:`DeskClock` is the zone and the clock one desk reads (both injected in tests). The zone is
the clinic's — its profile's ``[clinic] timezone``, which the desk learns from the server at
sign-in (:meth:`DeskClock.use_site`) — not the zone of the machine the server happens to run on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from ....core.clinic_profile import ClinicSite
from ....core.errors import StaffApiError
from ....core.fields import utcnow

__all__ = ["LANGUAGE_NAMES", "DeskClock", "born", "clock", "day_bounds", "day_text", "local", "parse_local",
           "patient_label", "reads", "when", "zone_name"]


def day_text(value: str | None) -> str:
    """A calendar day as a person reads it: ``"2 Apr 1990"`` (the text itself if it is no ISO date)."""
    if not value:
        return ""
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return value
    return f"{day.day} {day:%b %Y}"


def born(dob: str | None) -> str:
    """``"born 2 Apr 1990"`` (a date of birth as a person reads it), ``""`` when not given."""
    return f"born {day_text(dob)}" if dob else ""


# The languages the patient app speaks, as staff read them (the server reports a code, core.protocol).
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}


def reads(language: str | None) -> str:
    """``"Reads Spanish"``: the language the patient's app speaks, beside their name; ``""`` before a device said."""
    if not language:
        return ""
    return f"Reads {LANGUAGE_NAMES.get(language, language)}"


def patient_label(name: str, dob: str | None) -> str:
    """How the desk names a patient in every list: ``"Alex Rivera · born 2 Apr 1990"`` — two
    patients with one name are told apart by the date of birth."""
    return f"{name} · {born(dob)}" if dob else name


def local(value: str | None, tz: tzinfo) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(tz)


def clock(value: str | None, tz: tzinfo) -> str:
    """``14:30``."""
    moment = local(value, tz)
    return moment.strftime("%H:%M") if moment else ""


def when(value: str | None, tz: tzinfo, now: datetime) -> str:
    """``today 14:30``, ``yesterday 09:05``, ``Tue 3 Mar 14:30``, ``3 Mar 2027 14:30``."""
    moment = local(value, tz)
    if moment is None:
        return ""
    today = now.astimezone(tz).date()
    hm = moment.strftime("%H:%M")
    if moment.date() == today:
        return f"today {hm}"
    if moment.date() == today - timedelta(days=1):
        return f"yesterday {hm}"
    if moment.date() == today + timedelta(days=1):
        return f"tomorrow {hm}"
    if moment.year == today.year:
        return f"{moment.strftime('%a')} {moment.day} {moment.strftime('%b')} {hm}"
    return f"{moment.day} {moment.strftime('%b %Y')} {hm}"


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """Local midnight to the next local midnight (DST days are 23 or 25 hours long)."""
    start = datetime.combine(day, time(0), tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tz)
    return start, end


def parse_local(day_text: str, time_text: str, tz: tzinfo) -> datetime:
    """``2026-03-03`` and ``14:30`` in the clinic's zone; a one-line error names the bad part."""
    try:
        day = date.fromisoformat(day_text.strip())
    except ValueError:
        raise StaffApiError(422, "Date: write it as YYYY-MM-DD, for example 2026-03-03.") from None
    try:
        hour, minute = (int(x) for x in time_text.strip().replace(".", ":").split(":", 1))
        moment = time(hour, minute)
    except ValueError:
        raise StaffApiError(422, "Time: write it as HH:MM, for example 14:30.") from None
    return datetime.combine(day, moment, tz)


def zone_name(tz: tzinfo, now: datetime) -> str:
    return now.astimezone(tz).tzname() or str(tz)


class DeskClock:
    """The clinic's zone, its profile and the desk's clock (tests pass both): ``clock.now()``, ``clock.tz``.

    One object per desk, shared by every list that shows times, so the zone the server names at
    sign-in reaches all of them at once. A zone given here (tests) stays fixed.
    """

    def __init__(self, tz: tzinfo | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.tz: tzinfo = tz or UTC
        self.clock = clock
        self.site = ClinicSite()  # the defaults until the server's profile arrives
        self._fixed = tz is not None

    @classmethod
    def local(cls, tz: tzinfo | None = None, clock: Callable[[], datetime] = utcnow) -> DeskClock:
        """The given zone (kept), or UTC until :meth:`use_site` names the clinic's."""
        return cls(tz, clock)

    def use_site(self, site: ClinicSite) -> None:
        """The clinic profile the server holds: its zone for every time shown and typed, its schedule."""
        self.site = site
        if not self._fixed:
            self.tz = site.tz

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return self.now().astimezone(self.tz).date()
