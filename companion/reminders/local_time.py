"""The device's local time zone and quiet hours on its wall clock.

Quiet hours ("22:00-07:00") are a wall-clock rule: they follow the patient's
local zone, including daylight-saving changes. Everything else in the product
works in UTC; this module is where the two meet.

- :func:`local_zone` resolves the zone the way the C library does: env ``TZ``
  (an IANA name through :mod:`zoneinfo`), else the ``/etc/localtime`` link,
  else :class:`SystemLocalZone`, a tzinfo answering through
  :func:`time.localtime` / :func:`time.mktime` (POSIX ``TZ`` strings, Android,
  platforms without a zoneinfo database).
- :class:`QuietHours` answers "is this instant quiet?" and "when does the quiet
  end?" for aware datetimes. Across a spring-forward gap the quiet ends at the
  first instant after the gap; in a fall-back repeated hour the rule is
  applied to the wall clock of each pass.
"""

from __future__ import annotations

import os
import time as _time
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["QuietHours", "SystemLocalZone", "local_zone", "zone_name"]

_EPOCH = datetime(1970, 1, 1)
_MAX_DST_SHIFT = timedelta(hours=3)


class SystemLocalZone(tzinfo):
    """The process's local zone as the C library sees it (honours ``TZ`` after :func:`time.tzset`)."""

    def _offset_at(self, epoch: float) -> timedelta:
        return timedelta(seconds=_time.localtime(epoch).tm_gmtoff)

    def utcoffset(self, dt: datetime | None) -> timedelta:
        if dt is None:
            return self._offset_at(_time.time())
        wall = (dt.replace(tzinfo=None) - _EPOCH).total_seconds()
        offsets = sorted({self._offset_at(wall - 86_400), self._offset_at(wall + 86_400), self._offset_at(wall)})
        valid = [off for off in offsets if self._offset_at(wall - off.total_seconds()) == off]
        if len(valid) >= 2:  # repeated hour: fold=0 is the first pass (the larger offset)
            return valid[-1] if dt.fold == 0 else valid[0]
        if valid:
            return valid[0]
        # Wall time in a gap: like zoneinfo, fold=0 uses the offset from before the jump.
        return offsets[0] if dt.fold == 0 else offsets[-1]

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str:
        if dt is None:
            return _time.localtime().tm_zone
        epoch = (dt.replace(tzinfo=None) - _EPOCH - self.utcoffset(dt)).total_seconds()
        return _time.localtime(epoch).tm_zone

    def fromutc(self, dt: datetime) -> datetime:
        epoch = (dt.replace(tzinfo=None) - _EPOCH).total_seconds()
        local = dt.replace(tzinfo=None) + self._offset_at(epoch)
        candidate = local.replace(tzinfo=self)
        if candidate.utcoffset() != self._offset_at(epoch):
            candidate = candidate.replace(fold=1)
        return candidate

    def __repr__(self) -> str:
        return "SystemLocalZone()"


def local_zone() -> tzinfo:
    """The zone reminders and exports use for wall-clock rules and wording."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            _time.tzset()
            return SystemLocalZone()
    try:
        link = Path("/etc/localtime").resolve(strict=True)
        parts = link.parts
        if "zoneinfo" in parts:
            return ZoneInfo("/".join(parts[parts.index("zoneinfo") + 1 :]))
    except (OSError, ZoneInfoNotFoundError, ValueError):
        pass
    return SystemLocalZone()


def zone_name(tz: tzinfo) -> str:
    """A short, human-readable name of ``tz`` (``"Europe/Berlin"``, ``"local"``)."""
    if isinstance(tz, ZoneInfo):
        return tz.key
    if isinstance(tz, SystemLocalZone):
        return f"local ({tz.tzname(None)})"
    return tz.tzname(None) or "local"


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily wall-clock window ``start``–``end`` (may wrap midnight) in zone ``tz``.

    ``start == end`` is refused by settings validation, so the window is never
    empty nor the whole day.
    """

    start: time
    end: time
    tz: tzinfo

    def is_quiet(self, instant: datetime) -> bool:
        wall = instant.astimezone(self.tz).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end

    def end_of_quiet(self, instant: datetime) -> datetime:
        """The earliest instant at or after ``instant`` that is not quiet (``instant`` itself if not quiet)."""
        if not self.is_quiet(instant):
            return instant
        local_day = instant.astimezone(self.tz).date()
        best: datetime | None = None
        for day in (local_day, local_day + timedelta(days=1)):
            for candidate in self._ends_on(day):
                if candidate <= instant or self.is_quiet(candidate):
                    continue
                if best is None or candidate < best:
                    best = candidate
        if best is None:  # unreachable for real zones; stay safe rather than loop
            return instant + timedelta(days=1)
        return best

    def _ends_on(self, day: date) -> list[datetime]:
        """The instants (UTC) at which the wall clock reads ``end`` on ``day``: one, two (repeated hour),
        or, when a clock jump skips ``end``, the first instant after the jump."""
        walls = [datetime.combine(day, self.end, tzinfo=self.tz).replace(fold=f) for f in (0, 1)]
        instants = sorted({w.astimezone(UTC) for w in walls})
        if all(i.astimezone(self.tz).time().replace(tzinfo=None) == self.end for i in instants):
            return instants
        return [self._end_of_gap(instants[-1])]

    def _end_of_gap(self, after_gap: datetime) -> datetime:
        """The first instant after the clock jump that precedes ``after_gap`` (minute resolution)."""
        target = after_gap.astimezone(self.tz).utcoffset()
        lo, hi = after_gap - _MAX_DST_SHIFT, after_gap
        while hi - lo > timedelta(minutes=1):
            mid = lo + (hi - lo) / 2
            mid = mid.replace(second=0, microsecond=0)
            if mid <= lo:
                break
            if mid.astimezone(self.tz).utcoffset() == target:
                hi = mid
            else:
                lo = mid
        return hi.astimezone(UTC)
