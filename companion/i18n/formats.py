"""Dates, times, money and lists in the active language, by Babel (CLDR), never by hand.

The clinic is in the US and bills in dollars: each language is formatted with its US variant
(``en_US``, ``es_US``: ``$1,234.50`` in both). Date layouts are themselves messages in the catalog
(``_("EEE d MMM")``), so a translator chooses the order and the small words ("jue 14 de may"),
while Babel supplies the day and month names::

    short_date(date(2026, 5, 14))   # en: "Thu 14 May"        es: "jue 14 de may"
    long_date(date(2026, 5, 14))    # en: "Thursday 14 May 2026"  es: "jueves 14 de mayo de 2026"
    clock(moment)                   # "09:05" (24-hour in both)
    money(123450)                   # "$1,234.50"
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal

from babel.dates import format_date, format_time, get_day_names
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal

from .catalog import _, language

__all__ = ["CURRENCY", "clock", "format_locale", "list_text", "long_date", "money", "number", "short_date",
           "weekday", "weekday_abbr"]

CURRENCY = "USD"
REGION = "US"


def format_locale() -> str:
    """The Babel locale of the active language: ``"en_US"``, ``"es_US"``."""
    return f"{language()}_{REGION}"


def money(cents: int) -> str:
    """Integer cents -> ``"$45.00"`` (a credit keeps its sign: ``"-$5.00"``)."""
    return format_currency(Decimal(int(cents)) / 100, CURRENCY, locale=format_locale())


def number(value: int) -> str:
    return format_decimal(value, locale=format_locale())


def clock(moment: datetime | time) -> str:
    """Wall-clock time, 24-hour: ``"09:05"`` (the moment as given: convert to the local zone first)."""
    return format_time(moment, _("HH:mm"), locale=format_locale())


def short_date(day: date) -> str:
    """``"Thu 14 May"``: a day in a list or a notification."""
    return format_date(day, _("EEE d MMM"), locale=format_locale())


def long_date(day: date) -> str:
    """``"Thursday 14 May 2026"``: a day on its own (a visit's detail, a birth date)."""
    return format_date(day, _("EEEE d MMMM y"), locale=format_locale())


def weekday(day: date) -> str:
    """``"Friday"``."""
    return format_date(day, "EEEE", locale=format_locale())


def list_text(items: Sequence[str]) -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"`` / ``"a, b y c"``."""
    return format_list(list(items), locale=format_locale())


def weekday_abbr(index: int) -> str:
    """Monday = 0 -> ``"Mon"`` / ``"lun"``: a day chip."""
    name: str = get_day_names("abbreviated", locale=format_locale())[index]
    return name
