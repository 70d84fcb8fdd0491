"""Settings: auto-lock, discreet mode, quiet hours, reminder leads, theme, language, and exports.

Reminder settings go through :func:`companion.reminders.update_settings` (one validated JSON
object in the vault); the auto-lock time and the theme are the app's own (``settings.privacy``
and ``settings.ui`` in vault meta). The auto-lock rule lives here once —
:func:`auto_lock_minutes` — and the session's idle clock reads it through
:meth:`Preferences.auto_lock_seconds`.

The language (``settings.ui`` ``language``) is the patient's choice once made; until then the
device's locale, else the clinic profile's ``[clinic] language`` (:func:`apply_language`, run at
start and at each unlock, makes it the app's active one). The vault is locked at start, so the
chosen code alone (``"es"``, not health information) is also kept in a plain ``language.txt``
next to the vault (written atomically, 0600): the lock screen reads it. The vault's copy stays
the source of truth; at each unlock the file is rewritten (or removed) when the two differ.

The Settings screen subscribes; a change of a setting notifies. The shell listens to
``prefs.appearance`` alone, which only a theme or language change notifies.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import ClinicProfile
from ..core.errors import ConfigError, RecordError
from ..core.observable import Observable
from ..i18n import LANGUAGES, _, choose_language, language, set_language
from ..reminders import ReminderSettings, load_settings, update_settings
from ..vault import Vault
from ..vault.files import LANGUAGE, VaultFolder
from .exporting import export_file, export_records
from .notices import intent

if TYPE_CHECKING:
    from .context import IntentContext

__all__ = ["AUTO_LOCK_CHOICES", "PRIVACY_KEY", "Preferences", "THEMES", "UI_KEY", "apply_language", "auto_lock_minutes",
           "chosen_language", "remember_language", "remembered_language"]

PRIVACY_KEY = "settings.privacy"
UI_KEY = "settings.ui"
THEMES = ("system", "light", "dark")
AUTO_LOCK_CHOICES = (1, 2, 5, 10, 15, 30, 60)
MAX_AUTO_LOCK = 240


def auto_lock_minutes(vault: Vault | None, profile: ClinicProfile) -> int:
    """The patient's auto-lock setting (0 = never); the clinic profile's default until they chose one."""
    stored: Any = vault.meta.get(PRIVACY_KEY, {}) if vault is not None else {}
    value = stored.get("auto_lock_minutes") if isinstance(stored, dict) else None
    return value if isinstance(value, int) else profile.auto_lock_minutes


def _ui(vault: Vault | None) -> dict[str, Any]:
    stored: Any = vault.meta.get(UI_KEY, {}) if vault is not None else {}
    return dict(stored) if isinstance(stored, dict) else {}


def chosen_language(vault: Vault | None) -> str | None:
    """The language the patient picked in Settings, None until they did."""
    value = _ui(vault).get("language")
    return value if value in LANGUAGES else None


def remembered_language(folder: Path) -> str | None:
    """The code in the vault folder's ``language.txt``; None when missing, unreadable or not a language."""
    try:
        data = (folder / LANGUAGE).read_bytes()[:16]
    except OSError:
        return None
    code = data.decode("ascii", "replace").strip()
    return code if code in LANGUAGES else None


def remember_language(folder: Path, code: str | None) -> None:
    """Keep ``code`` in ``language.txt`` for the lock screen (atomic, 0600); None removes the file."""
    files = VaultFolder(folder)
    if not files.path.is_dir():
        return
    try:
        if code is None:
            if (files.path / LANGUAGE).exists():
                files.unlink(LANGUAGE)
        elif files.read(LANGUAGE) != code.encode("ascii"):
            files.write_small(LANGUAGE, code.encode("ascii"))
    except OSError:
        pass  # a convenience only: the vault's copy applies at unlock anyway


def apply_language(vault: Vault | None, profile: ClinicProfile, folder: Path | None = None) -> str:
    """Make the app speak the patient's language (see the module docstring); returns its code.

    Locked (``vault`` None): the choice kept in ``folder``'s ``language.txt``; unlocked: the
    vault's, and the file is brought in line with it."""
    if vault is None:
        chosen = remembered_language(folder) if folder is not None else None
    else:
        chosen = chosen_language(vault)
        if folder is not None:
            remember_language(folder, chosen)
    return set_language(choose_language(chosen, profile.language))


