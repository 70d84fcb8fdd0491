"""Discreet on-device reminders: plan (pure), deliver (at most once), notify (plyer or in-app).

Never imports Flet. What the app uses::

    from companion.reminders import ReminderLoop, choose_notifier
    notifier = choose_notifier(profile)            # plyer where it really works, else in-app banners
    loop = ReminderLoop(vault, notifier, profile)  # loop.tick() / loop.run(stop_event)
    notifier.status()                              # backend, available, why — for the settings screen

The pieces: :func:`plan_reminders` (records + settings + now -> reminders),
:func:`deliver_due` (one delivery step against the vault), settings in the
vault meta key ``settings.reminders`` (:func:`load_settings`,
:func:`update_settings`, :func:`snooze`), the delivery log in
``reminders.delivered``, the :class:`Notifier` interface and its backends.
"""

from __future__ import annotations

from .delivery import (
    DELIVERED_KEY,
    DeliveryReport,
    deliver_due,
    due_notices,
    load_delivered,
    snooze,
)
from .local_time import QuietHours, local_zone, zone_name
from .loop import ReminderLoop
from .notifier import Banner, InAppNotifier, Notifier, NotifierStatus, RecordingNotifier
from .planner import Notice, RecordSet, Reminder, compose_notices, plan_reminders, triage
from .plyer_notifier import PlyerNotifier, choose_notifier, detect_plyer_backend
from .settings import SETTINGS_KEY, ReminderSettings, Snooze, load_settings, update_settings

__all__ = [
    "DELIVERED_KEY",
    "SETTINGS_KEY",
    "Banner",
    "DeliveryReport",
    "InAppNotifier",
    "Notice",
    "Notifier",
    "NotifierStatus",
    "PlyerNotifier",
    "QuietHours",
    "RecordSet",
    "RecordingNotifier",
    "Reminder",
    "ReminderLoop",
    "ReminderSettings",
    "Snooze",
    "choose_notifier",
    "compose_notices",
    "deliver_due",
    "detect_plyer_backend",
    "due_notices",
    "load_delivered",
    "load_settings",
    "local_zone",
    "plan_reminders",
    "snooze",
    "triage",
    "update_settings",
    "zone_name",
]
