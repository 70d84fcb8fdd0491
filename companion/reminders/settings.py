"""Reminder settings: kept in the vault, defaulted from the clinic profile, validated.

Stored as one JSON object under the vault meta key ``settings.reminders``::

    {"leads": ["24h", "2h"],            # appointment lead times, 1 to 5, each 1 min..14 days
     "bill_days_before": 3,             # 0..30; 0 = only on the due day
     "quiet_hours": "22:00-07:00",      # local wall clock, or "off"
     "discreet": true,                  # sensitive records are discreet regardless
     "snoozes": {"<reminder id>": {"until": ISO, "expires_at": ISO}}}

A missing key takes the clinic's default from ``flet.toml`` (:class:`ClinicProfile`),
so a clinic can change its defaults for patients who never touched the setting.
Bad values raise :class:`~companion.core.errors.ConfigError` naming the key, e.g.
``settings.reminders.quiet_hours: expected "HH:MM-HH:MM" or "off", got 'late'``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, time, tzinfo
from typing import Any, Protocol

from ..config import ClinicProfile, parse_quiet_hours
from ..core.errors import ConfigError, RecordError
from ..core.fields import iso, parse_datetime
from ..core.units import format_minutes, parse_minutes
from .local_time import QuietHours

__all__ = [
    "SETTINGS_KEY",
    "MetaStore",
    "ReminderSettings",
    "Snooze",
    "load_settings",
    "save_snoozes",
    "update_settings",
]

SETTINGS_KEY = "settings.reminders"
_KEYS = {"leads", "bill_days_before", "quiet_hours", "discreet", "snoozes"}
_MAX_LEAD = 14 * 1440


class MetaStore(Protocol):
    """The part of the vault's ``meta`` table reminders use (``vault.meta``)."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...


def _fail(key: str, problem: str) -> ConfigError:
    return ConfigError(f"{SETTINGS_KEY}.{key}: {problem}")


def format_quiet_hours(window: tuple[time, time] | None) -> str:
    if window is None:
        return "off"
    return f"{window[0]:%H:%M}-{window[1]:%H:%M}"


