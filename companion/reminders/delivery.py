"""Delivering due reminders from the vault: each one at most once, across restarts.

:func:`deliver_due` is the whole service step: read records, settings and the
delivery log from the vault, plan, record, then show. The delivery log is the
vault meta key ``reminders.delivered``::

    {"<reminder id>": {"outcome": "shown" | "in_app" | "failed" | "dropped",
                       "at": ISO, "expires_at": ISO}}

``dropped`` marks a reminder that expired before it could show (the app was
closed, or quiet hours and a snooze pushed it past its use). Entries are
forgotten :data:`~.planner.FORGET_AFTER` after their reminder expired — by
then the planner no longer plans it, so forgetting cannot make it fire again
and the log stays small.

:func:`due_notices` is the read-only twin used by ``companion reminders``:
the same plan at a given time, nothing written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from ..config import ClinicProfile
from ..core.errors import NotifyError, RecordError, VaultError
from ..core.fields import iso, parse_datetime
from .local_time import local_zone
from .notifier import InAppNotifier, Notifier
from .planner import FORGET_AFTER, Notice, RecordSet, Reminder, compose_notices, plan_reminders, triage
from .settings import MetaStore, ReminderSettings, Snooze, load_settings, save_snoozes

if TYPE_CHECKING:
    from ..vault import Vault

__all__ = [
    "DELIVERED_KEY",
    "DeliveryReport",
    "base_reminder_id",
    "deliver_due",
    "due_notices",
    "load_delivered",
    "prune_delivered",
    "snooze",
]

DELIVERED_KEY = "reminders.delivered"


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one :func:`deliver_due` step did; ``next_fire_at`` is when the next pending reminder is due."""

    shown: list[Notice] = field(default_factory=list)
    dropped: list[Reminder] = field(default_factory=list)
    fallback: list[Notice] = field(default_factory=list)  # shown in the app because the system notifier failed
    failed: list[Notice] = field(default_factory=list)  # no notifier could show them (no fallback given)
    next_fire_at: datetime | None = None


def base_reminder_id(reminder_id: str) -> str:
    """The planned id a snoozed copy (``<id>~<until>``) came from."""
    return reminder_id.split("~", 1)[0]


def load_delivered(meta: MetaStore) -> dict[str, dict[str, Any]]:
    raw = meta.get(DELIVERED_KEY) or {}
    if not isinstance(raw, Mapping):
        raise VaultError(f"{DELIVERED_KEY}: expected an object; the reminder log is damaged")
    return {str(k): dict(v) for k, v in raw.items() if isinstance(v, Mapping)}


def prune_delivered(delivered: Mapping[str, Mapping[str, Any]], now: datetime) -> dict[str, dict[str, Any]]:
    """Entries whose reminder can still be planned (expired less than FORGET_AFTER ago, or unreadable)."""
    keep: dict[str, dict[str, Any]] = {}
    for rid, entry in delivered.items():
        try:
            expires = parse_datetime(entry.get("expires_at", ""), f"{DELIVERED_KEY}.{rid}.expires_at")
        except RecordError:  # keep what we cannot read: forgetting it could make a reminder fire twice
            keep[rid] = dict(entry)
            continue
        if expires > now - FORGET_AFTER:
            keep[rid] = dict(entry)
    return keep


def _plan(vault: Vault, now: datetime, profile: ClinicProfile, tz: tzinfo) -> tuple[
    ReminderSettings, dict[str, dict[str, Any]], list[Reminder]
]:
    settings = load_settings(vault.meta, profile)
    delivered = load_delivered(vault.meta)
    plan = plan_reminders(RecordSet.from_vault(vault), settings, now, delivered, tz=tz, clinic=profile)
    return settings, delivered, plan


def due_notices(vault: Vault, now: datetime, profile: ClinicProfile, *, tz: tzinfo | None = None) -> list[Notice]:
    """Read-only: the notifications :func:`deliver_due` would show at ``now`` (nothing is recorded)."""
    _settings, _delivered, plan = _plan(vault, now, profile, tz or local_zone())
    show, _drop = triage(plan, now)
    return compose_notices(show, profile)


def _entry(outcome: str, now: datetime, reminder: Reminder) -> dict[str, Any]:
    return {"outcome": outcome, "at": iso(now), "expires_at": iso(reminder.expires_at)}


