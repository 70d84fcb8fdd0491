"""Settings intents: passcode, auto-lock, discreet mode, quiet hours, reminder leads, theme, sync, export, wipe.

Reminder settings go through :func:`companion.reminders.update_settings` (one
validated JSON object in the vault); the auto-lock time and the theme are the
app's own (``settings.privacy`` and ``settings.ui`` in vault meta).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.errors import ConfigError, RecordError, SyncError
from ..reminders import ReminderSettings, load_settings, update_settings
from .core import Route, intent
from .exporting import export_records
from .session import PRIVACY_KEY, SessionIntents, _Verifier
from .snapshot import empty_snapshot

__all__ = ["AUTO_LOCK_CHOICES", "SettingsIntents", "THEMES", "UI_KEY"]

UI_KEY = "settings.ui"
THEMES = ("system", "light", "dark")
AUTO_LOCK_CHOICES = (1, 2, 5, 10, 15, 30, 60)


class SettingsIntents(SessionIntents):
    """Intents of the Settings screen (see module docstring)."""

    def reminder_settings(self) -> ReminderSettings:
        if self.vault is None:
            return ReminderSettings.defaults(self.services.profile)
        try:
            return load_settings(self.vault.meta, self.services.profile)
        except ConfigError:
            return ReminderSettings.defaults(self.services.profile)

    def theme(self) -> str:
        if self.vault is None:
            return "system"
        stored: Any = self.vault.meta.get(UI_KEY, {}) or {}
        value = stored.get("theme") if isinstance(stored, dict) else None
        return value if value in THEMES else "system"

    @intent
    def change_passcode(self, old: str, new: str, confirm: str) -> None:
        if new != confirm:
            raise RecordError("new passcode", "the two new passcodes are not the same")
        self.busy = "Changing your passcode…"
        self.notify()
        try:
            self.require_vault().change_passcode(old, new)
        finally:
            self.busy = None
        self._verifier = _Verifier(new)  # the check for sensitive results follows the new passcode
        for key in ("passcode.old", "passcode.new", "passcode.confirm"):
            self.drafts.pop(key, None)
        self.toast = "Passcode changed."

    @intent
    def set_auto_lock(self, minutes: int) -> None:
        if not 0 <= minutes <= 240:
            raise RecordError("auto-lock", "choose between 0 (never) and 240 minutes")
        self.require_vault().meta.set(PRIVACY_KEY, {"auto_lock_minutes": int(minutes)})
        self.toast = "Auto-lock updated." if minutes else "Auto-lock is off."

    @intent
    def set_theme(self, theme: str) -> None:
        if theme not in THEMES:
            raise RecordError("theme", f"choose one of {', '.join(THEMES)}")
        self.require_vault().meta.set(UI_KEY, {"theme": theme})

    @intent
    def set_discreet(self, discreet: bool) -> None:
        update_settings(self.require_vault().meta, self.services.profile, {"discreet": bool(discreet)})
        self.toast = "Notifications are discreet." if discreet else "Notifications may name your visit type."

    @intent
    def set_quiet_hours(self, text: str) -> None:
        update_settings(self.require_vault().meta, self.services.profile, {"quiet_hours": text.strip() or "off"})
        self.toast = "Quiet hours saved."

    @intent
    def set_reminder_leads(self, text: str) -> None:
        """``"24h, 2h"`` -> appointment reminders 24 h and 2 h before."""
        leads = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
        update_settings(self.require_vault().meta, self.services.profile, {"leads": leads})
        self.toast = "Reminder times saved."

    @intent
    def sync_now(self) -> None:
        """Sync at once (also pushes what is queued); reports the outcome in one line."""
        vault = self.require_vault()
        if self.host.live:
            self.host.nudge()
            self.toast = "Syncing with your clinic…"
            return
        self.busy = "Syncing…"
        self.notify()
        try:
            self.services.link.sync_once(vault)
            self.toast = "Up to date."
        except SyncError as exc:
            self.error = str(exc)
        finally:
            self.busy = None
            self.refresh()

    @intent
    def export(self, fmt: str) -> None:
        """Write a calendar (.ics) or FHIR (.json) file of the patient's records and say where."""
        vault = self.require_vault()
        folder = self.services.export_dir or Path(vault.folder).parent / "exports"
        path = export_records(vault, fmt, folder, self.services.profile, now=self.now())
        self.toast = f"Saved to {path}"

    @intent
    def export_appointment(self, appointment_id: str) -> None:
        """"Add to calendar": one appointment as an .ics file the patient opens with their calendar."""
        vault = self.require_vault()
        folder = self.services.export_dir or Path(vault.folder).parent / "exports"
        path = export_records(vault, "ics", folder, self.services.profile, now=self.now(),
                              appointment_id=appointment_id)
        self.toast = f"Calendar file saved to {path}. Open it to add the visit to your calendar."

    @intent
    def start_pairing(self) -> None:
        """Connect again (after the clinic disconnected this device): back to the pairing step."""
        self.require_vault()
        self.phase = "onboarding"
        self.onboarding_step = "pair"

    @intent
    def unpair_and_wipe(self, confirm_text: str) -> None:
        """Remove every record and the passcode from this device (typed confirmation required)."""
        if confirm_text.strip().upper() != "WIPE":
            raise RecordError("confirmation", 'type WIPE to confirm')
        self.host.wipe(self)
        self.vault = None
        self.drafts.clear()
        self.revealed.clear()
        self.snapshot = empty_snapshot(self.now())
        self.phase = "onboarding"
        self.onboarding_step = "passcode"
        self.route = Route()
        self.toast = "This device no longer holds any of your records."
