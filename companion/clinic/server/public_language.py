"""The language of the public pages (a partner notice, a listed open time): English or Spanish.

Whoever opens a link from an SMS may not read English, and the page is about an STI exposure: it
must be understood. The pages' texts are written in English in the code and marked for the
server's own gettext catalog, domain ``public`` (``locale/<lang>/LC_MESSAGES/public.mo`` beside
this module; ``make catalog`` extracts only the public-page modules into it, see
``babel-public.cfg``). The clinic's side never reads the patient app's catalog (``companion.i18n``).

The language of one request (:func:`page_language`) is, in order: an explicit ``?lang=es|en``
(the "English · Español" switch on every page), else the browser's ``Accept-Language`` (q-values
honoured; an oversized or malformed header counts as none), else the clinic profile's ``[clinic]
language``, else English::

    t = page_language(request)
    t._("This link has expired.")                  # "Este enlace ha caducado."
    t.when(start, site.tz)                          # "mar 3 de diciembre, 14:30" (the clinic's zone)
    t.switch("/n/K7QM4ZTD9WXP")                     # the two links, each keeping the page

A module-level text is marked with :func:`N_` and translated where it is shown (``t._(TEXT)``).
"""

from __future__ import annotations

import ast
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import cache
from gettext import NullTranslations
from pathlib import Path
from typing import IO, Any

from babel.core import negotiate_locale
from babel.dates import format_date, format_datetime
from babel.support import Translations
from fastapi import Request

from .context import get_ctx

__all__ = ["DEFAULT", "LANGUAGES", "N_", "PageLanguage", "choose_language", "extract_infections", "locale_dir",
           "page_language"]

DOMAIN = "public"
DEFAULT_CLINIC = "Your clinic"  # ClinicSite's name when the profile gives none
DEFAULT = "en"
LANGUAGES = {"en": "English", "es": "Español"}  # each named in itself, as the switch shows it
MAX_HEADER = 512  # a real Accept-Language is a few dozen characters; anything longer is not a browser's
MAX_RANGES = 20
_RANGE = re.compile(r"\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*"  # a language range, then its q-value
                    r"(?:;\s*q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?))?\s*")
# Babel patterns per language: the weekday and month as each language writes them
SHORT = {"en": "EEE d MMM, HH:mm", "es": "EEE d 'de' MMMM, HH:mm"}  # (es: "mar" is both martes and marzo)
LONG = {"en": "EEEE d MMMM, HH:mm", "es": "EEEE d 'de' MMMM, HH:mm"}
DAY = {"en": "d MMMM y", "es": "d 'de' MMMM 'de' y"}


def N_(message: str) -> str:
    """Mark a module-level text for the catalog; it is translated where it is shown."""
    return message


def locale_dir() -> Path:
    return Path(__file__).resolve().parent / "locale"


@cache
def _translations(code: str) -> NullTranslations:
    if code == DEFAULT:
        return NullTranslations()  # the code's own English
    return Translations.load(str(locale_dir()), [code], DOMAIN)


def _supported(code: str | None) -> str | None:
    if not code:
        return None
    found = negotiate_locale([code.strip().replace("-", "_")], list(LANGUAGES), sep="_")
    return found if found in LANGUAGES else None


def accepted(header: str | None) -> list[str]:
    """The ranges of an ``Accept-Language`` header, most wanted first (q=0 and malformed ranges left out)."""
    if not header or len(header) > MAX_HEADER:
        return []
    ranges: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")[:MAX_RANGES]):
        match = _RANGE.fullmatch(item)
        if match is None or match.group(1) == "*":
            continue
        q = float(match.group(2)) if match.group(2) else 1.0
        if q > 0:
            ranges.append((-q, index, match.group(1)))
    return [tag for _q, _i, tag in sorted(ranges)]


def choose_language(asked: str | None, accept_language: str | None, clinic_default: str | None) -> str:
    """``?lang=`` (exactly ``en`` or ``es``), else the header's best we speak, else the clinic's, else English."""
    if asked in LANGUAGES:
        return asked
    wanted = [tag.lower().replace("-", "_") for tag in accepted(accept_language)]  # tags match in any case
    from_header = negotiate_locale(wanted, list(LANGUAGES), sep="_") if wanted else None
    return from_header if from_header in LANGUAGES else _supported(clinic_default) or DEFAULT


@dataclass(frozen=True, slots=True)
class PageLanguage:
    """One page's language: its texts, its dates and the switch to the other language."""

    code: str

    def _(self, message: str) -> str:
        return _translations(self.code).gettext(message)

    def when(self, moment: datetime, tz: tzinfo, *, long: bool = False) -> str:
        """A time in the clinic's zone: ``Tue 3 Dec, 14:30`` / ``mar 3 de diciembre, 14:30`` (``long``: in full)."""
        return format_datetime(moment, (LONG if long else SHORT)[self.code], tzinfo=tz, locale=self.code)

    def day(self, day: date) -> str:
        """A calendar day (already in the clinic's zone): ``3 December 2031`` / ``3 de diciembre de 2031``."""
        return format_date(day, DAY[self.code], locale=self.code)

    def query(self) -> str:
        """What a form's action adds so the answer speaks the language of the page the form was on."""
        return f"?lang={self.code}"

    def clinic(self, name: str) -> str:
        """The clinic's name as the page shows it; the built-in default ("Your clinic") in this language."""
        return self._("Your clinic") if name == DEFAULT_CLINIC else name

    def switch(self, path: str) -> str:
        """The "English · Español" links to ``path`` (a path its caller URL-quoted): plain links, no script."""
        parts = []
        for code, name in LANGUAGES.items():
            if code == self.code:
                parts.append(f"<strong lang=\"{code}\" aria-current=\"true\">{name}</strong>")
            else:
                href = f"{html.escape(path, quote=True)}?lang={code}"
                parts.append(f"<a href=\"{href}\" hreflang=\"{code}\" lang=\"{code}\">{name}</a>")
        label = html.escape(self._("Language"), quote=True)
        return f"<nav class=\"lang small\" aria-label=\"{label}\">{' · '.join(parts)}</nav>"


def page_language(request: Request) -> PageLanguage:
    site = get_ctx(request).settings.site
    return PageLanguage(choose_language(request.query_params.get("lang"), request.headers.get("accept-language"),
                                        site.language))


def extract_infections(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
                       ) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extractor for ``companion/core/partner_notice.py``: what to test for and why, per infection.

    The core (standard library only) cannot mark its texts; its English is the msgid, and the page
    translates ``infection.test`` and ``infection.why`` through this catalog."""
    for node in ast.walk(ast.parse(fileobj.read())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Infection":
            for arg in node.args[2:4]:
                text = arg.value if isinstance(arg, ast.Constant) else None
                if isinstance(text, str):
                    yield node.lineno, "", text, []
