"""The clinic's profile as both sides read it: one TOML file (``flet.toml``'s format), one parser.

The app reads the whole file (:mod:`companion.config`: branding, reminders, billing…); the clinic
server reads what it needs to run the desk and answer bookings — the clinic's name, its time
zone and its schedule — through :func:`load_clinic_site` (setting ``COMPANION_CLINIC_PROFILE`` or
``companion-server serve --profile``). Both go through :class:`TableReader` and
:func:`read_toml`, so a bad value is refused with the same words on both sides, naming
``file: table.key``::

    [clinic]
    timezone = "America/New_York"          # IANA name; default UTC
    [schedule]
    opening = { mon = "08:00-18:00", sat = "09:00-13:00" }   # closed days left out
    slot_minutes = 30                      # length of a proposed free time, and its step
    place = "Riverside Clinic, Room 2"     # prefilled on the desk's booking forms
    providers = ["Nurse Alex Kim", "Dr Sam Patel"]           # the first is the default

    site = load_clinic_site(Path("flet.toml"))   # ClinicSite(name=…, timezone=…, schedule=…)
    site.tz, site.schedule.opening["mon"]         # ZoneInfo(…), (time(8), time(18))

Every key is optional: :data:`DEFAULT_OPENING` (Mon–Fri 08:00–20:00, Sat 09:00–13:00) is what
the clinic's free times follow without a profile. Standard library only (part of the core).
"""

from __future__ import annotations

import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, time, tzinfo
from pathlib import Path
from typing import Any

from .errors import ConfigError

__all__ = ["DEFAULT_OPENING", "LISTING_KEYS", "MINUTE_CHOICES", "WEEKDAYS", "ClinicSite", "Schedule", "TableReader",
           "load_clinic_site", "parse_clinic_site", "parse_schedule", "parse_timezone", "read_toml"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_OPENING: dict[str, tuple[time, time]] = {d: (time(8), time(20)) for d in WEEKDAYS[:5]} | {
    "sat": (time(9), time(13))}
MINUTE_CHOICES = (15, 30, 45, 60)  # visit lengths the desk offers with one click
_SPAN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
SCHEDULE_KEYS = {"opening", "slot_minutes", "place", "providers"}
# [clinic] keys only the clinic's public listing uses (SMART Scheduling Links: a Location's address)
LISTING_KEYS = ("city", "state", "postal_code")


class TableReader:
    """Reads typed values out of one TOML table, naming ``file: table.key`` on failure."""

    def __init__(self, data: Mapping[str, Any], table: str, label: str) -> None:
        raw = data.get(table, {})
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{label}: [{table}] must be a table")
        self.data, self.table, self.label = raw, table, label

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.label}: {self.table}.{key}: {problem}")

    def text(self, key: str, default: str | None) -> str | None:
        value = self.data.get(key, default)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"expected text, got {type(value).__name__}")
        return value.strip() or default

    def integer(self, key: str, default: int, lo: int, hi: int) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self.fail(key, f"expected a whole number from {lo} to {hi}, got {value!r}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {value!r}")
        return value

    def unknown_keys(self, allowed: set[str]) -> None:
        extra = sorted(set(self.data) - allowed)
        if extra:
            raise self.fail(extra[0], "unknown key (misspelt?)")


def read_toml(target: Path) -> dict[str, Any]:
    """The file's tables; unreadable or invalid TOML is a ConfigError naming the file."""
    label = target.name
    try:
        return tomllib.loads(target.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{label}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label}: not valid TOML: {exc}") from None


@dataclass(frozen=True, slots=True)
class Schedule:
    """When the clinic sees patients ([schedule]): opening hours per weekday (closed days absent),
    the length of a proposed slot, and the defaults a booking form starts from."""

    opening: Mapping[str, tuple[time, time]] = field(default_factory=lambda: dict(DEFAULT_OPENING))
    slot_minutes: int = 30
    place: str | None = None
    providers: tuple[str, ...] = ()

    @property
    def provider(self) -> str | None:
        """The default provider (the first listed), None when none is."""
        return self.providers[0] if self.providers else None

    def opening_text(self) -> dict[str, str]:
        """``{"mon": "08:00-18:00", …}``: the form the profile is written in (and the staff route answers)."""
        return {day: f"{a:%H:%M}-{'24:00' if b == time.max else f'{b:%H:%M}'}"
                for day, (a, b) in self.opening.items()}


