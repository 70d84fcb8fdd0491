"""Reading what a PSR types on the command line: money, durations, dates and times.

Each parser raises :class:`~companion.core.errors.RecordError` naming the option, so the CLI prints
one line such as ``--amount: not an amount like 45.00``.

- :func:`parse_amount` — ``"45.00"``, ``"45"``, ``"1,234.50"`` -> integer cents, exactly; the
  grammar is the core's (:mod:`companion.core.units`), shared with the desk.
- :func:`parse_duration` — ``"12h"``, ``"90m"``, ``"1d"``, ``"1h30m"``, ``"2d 6h"`` -> minutes
  (the core's grammar, at most 60 days before).
- :func:`parse_start` — ISO 8601; without an offset the time is read in the local zone (``TZ``).
- :func:`parse_day` — ``YYYY-MM-DD``.

Amounts print with the core's :func:`~companion.core.units.format_cents` (re-exported here): ``1,234.50``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from ...core.errors import RecordError
from ...core.units import format_cents, parse_cents, parse_minutes

__all__ = ["format_cents", "parse_amount", "parse_day", "parse_duration", "parse_start"]

MAX_PREP_MINUTES = 60 * 24 * 60  # what a prep step may say: up to 60 days before


def parse_amount(text: str, option: str = "--amount") -> int:
    """``--amount`` and ``--insurance-paid``: the core's money grammar (:func:`~companion.core.units.parse_cents`)."""
    return parse_cents(text, option)


def parse_duration(text: str, option: str = "--before") -> int:
    """``--before``: the core's duration grammar, up to 60 days (:func:`~companion.core.units.parse_minutes`)."""
    return parse_minutes(text, option, maximum=MAX_PREP_MINUTES)


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

