"""The app's languages: messages from gettext catalogs and locale formats by Babel.

``from companion.i18n import _, ngettext`` in every layer of the patient app (state, views, ui,
reminders, exports); dates, times and money through :mod:`.formats`. See :mod:`.catalog` for how
the catalogs are made and which language is active.
"""

from __future__ import annotations

from .catalog import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    N_,
    _,
    choose_language,
    device_language,
    gettext,
    language,
    language_name,
    ngettext,
    normalize_language,
    set_language,
)
from .formats import clock, list_text, long_date, money, number, short_date, weekday, weekday_abbr

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "N_", "_", "choose_language", "clock", "device_language", "gettext",
           "language", "language_name", "list_text", "long_date", "money", "ngettext", "normalize_language",
           "number", "set_language", "short_date", "weekday", "weekday_abbr"]