@dataclass(frozen=True, slots=True)
class Snooze:
    """The patient postponed reminder ``id`` until ``until``; forgotten once the reminder expires."""

    until: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ReminderSettings:
    leads_minutes: tuple[int, ...] = (24 * 60, 120)  # unique, longest first
    bill_days_before: int = 3
    quiet_hours: tuple[time, time] | None = (time(22, 0), time(7, 0))
    discreet: bool = True
    snoozes: Mapping[str, Snooze] = field(default_factory=dict)

    @classmethod
    def defaults(cls, profile: ClinicProfile) -> ReminderSettings:
        d = profile.reminders
        return cls(
            leads_minutes=tuple(sorted(set(d.appointment_leads_minutes), reverse=True)),
            bill_days_before=d.bill_days_before,
            quiet_hours=d.quiet_hours,
            discreet=d.discreet,
        )

    def quiet(self, tz: tzinfo) -> QuietHours | None:
        """Quiet hours in zone ``tz``, or None when switched off."""
        return None if self.quiet_hours is None else QuietHours(self.quiet_hours[0], self.quiet_hours[1], tz)

    def to_json(self) -> dict[str, Any]:
        return {
            "leads": [format_minutes(m) for m in self.leads_minutes],
            "bill_days_before": self.bill_days_before,
            "quiet_hours": format_quiet_hours(self.quiet_hours),
            "discreet": self.discreet,
            "snoozes": {
                rid: {"until": iso(s.until), "expires_at": iso(s.expires_at)} for rid, s in sorted(self.snoozes.items())
            },
        }

    @classmethod
    def from_json(cls, data: Any, defaults: ReminderSettings) -> ReminderSettings:
        """Parse a stored or user-given object; keys it lacks keep ``defaults``."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"{SETTINGS_KEY}: expected an object, got {type(data).__name__}")
        extra = sorted(set(data) - _KEYS)
        if extra:
            raise _fail(str(extra[0]), "unknown setting")
        result = defaults
        if "leads" in data:
            result = replace(result, leads_minutes=_parse_leads(data["leads"]))
        if "bill_days_before" in data:
            result = replace(result, bill_days_before=_parse_bill_days(data["bill_days_before"]))
        if "quiet_hours" in data:
            result = replace(result, quiet_hours=_parse_quiet(data["quiet_hours"]))
        if "discreet" in data:
            if not isinstance(data["discreet"], bool):
                raise _fail("discreet", f"expected true or false, got {data['discreet']!r}")
            result = replace(result, discreet=data["discreet"])
        if "snoozes" in data:
            result = replace(result, snoozes=_parse_snoozes(data["snoozes"]))
        return result


def _parse_leads(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= 5:
        raise _fail("leads", f'expected a list of 1 to 5 durations like ["24h", "2h"], got {value!r}')
    minutes: set[int] = set()
    for item in value:
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise _fail("leads", f'expected durations like "24h" or "90m", got {item!r}')
        try:
            m = item if isinstance(item, int) else parse_minutes(item, "leads")
        except RecordError as exc:
            raise _fail("leads", exc.problem) from None
        if not 1 <= m <= _MAX_LEAD:
            raise _fail("leads", f"each lead time must be between 1 minute and 14 days, got {item!r}")
        minutes.add(m)
    return tuple(sorted(minutes, reverse=True))


def _parse_bill_days(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 30:
        raise _fail("bill_days_before", f"expected a whole number from 0 to 30, got {value!r}")
    return value


def _parse_quiet(value: Any) -> tuple[time, time] | None:
    try:
        window = parse_quiet_hours(value)
    except ValueError as exc:
        raise _fail("quiet_hours", str(exc)) from None
    if window is not None and window[0] == window[1]:
        raise _fail("quiet_hours", f'start and end must differ (use "off" for no quiet hours), got {value!r}')
    return window


def _parse_snoozes(value: Any) -> dict[str, Snooze]:
    if not isinstance(value, Mapping):
        raise _fail("snoozes", "expected an object of reminder id -> {until, expires_at}")
    snoozes: dict[str, Snooze] = {}
    for rid, entry in value.items():
        if not isinstance(entry, Mapping):
            raise _fail(f"snoozes.{rid}", "expected an object with until and expires_at")
        try:
            snoozes[str(rid)] = Snooze(
                until=parse_datetime(entry.get("until", ""), f"{SETTINGS_KEY}.snoozes.{rid}.until"),
                expires_at=parse_datetime(entry.get("expires_at", ""), f"{SETTINGS_KEY}.snoozes.{rid}.expires_at"),
            )
        except RecordError as exc:
            raise ConfigError(str(exc)) from None
    return snoozes


def load_settings(meta: MetaStore, profile: ClinicProfile) -> ReminderSettings:
    """The patient's reminder settings: the stored object over the clinic's defaults."""
    stored = meta.get(SETTINGS_KEY)
    defaults = ReminderSettings.defaults(profile)
    return defaults if stored is None else ReminderSettings.from_json(stored, defaults)


def update_settings(meta: MetaStore, profile: ClinicProfile, changes: Mapping[str, Any]) -> ReminderSettings:
    """Validate ``changes`` (same keys and shapes as the stored object), store and return the result.

    Only the keys the patient set are stored, so the others keep following the
    clinic's defaults. Nothing is stored when any value is invalid.
    """
    raw = dict(meta.get(SETTINGS_KEY) or {})
    raw.update(changes)
    updated = ReminderSettings.from_json(raw, ReminderSettings.defaults(profile))
    normal = updated.to_json()
    meta.set(SETTINGS_KEY, {key: normal[key] for key in raw})
    return updated


def save_snoozes(meta: MetaStore, profile: ClinicProfile, snoozes: Mapping[str, Snooze]) -> None:
    """Replace the stored snoozes, leaving the other settings as the patient set them."""
    update_settings(meta, profile, {"snoozes": ReminderSettings(snoozes=snoozes).to_json()["snoozes"]})
