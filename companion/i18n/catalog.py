"""The app's language: which one is active, and its messages from the gettext catalogs.

Every string a patient reads (screens, notifications, calendar files, the built-in Learn library)
is written in English in the code, marked with :func:`_` (or :func:`ngettext` for a count), and
looked up here in ``companion/i18n/locale/<lang>/LC_MESSAGES/companion.mo``. The catalogs are
made with Babel (``make catalog``: extract -> ``companion.pot``, update -> ``es/…/companion.po``,
compile -> ``.mo``); the compiled ``.mo`` files are committed so a fresh clone and the package work
without a build step, and ``tests/i18n`` fails when one is stale or a message lacks a translation.

One device, one patient, one language: the active language is process-wide, set once at start
(:func:`choose_language`: the patient's choice, else the device's locale, else the clinic
profile's default) and again when the patient picks another in Settings::

    set_language("es")
    _("Settings")                                   # -> "Ajustes"
    ngettext("%(n)s new message", "%(n)s new messages", 3) % {"n": 3}

A module-level constant is marked with :func:`N_` (no lookup at import) and translated where it is
shown (``_(CONSTANT)``), so it follows a change of language.
"""

from __future__ import annotations

import gettext as _gettext
import os
from functools import cache
from pathlib import Path

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "N_", "_", "choose_language", "device_language", "gettext",
           "language", "language_name", "locale_dir", "ngettext", "normalize_language", "set_language"]

DOMAIN = "companion"
DEFAULT_LANGUAGE = "en"
# The languages the app speaks, each named in itself (how a patient finds their own in a list).
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español"}

_active = DEFAULT_LANGUAGE


def locale_dir() -> Path:
    return Path(__file__).resolve().parent / "locale"


@cache
def _translations(lang: str) -> _gettext.NullTranslations:
    if lang == DEFAULT_LANGUAGE:
        return _gettext.NullTranslations()  # the code's own English
    return _gettext.translation(DOMAIN, locale_dir(), languages=[lang], fallback=True)


def normalize_language(code: str | None) -> str | None:
    """``"es_US.UTF-8"``, ``"es-MX"``, ``"ES"`` -> ``"es"``; None for a language the app does not speak."""
    if not code:
        return None
    base = code.strip().split(".")[0].replace("-", "_").split("_")[0].lower()
    return base if base in LANGUAGES else None


def device_language() -> str | None:
    """The device's language, from the locale variables as gettext reads them (None if unsupported/unset)."""
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            for part in value.split(":"):  # LANGUAGE may list several
                found = normalize_language(part)
                if found:
                    return found
            if var != "LANGUAGE":
                return None  # the first set variable decides (C, POSIX, fr_FR: not ours)
    return None


def choose_language(chosen: str | None, profile_default: str | None) -> str:
    """The patient's choice, else the device's language, else the clinic's default, else English."""
    return (normalize_language(chosen) or device_language() or normalize_language(profile_default)
            or DEFAULT_LANGUAGE)


def set_language(code: str) -> str:
    """Make ``code`` the active language (normalized; an unknown code falls back to English)."""
    global _active
    _active = normalize_language(code) or DEFAULT_LANGUAGE
    return _active


def language() -> str:
    """The active language code (``"en"``, ``"es"``)."""
    return _active


def language_name(code: str) -> str:
    return LANGUAGES.get(code, code)


def gettext(message: str) -> str:
    return _translations(_active).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for ``n`` (the catalog's plural rule); the result still holds its ``%(n)s``-style fields."""
    return _translations(_active).ngettext(singular, plural, n)


def _(message: str) -> str:
    return gettext(message)


def N_(message: str) -> str:
    """Marks a constant for extraction; it is translated where it is shown."""
    return message
