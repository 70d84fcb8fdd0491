"""The clinic deployment profile (``flet.toml``) the app reads at start.

A clinic rebrands the app and points it at its own server by editing
``flet.toml``; no code changes. Every key is optional and has a default; a
bad value raises :class:`~companion.core.errors.ConfigError` naming the key, e.g.
``flet.toml: reminders.quiet_hours: expected "HH:MM-HH:MM", got "late"``.

Lookup order of :func:`load_profile`: the explicit path, env
``COMPANION_PROFILE``, then ``flet.toml`` beside the package (the project root,
which is also the app root of a Flet build). No file at all gives the defaults.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from .core.clinic_profile import LISTING_KEYS, Schedule, TableReader, parse_schedule, parse_timezone, read_toml
from .core.errors import ConfigError, RecordError
from .core.units import parse_cents, parse_minutes
from .i18n import DEFAULT_LANGUAGE, LANGUAGES

__all__ = ["ClinicProfile", "PaymentOptions", "ReminderDefaults", "load_profile", "parse_quiet_hours"]

_QUIET = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """``"22:00-07:00"`` -> (start, end); ``""`` or ``"off"`` -> None (no quiet hours)."""
    if not isinstance(text, str):
        raise ValueError(f'expected "HH:MM-HH:MM" or "off", got {text!r}')
    if text.strip().lower() in ("", "off", "none"):
        return None
    m = _QUIET.match(text.strip())
    if not m:
        raise ValueError(f'expected "HH:MM-HH:MM" or "off", got {text!r}')
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    return time(h1, m1), time(h2, m2)


@dataclass(frozen=True, slots=True)
class ReminderDefaults:
    appointment_leads_minutes: tuple[int, ...] = (24 * 60, 120)
    bill_days_before: int = 3
    quiet_hours: tuple[time, time] | None = (time(22, 0), time(7, 0))
    discreet: bool = True


@dataclass(frozen=True, slots=True)
class PaymentOptions:
    """How a patient can pay a bill ([billing]): a link (``{reference}`` becomes the bill's reference),
    a phone line, at the front desk; and the smallest monthly instalment a plan may have."""

    pay_url: str | None = None
    phone: str | None = None
    in_person: bool = True
    min_instalment_cents: int = 2000

    def link_for(self, reference: str) -> str | None:
        return self.pay_url.replace("{reference}", quote(reference, safe="")) if self.pay_url else None


@dataclass(frozen=True, slots=True)
class ClinicProfile:
    name: str = "Your clinic"
    discreet_name: str = "Your clinic"
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    hours: str | None = None
    website: str | None = None
    accent_color: str = "#00695C"
    server_url: str | None = None
    ca_file: Path | None = None
    emergency_number: str = "911"
    crisis_line: str | None = None
    counselling_phone: str | None = None
    reminders: ReminderDefaults = field(default_factory=ReminderDefaults)
    auto_lock_minutes: int = 5
    checkin_opens_minutes: int = 24 * 60  # how long before a visit the patient may check in from the app
    payment: PaymentOptions = field(default_factory=lambda: PaymentOptions())
    timezone: str = "UTC"  # [clinic] timezone: the clinic's, for the server and the desk
    language: str = DEFAULT_LANGUAGE  # [clinic] language: the app's when the device's language is not one it has
    schedule: Schedule = field(default_factory=Schedule)  # [schedule]: read by companion.core.clinic_profile
    source: Path | None = None  # the file it came from, None for built-in defaults


def _parse(data: Mapping[str, Any], label: str, base: Path | None) -> ClinicProfile:
    known = {"clinic", "server", "safety", "reminders", "privacy", "visits", "billing", "schedule"}
    extra = sorted(set(data) - known)
    if extra:
        raise ConfigError(f"{label}: [{extra[0]}]: unknown table (expected one of {', '.join(sorted(known))})")
    d = ClinicProfile()  # (LISTING_KEYS: the public listing's address parts, read by the server only)
    clinic = TableReader(data, "clinic", label)
    clinic.unknown_keys({"name", "discreet_name", "phone", "email", "address", "hours", "website", "accent_color",
                         "timezone", "language", *LISTING_KEYS})
    lang = clinic.text("language", d.language) or d.language
    if lang not in LANGUAGES:
        raise clinic.fail("language", f"expected one of {', '.join(LANGUAGES)}, got {lang[:20]!r}")
    accent = clinic.text("accent_color", d.accent_color) or d.accent_color
    if not _COLOR.match(accent):
        raise clinic.fail("accent_color", f'expected a colour like "#00695C", got {accent!r}')
    name = clinic.text("name", d.name) or d.name

    server = TableReader(data, "server", label)
    server.unknown_keys({"url", "ca_file"})
    url = server.text("url", None)
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise server.fail("url", f"expected an https:// address, got {url!r}")
    ca_text = server.text("ca_file", None)
    ca_file = None
    if ca_text:
        ca_file = (base / ca_text) if base and not Path(ca_text).is_absolute() else Path(ca_text)
        if not ca_file.is_file():
            raise server.fail("ca_file", f"no such file: {ca_file}")

    safety = TableReader(data, "safety", label)
    safety.unknown_keys({"emergency_number", "crisis_line", "counselling_phone"})

    rem = TableReader(data, "reminders", label)
    rem.unknown_keys({"appointment_leads", "bill_days_before", "quiet_hours", "discreet"})
    leads_raw = rem.data.get("appointment_leads", ["24h", "2h"])
    if not isinstance(leads_raw, list) or not leads_raw or len(leads_raw) > 5:
        raise rem.fail("appointment_leads", 'expected a list of 1 to 5 durations like ["24h", "2h"]')
    try:
        leads = tuple(sorted({parse_minutes(x, "appointment_leads") for x in leads_raw}, reverse=True))
    except RecordError as exc:
        raise rem.fail("appointment_leads", exc.problem) from None
    try:
        quiet = parse_quiet_hours(rem.data.get("quiet_hours", "22:00-07:00"))
    except ValueError as exc:
        raise rem.fail("quiet_hours", str(exc)) from None
    if any(m <= 0 or m > 14 * 1440 for m in leads):
        raise rem.fail("appointment_leads", "each lead time must be between 1 minute and 14 days")
    reminders = ReminderDefaults(
        appointment_leads_minutes=leads,
        bill_days_before=rem.integer("bill_days_before", 3, 0, 30),
        quiet_hours=quiet,
        discreet=rem.boolean("discreet", True),
    )

    privacy = TableReader(data, "privacy", label)
    privacy.unknown_keys({"auto_lock_minutes"})
    visits = TableReader(data, "visits", label)
    visits.unknown_keys({"checkin_opens"})
    try:
        opens = parse_minutes(visits.data.get("checkin_opens", "24h"), "checkin_opens")
    except RecordError as exc:
        raise visits.fail("checkin_opens", exc.problem) from None
    if not 0 < opens <= 14 * 1440:
        raise visits.fail("checkin_opens", "expected a duration between 1 minute and 14 days")
    return ClinicProfile(
        name=name,
        discreet_name=clinic.text("discreet_name", None) or d.discreet_name,
        phone=clinic.text("phone", None),
        email=clinic.text("email", None),
        address=clinic.text("address", None),
        hours=clinic.text("hours", None),
        website=clinic.text("website", None),
        accent_color=accent,
        server_url=url,
        ca_file=ca_file,
        emergency_number=safety.text("emergency_number", d.emergency_number) or d.emergency_number,
        crisis_line=safety.text("crisis_line", None),
        counselling_phone=safety.text("counselling_phone", None),
        reminders=reminders,
        auto_lock_minutes=privacy.integer("auto_lock_minutes", 5, 0, 240),
        checkin_opens_minutes=opens,
        payment=_payment(TableReader(data, "billing", label)),
        timezone=parse_timezone(clinic),
        language=lang,
        schedule=parse_schedule(data, label),
        source=None,
    )


def _payment(billing: TableReader) -> PaymentOptions:
    billing.unknown_keys({"pay_url", "phone", "in_person", "min_instalment"})
    url = billing.text("pay_url", None)
    if url is not None and urlsplit(url).scheme != "https":
        raise billing.fail("pay_url", f"expected an https:// address, got {url!r}")
    raw = billing.data.get("min_instalment", "20.00")
    try:
        minimum = parse_cents(str(raw), "min_instalment")
    except RecordError as exc:
        raise billing.fail("min_instalment", exc.problem) from None
    return PaymentOptions(pay_url=url, phone=billing.text("phone", None),
                          in_person=billing.boolean("in_person", True), min_instalment_cents=max(minimum, 1))


def default_profile_path() -> Path:
    return Path(__file__).resolve().parent.parent / "flet.toml"


def load_profile(path: str | Path | None = None) -> ClinicProfile:
    """Load and validate the clinic profile; see the module docstring for the lookup order."""
    explicit = path or os.environ.get("COMPANION_PROFILE")
    target = Path(explicit) if explicit else default_profile_path()
    if not target.is_file():
        if explicit:
            raise ConfigError(f"clinic profile not found: {target}")
        return ClinicProfile()
    profile = _parse(read_toml(target), target.name, target.parent)
    return replace(profile, source=target)
