"""Reading what a PSR types on the command line: money, durations, dates and times.

Each parser raises :class:`~companion.errors.RecordError` naming the option, so the CLI prints
one line such as ``--amount: not an amount like 45.00``.

- :func:`parse_amount` — ``"45.00"``, ``"45"``, ``"1,234.50"`` -> integer cents, exactly
  (``Decimal``: no float rounding); negatives, more than two decimals, NaN and junk refused.
- :func:`parse_duration` — ``"12h"``, ``"90m"``, ``"1d"``, ``"1h30m"``, ``"2d 6h"`` -> minutes.
- :func:`parse_start` — ISO 8601; without an offset the time is read in the local zone (``TZ``).
- :func:`parse_day` — ``YYYY-MM-DD``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from ..errors import RecordError

MAX_CENTS = 10**9
MAX_PREP_MINUTES = 60 * 24 * 60  # what a prep step may say: up to 60 days before
_DURATION = re.compile(r"(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?", re.IGNORECASE)


def parse_amount(text: str, option: str = "--amount") -> int:
    raw = text.strip().replace(",", "")
    if raw.startswith(("$", "€", "£")):
        raw = raw[1:].strip()
    if not re.fullmatch(r"\d+(\.\d*)?|\.\d+", raw):
        if raw.startswith("-"):
            raise RecordError(option, "must not be negative")
        raise RecordError(option, f"not an amount like 45.00: {text[:30]!r}")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise RecordError(option, f"not an amount like 45.00: {text[:30]!r}") from None
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise RecordError(option, "has more than 2 decimals")
    cents = int(value * 100)
    if cents > MAX_CENTS:
        raise RecordError(option, f"must be at most {MAX_CENTS // 100:,}.00")
    return cents


def parse_duration(text: str, option: str = "--before") -> int:
    """Minutes in ``text``: days (d), hours (h) and minutes (m), largest first."""
    raw = text.strip()
    match = _DURATION.fullmatch(raw)
    if not raw or match is None or not any(match.groups()):
        raise RecordError(option, f"not a duration like 12h, 90m, 1d or 1h30m: {text[:30]!r}")
    days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    total = days * 24 * 60 + hours * 60 + minutes
    if total > MAX_PREP_MINUTES:
        raise RecordError(option, "must be at most 60 days")
    return total


def parse_start(text: str, option: str = "--start") -> datetime:
    raw = text.strip()
    try:
        value = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw)
    except ValueError:
        raise RecordError(option, f"not an ISO 8601 date and time like 2026-03-01T10:30: {text[:40]!r}") from None
    if value.tzinfo is None:
        value = value.astimezone()  # the local zone of the person typing
    return value.astimezone(UTC)


def parse_day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise RecordError(option, f"not a date YYYY-MM-DD: {text[:30]!r}") from None


def format_cents(cents: int) -> str:
    return f"{cents // 100:,}.{cents % 100:02d}"