def _remaining_snoozes(snoozes: Mapping[str, Snooze], delivered_ids: Iterable[str], now: datetime) -> dict[str, Snooze]:
    used = {base_reminder_id(rid) for rid in delivered_ids}
    return {rid: s for rid, s in snoozes.items() if rid not in used and s.expires_at > now}


def deliver_due(
    vault: Vault,
    notifier: Notifier,
    now: datetime,
    profile: ClinicProfile,
    *,
    tz: tzinfo | None = None,
    fallback: Notifier | None = None,
) -> DeliveryReport:
    """Show the reminders due at ``now`` and record them, at most once each.

    Order and crash window: the delivery log is written (one atomic vault
    write, with the dropped ones and the pruning) *before* anything is shown.
    A crash between that write and the notification loses that notification;
    it never shows it twice. This is deliberate: at-most-once. A repeated
    notification is noise on a lock screen, and for a sexual-health clinic
    every extra appearance of the clinic on that screen is a discretion cost;
    the lost case is visible in the app (appointments, prep and messages are
    all on the home screen) and needs a crash within milliseconds.

    When ``notifier`` raises :class:`NotifyError` the notice goes to
    ``fallback`` (the in-app banners) and the log says ``in_app``; with no
    fallback it says ``failed``. Reminders missed while the app was closed
    come out of the planner due now if still useful; those past their use
    are logged ``dropped`` and never shown.
    """
    zone = tz or local_zone()
    with vault.batch():
        settings, delivered, plan = _plan(vault, now, profile, zone)
        show, drop = triage(plan, now)
        notices = compose_notices(show, profile)
        for reminder in show:
            delivered[reminder.id] = _entry("shown", now, reminder)
        for reminder in drop:
            delivered[reminder.id] = _entry("dropped", now, reminder)
        vault.meta.set(DELIVERED_KEY, prune_delivered(delivered, now))
        snoozes = _remaining_snoozes(settings.snoozes, [r.id for r in show + drop], now)
        if snoozes != dict(settings.snoozes):
            save_snoozes(vault.meta, profile, snoozes)

    fallback_used: list[Notice] = []
    failed: list[Notice] = []
    for notice in notices:
        try:
            _show(notifier, notice)
        except NotifyError:
            outcome = "failed"
            if fallback is not None:
                _show(fallback, notice)
                outcome = "in_app"
            (fallback_used if fallback is not None else failed).append(notice)
            _mark(vault, notice, outcome)
    pending = [r.fire_at for r in plan if r.fire_at > now and r.expires_at > now]
    return DeliveryReport(
        shown=notices,
        dropped=drop,
        fallback=fallback_used,
        failed=failed,
        next_fire_at=min(pending) if pending else None,
    )


def _show(notifier: Notifier, notice: Notice) -> None:
    """``notice`` through ``notifier``; an in-app banner also gets how to word it again (it stays on
    screen across a language switch; a system notification keeps the words it was shown with)."""
    if isinstance(notifier, InAppNotifier):
        notifier.notify(notice.title, notice.body, notice.kind, reword=notice.reword)
    else:
        notifier.notify(notice.title, notice.body, notice.kind)


def _mark(vault: Vault, notice: Notice, outcome: str) -> None:
    """Correct the log after a notifier failure (a second write, only on that path)."""
    with vault.batch():
        delivered = load_delivered(vault.meta)
        for rid in notice.reminder_ids:
            if rid in delivered:
                delivered[rid]["outcome"] = outcome
        vault.meta.set(DELIVERED_KEY, delivered)


def snooze(vault: Vault, profile: ClinicProfile, item: Notice | Reminder, until: datetime) -> None:
    """Show ``item`` again at ``until`` (a notification already shown, or one still pending).

    Stored in the reminder settings; a snooze past the reminder's use is kept
    but the reminder is then dropped, never shown late.
    """
    if until.tzinfo is None:
        raise ValueError("snooze time must be timezone-aware")
    ids = item.reminder_ids if isinstance(item, Notice) else (item.id,)
    with vault.batch():
        settings = load_settings(vault.meta, profile)
        snoozes = dict(settings.snoozes)
        for rid in ids:
            snoozes[base_reminder_id(rid)] = Snooze(until=until, expires_at=item.expires_at)
        save_snoozes(vault.meta, profile, snoozes)