@dataclass(frozen=True, slots=True)
class ClinicSite:
    """What the clinic server knows of its clinic: name, time zone (IANA), schedule, and what its public
    listing shows (phone, street address and its city, state and postal code)."""

    name: str = "Your clinic"
    timezone: str = "UTC"
    schedule: Schedule = field(default_factory=Schedule)
    phone: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    language: str = "en"  # [clinic] language: the public pages' when a browser asks for none they speak

    @property
    def tz(self) -> tzinfo:
        return UTC if self.timezone == "UTC" else zoneinfo.ZoneInfo(self.timezone)


def parse_timezone(clinic: TableReader, default: str = "UTC") -> str:
    """``[clinic] timezone``: an IANA name this machine knows (``America/New_York``)."""
    name = clinic.text("timezone", default) or default
    if name == "UTC":
        return name
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        if not zoneinfo.available_timezones():  # no time zone database here (a phone): take it as written
            return name
        raise clinic.fail("timezone", f'expected a time zone name like "America/New_York", got {name[:60]!r}') from None
    return name


def _span(schedule: TableReader, day: str, value: Any) -> tuple[time, time]:
    match = _SPAN.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise schedule.fail(f"opening.{day}", f'expected "HH:MM-HH:MM" like "08:00-18:00", got {value!r}')
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h2 == 24 and m2:
        raise schedule.fail(f"opening.{day}", f"{value!r} closes after midnight")
    opens, closes = time(h1, m1), time.max if h2 == 24 else time(h2, m2)
    if closes <= opens:
        raise schedule.fail(f"opening.{day}", f"{value!r} closes before it opens")
    return opens, closes


def parse_schedule(data: Mapping[str, Any], label: str) -> Schedule:
    """``[schedule]`` of a profile's tables; ConfigError names ``file: schedule.key``."""
    schedule = TableReader(data, "schedule", label)
    schedule.unknown_keys(SCHEDULE_KEYS)
    raw = schedule.data.get("opening")
    opening = dict(DEFAULT_OPENING)
    if raw is not None:
        if not isinstance(raw, Mapping):
            raise schedule.fail("opening", 'expected a table like { mon = "08:00-18:00", sat = "09:00-13:00" }')
        unknown = sorted(set(raw) - set(WEEKDAYS))
        if unknown:
            raise schedule.fail(f"opening.{unknown[0]}", f"unknown weekday (use {', '.join(WEEKDAYS)})")
        opening = {day: _span(schedule, day, raw[day]) for day in WEEKDAYS if day in raw}
    slot = schedule.integer("slot_minutes", 30, 5, 240)
    if 1440 % slot:
        raise schedule.fail("slot_minutes", f"expected a length that divides a day (15, 20, 30, 60…), got {slot}")
    providers_raw = schedule.data.get("providers", [])
    if not isinstance(providers_raw, list) or not all(isinstance(p, str) and p.strip() for p in providers_raw):
        raise schedule.fail("providers", 'expected a list of names like ["Nurse Alex Kim", "Dr Sam Patel"]')
    providers = tuple(dict.fromkeys(p.strip()[:200] for p in providers_raw))
    place = schedule.text("place", None)
    return Schedule(opening=opening, slot_minutes=slot, place=place[:200] if place else None, providers=providers)


def parse_clinic_site(data: Mapping[str, Any], label: str) -> ClinicSite:
    """The server's part of a profile: ``[clinic] name, timezone, language``, the listing's ``phone, address,
    city, state, postal_code``, and ``[schedule]``.

    The other tables are the app's (:mod:`companion.config` checks them); they are not read here.
    """
    clinic = TableReader(data, "clinic", label)
    name = clinic.text("name", None)
    listed = {key: (clinic.text(key, None) or None) for key in ("phone", "address", *LISTING_KEYS)}
    language = (clinic.text("language", None) or "en").strip().lower()
    if not re.fullmatch(r"[a-z]{2,3}([-_][a-z0-9]{2,8})?", language):
        raise clinic.fail("language", f'expected a language code like "en" or "es", got {language[:20]!r}')
    return ClinicSite(name=(name or "Your clinic")[:200], timezone=parse_timezone(clinic),
                      schedule=parse_schedule(data, label), language=language,
                      **{key: value[:200] if value else None for key, value in listed.items()})


def load_clinic_site(path: str | Path) -> ClinicSite:
    """Read and check the profile at ``path``; a missing file is an error (it was asked for)."""
    target = Path(path).expanduser()
    if not target.is_file():
        raise ConfigError(f"clinic profile not found: {target}")
    return parse_clinic_site(read_toml(target), target.name)