class Preferences(Observable):
    """The Settings screen's intents and what they read (see the module docstring)."""

    def __init__(self, ctx: IntentContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.appearance = Observable()  # the theme alone (the shell applies it to the page)

    def _vault(self) -> Vault | None:
        return self.ctx.records.vault

    def reminder_settings(self) -> ReminderSettings:
        profile = self.ctx.services.profile
        vault = self._vault()
        if vault is None:
            return ReminderSettings.defaults(profile)
        try:
            return load_settings(vault.meta, profile)
        except ConfigError:
            return ReminderSettings.defaults(profile)

    def theme(self) -> str:
        vault = self._vault()
        if vault is None:
            return "system"
        value = _ui(vault).get("theme")
        return value if value in THEMES else "system"

    def language(self) -> str:
        """The language the app speaks now (``"en"``, ``"es"``)."""
        return language()

    def auto_lock_minutes(self) -> int:
        return auto_lock_minutes(self._vault(), self.ctx.services.profile)

    def auto_lock_seconds(self) -> float:
        """Idle time before the app locks itself (0 = never); the services may override it (tests, demos)."""
        if self.ctx.services.auto_lock_seconds is not None:
            return self.ctx.services.auto_lock_seconds
        return float(self.auto_lock_minutes()) * 60.0

    def _changed(self, toast: str | None) -> None:
        if toast is not None:
            self.ctx.feedback.toast = toast
        self.notify()

    @intent
    def set_auto_lock(self, minutes: int) -> None:
        if not 0 <= minutes <= MAX_AUTO_LOCK:
            raise RecordError("auto-lock", _("choose between 0 (never) and %(n)s minutes") % {"n": MAX_AUTO_LOCK})
        self.ctx.records.require_vault().meta.set(PRIVACY_KEY, {"auto_lock_minutes": int(minutes)})
        self._changed(_("Auto-lock updated.") if minutes else _("Auto-lock is off."))

    @intent
    def set_theme(self, theme: str) -> None:
        if theme not in THEMES:
            raise RecordError("theme", _("choose one of %(choices)s") % {"choices": ", ".join(THEMES)})
        vault = self.ctx.records.require_vault()
        vault.meta.set(UI_KEY, {**_ui(vault), "theme": theme})
        self._changed(None)
        self.appearance.notify()

    @intent
    def set_language(self, code: str) -> None:
        """Speak ``code`` from now on (kept in the vault); every screen and reminder follows."""
        if code not in LANGUAGES:
            raise RecordError("language", _("choose one of %(choices)s") % {"choices": ", ".join(LANGUAGES)})
        vault = self.ctx.records.require_vault()
        vault.meta.set(UI_KEY, {**_ui(vault), "language": code})
        remember_language(self.ctx.services.vault_dir, code)
        set_language(code)
        self.ctx.records.refresh()  # what the snapshot words itself (thread titles) is read again in it
        self._changed(_("The app now speaks your language."))
        self.appearance.notify()

    def _update_reminders(self, change: dict[str, object]) -> None:
        update_settings(self.ctx.records.require_vault().meta, self.ctx.services.profile, change)

    @intent
    def set_discreet(self, discreet: bool) -> None:
        self._update_reminders({"discreet": bool(discreet)})
        self._changed(_("Notifications are discreet.") if discreet else _("Notifications may name your visit type."))

    @intent
    def set_quiet_hours(self, text: str) -> None:
        raw = text.strip()  # empty, "off" or the patient's own word for it ("no") turn quiet hours off
        off = not raw or raw.lower() in ("off", _("off").lower())
        self._update_reminders({"quiet_hours": "off" if off else raw})
        self._changed(_("Quiet hours saved."))

    @intent
    def set_reminder_leads(self, text: str) -> None:
        """``"24h, 2h"`` -> appointment reminders 24 h and 2 h before."""
        self._update_reminders({"leads": [part.strip() for part in text.replace(";", ",").split(",")
                                          if part.strip()]})
        self._changed(_("Reminder times saved."))

    def _export_folder(self, vault: Vault) -> Path:
        return self.ctx.services.export_dir or Path(vault.folder).parent / "exports"

    @intent
    def export(self, fmt: str) -> None:
        """Write a calendar (.ics) or FHIR (.json) file of the patient's records and say where."""
        vault = self.ctx.records.require_vault()
        path = export_records(vault, fmt, self._export_folder(vault), self.ctx.services.profile,
                              now=self.ctx.now())
        self.ctx.feedback.toast = _("Saved to %(path)s") % {"path": path}

    @intent
    def export_file(self, fmt: str, appointment_id: str | None = None) -> tuple[str, bytes]:
        """The export (``ics`` or ``fhir``; one appointment's .ics with ``appointment_id``) as a file
        name and bytes for a save dialog (:meth:`export_saved` then says where it went)."""
        return export_file(self.ctx.records.require_vault(), fmt, self.ctx.services.profile, now=self.ctx.now(),
                           appointment_id=appointment_id)

    def export_saved(self, name: str, where: str | None, *, browser: bool) -> None:
        """Say where the save dialog put an export: the path the patient chose, or the browser's downloads."""
        feedback = self.ctx.feedback
        calendar = name.endswith(".ics")
        then = " " + _("Open it to add the visit to your calendar.") if calendar else ""
        if browser:
            feedback.toast = _("%(name)s is in your browser's downloads.") % {"name": name} + then
        elif where:
            feedback.toast = _("Saved to %(path)s.") % {"path": where} + then
        else:
            feedback.toast = _("Not saved.")
        feedback.notify()

    @intent
    def export_appointment(self, appointment_id: str) -> None:
        """"Add to calendar": one appointment as an .ics file the patient opens with their calendar."""
        vault = self.ctx.records.require_vault()
        path = export_records(vault, "ics", self._export_folder(vault), self.ctx.services.profile,
                              now=self.ctx.now(), appointment_id=appointment_id)
        self.ctx.feedback.toast = _("Calendar file saved to %(path)s. Open it to add the visit to your calendar.") % {
            "path": path}
