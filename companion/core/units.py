"""Units people type and read: money (integer cents) and durations (minutes).

One grammar for each, shared by the staff CLI, the desk, the app's screens, reminders and the
clinic profile, so "45.00" or "12h" means the same thing wherever it is typed::

    parse_cents("$1,234.50", "amount")    # -> 123450
    format_cents(123450)                  # -> "1,234.50"
    format_cents(123450, "$")             # -> "$1,234.50"
    parse_minutes("1h30m", "before")      # -> 90
    format_minutes(90)                    # -> "1h30m" (what parse_minutes reads back)

Money is exact: ``Decimal``, never ``float`` (``float("45.005")`` rounds one way or the other,
and a typo must not silently become a different amount). The thousands separator is ",", the
decimal point is "." (the clinic's currency is dollars). Every parser raises
:class:`~companion.core.errors.RecordError` naming the field it was given, so a screen or the CLI
prints one line such as ``--amount: has more than 2 decimals``.

Standard library only: this is part of the core both sides import.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from .errors import RecordError

__all__ = ["MAX_CENTS", "format_cents", "format_minutes", "instalment_cents", "parse_cents", "parse_minutes"]

MAX_CENTS = 10**9  # what a bill may say (the records' own bound)
_SYMBOLS = ("$", "€", "£")
# digits with optional "," every three, or plain digits; then at most one "." part
_AMOUNT = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+")
_DURATION = re.compile(r"(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?", re.IGNORECASE)


def parse_cents(text: str, field: str, *, maximum: int = MAX_CENTS) -> int:
    """An amount typed by a person -> integer cents, exactly.

    Accepts ``"45"``, ``"45.00"``, ``"$45.00"``, ``"1,234.50"`` and ``"1234.5"``. Refuses
    negatives, more than two decimals (``"45.005"``), a "," in the wrong place (``"45,00"``:
    a decimal comma would be read as thousands), NaN, exponents and anything over ``maximum``.
    """
    raw = text.strip() if isinstance(text, str) else ""
    negative = raw.startswith("-")
    if raw.lstrip("-").startswith(_SYMBOLS):
        raw = raw.lstrip("-")[1:].strip()
    if negative or raw.startswith("-"):
        raise RecordError(field, "must not be negative")
    if not _AMOUNT.fullmatch(raw):
        raise RecordError(field, f"not an amount like 45.00: {str(text)[:30]!r}")
    try:
        value = Decimal(raw.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only what Decimal reads
        raise RecordError(field, f"not an amount like 45.00: {str(text)[:30]!r}") from None
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise RecordError(field, "has more than 2 decimals")
    cents = int(value * 100)
    if cents > maximum:
        raise RecordError(field, f"must be at most {format_cents(maximum)}")
    return cents


def instalment_cents(owed_cents: int, months: int) -> int:
    """Each month's part of ``owed_cents`` paid over ``months``, rounded up (the months never pay less)."""
    return -(-owed_cents // months)


def format_cents(cents: int, symbol: str = "") -> str:
    """Integer cents for display: ``123450`` -> ``"1,234.50"``; with ``symbol="$"``: ``"$1,234.50"``.

    A negative amount (a credit) keeps its sign in front: ``"-$5.00"``.
    """
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}{symbol}{whole:,}.{part:02d}"


def parse_minutes(text: str, field: str, *, maximum: int | None = None) -> int:
    """A duration -> minutes: days, hours and minutes, largest first.

    ``"12h"``, ``"90m"``, ``"90 min"``, ``"1d"``, ``"1h30m"``, ``"2d 6h"`` (case and spaces do not
    matter). A bare number, a unit twice, units out of order or zero parts only are refused, and
    so is anything over ``maximum`` minutes when it is given.
    """
    raw = text.strip() if isinstance(text, str) else ""
    match = _DURATION.fullmatch(raw)
    if not raw or match is None or not any(match.groups()):
        raise RecordError(field, f"not a duration like 12h, 90m, 1d or 1h30m: {str(text)[:30]!r}")
    days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    total = days * 24 * 60 + hours * 60 + minutes
    if maximum is not None and total > maximum:
        raise RecordError(field, f"must be at most {_spoken(maximum)}")
    return total


def format_minutes(minutes: int) -> str:
    """Minutes -> the text :func:`parse_minutes` reads back: ``1440`` -> ``"24h"``, ``90`` -> ``"1h30m"``."""
    hours, mins = divmod(int(minutes), 60)
    if hours and mins:
        return f"{hours}h{mins}m"
    return f"{hours}h" if hours else f"{mins}m"


def _spoken(minutes: int) -> str:
    days, rest = divmod(minutes, 24 * 60)
    if not rest:
        return "1 day" if days == 1 else f"{days} days"
    return format_minutes(minutes)
