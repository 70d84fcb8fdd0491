"""Settings: passcode, auto-lock, discreet mode, quiet hours, reminder lead times, notification status,
theme, sync now, device info, export (ics, FHIR), unpair and wipe."""

from __future__ import annotations

import flet as ft

from ..i18n import LANGUAGES, N_, _
from ..state import AppState, Route, format_duration, format_quiet_hours
from ..state.formatting import ago, clinic_name, notifications_text
from ..state.notices import sentence
from ..state.preferences import AUTO_LOCK_CHOICES, THEMES
from ..ui.kit import act, handler, memo, use_observable
from .common import button, card, feedback, field, header, muted, save_export, screen, shown_text, tid

__all__ = ["SettingsScreen"]

THEME_LABELS = {"system": N_("System"), "light": N_("Light"), "dark": N_("Dark")}


def _section(title: str, identifier: str, rows: list[ft.Control]) -> ft.Control:
    return card([ft.Text(title, size=17, weight=ft.FontWeight.W_600), *rows], identifier=identifier)


def _security(state: AppState) -> ft.Control:
    current = state.prefs.auto_lock_minutes()

    def change() -> None:  # the texts on screen at the click (see shown_text)
        act(state.session.change_passcode, *(shown_text(state, k) for k in ("passcode.old", "passcode.new",
                                                                            "passcode.confirm")))

    chips = [tid(f"autolock-{m}", ft.Chip(label=ft.Text(_("Never") if m == 0 else _("%(n)s min") % {"n": m}),
                                          selected=m == current,
                                          on_select=lambda _e, m=m: act(state.prefs.set_auto_lock, m)))
             for m in (*AUTO_LOCK_CHOICES, 0)]
    return _section(_("Passcode and locking"), "settings-security", [
        field(state, "passcode.old", _("Current passcode"), password=True),
        field(state, "passcode.new", _("New passcode"), password=True),
        field(state, "passcode.confirm", _("New passcode again"), password=True),
        button("change-passcode", _("Change passcode"), change, kind="tonal"),
        muted(_("Lock automatically after"), 13),
        ft.Row(chips, wrap=True, spacing=6, run_spacing=6),
        button("settings-lock", _("Lock now"), handler(state.session.lock), kind="outlined", icon="LOCK_OUTLINE"),
    ])


def _reminders(state: AppState) -> ft.Control:
    rs = state.prefs.reminder_settings()
    status = state.services.notifier.status()
    return _section(_("Reminders"), "settings-reminders", [
        # A short label and the rule below it: a switch's label does not wrap (it ran off a phone's edge).
        tid("discreet", ft.Switch(value=rs.discreet, label=_("Discreet notifications"),
                                  on_change=lambda e: act(state.prefs.set_discreet, bool(e.control.value)))),
        muted(_("Discreet notifications never name a test or a visit type."), 13),
        field(state, "quiet", _("Quiet hours (e.g. 22:00-07:00, or off)"),
              default=format_quiet_hours(rs.quiet_hours) if rs.quiet_hours else _("off")),
        button("save-quiet", _("Save quiet hours"),
               lambda: act(state.prefs.set_quiet_hours, shown_text(state, "quiet")), kind="text"),
        field(state, "leads", _("Remind me before visits (e.g. 24h, 2h)"),
              default=", ".join(format_duration(m) for m in rs.leads_minutes)),
        button("save-leads", _("Save reminder times"),
               lambda: act(state.prefs.set_reminder_leads, shown_text(state, "leads")), kind="text"),
        tid("notifier-status", ft.Row([
            ft.Icon(ft.Icons.NOTIFICATIONS_ACTIVE_OUTLINED if status.available
                    else ft.Icons.NOTIFICATIONS_OFF_OUTLINED),
            ft.Text(notifications_text(status.available, status.backend), size=13, expand=True)])),
    ])


def _appearance(state: AppState) -> ft.Control:
    current = state.prefs.theme()
    chips = [tid(f"theme-{t}", ft.Chip(label=ft.Text(_(THEME_LABELS[t])), selected=t == current,
                                       on_select=lambda _e, t=t: act(state.prefs.set_theme, t))) for t in THEMES]
    spoken = state.prefs.language()
    # each language in its own name, so a patient finds theirs whatever the app speaks now
    languages = [tid(f"language-{code}", ft.Chip(label=ft.Text(name), selected=code == spoken,
                                                 on_select=lambda _e, c=code: act(state.prefs.set_language, c)))
                 for code, name in LANGUAGES.items()]
    return _section(_("Language and appearance"), "settings-appearance", [
        muted(_("Language"), 13), ft.Row(languages, wrap=True, spacing=6),
        muted(_("Theme"), 13), ft.Row(chips, wrap=True, spacing=6)])


@ft.component
def DeviceSection(state: AppState) -> ft.Control:
    """Sync and this device: its own component, as it follows the sync status (the screen does not)."""
    use_observable(state.sync)
    use_observable(state.prefs.appearance)  # the language
    st = state.sync.status
    rows: list[ft.Control] = [
        muted(_("Clinic: %(clinic)s") % {"clinic": clinic_name(state.services.profile.name, st.clinic_name)}, 13),
        muted((_("This device: %(device)s, connected to the clinic") if st.paired
               else _("This device: %(device)s, not connected to the clinic")) % {"device": state.services.device_name},
              13),
        muted(_("Last synced: %(ago)s · waiting to send: %(n)s") % {"ago": ago(st.last_sync, state.now()),
                                                                    "n": st.pending}, 13),
    ]
    if st.last_error:
        rows.append(muted(_("Last problem: %(problem)s") % {"problem": sentence(st.last_error)}, 13))
    if st.paired:
        rows.append(button("sync-now", _("Sync now"), handler(state.sync.sync_now), kind="tonal", icon="SYNC"))
    else:
        rows.append(button("connect-again", _("Connect to the clinic"), handler(state.session.start_pairing),
                           kind="tonal", icon="LINK"))
    rows.append(muted(_("Exports are plain files outside the app's protection: keep them somewhere private."), 13))
    rows.append(ft.Row([button("export-ics", _("Export calendar (.ics)"), save_export(state, "ics"), kind="outlined"),
                        button("export-fhir", _("Export records (FHIR)"), save_export(state, "fhir"), kind="outlined")],
                       wrap=True, spacing=8, run_spacing=8))
    return _section(_("Sync and this device"), "settings-device", rows)


def _wipe(state: AppState) -> ft.Control:
    return card([ft.Text(_("Unpair and wipe"), size=17, weight=ft.FontWeight.W_600),
                 muted(_("Removes every record and your passcode from this device. Messages not yet sent are lost. "
                         "Type WIPE to confirm.")),
                 field(state, "wipe", _("Type WIPE"), identifier="wipe-confirm"),
                 button("wipe", _("Unpair and wipe this device"),
                        lambda: act(state.session.unpair_and_wipe, shown_text(state, "wipe")), kind="outlined",
                        icon="DELETE_FOREVER")], identifier="settings-wipe", tone="warn")


_device_section = memo(DeviceSection)


@ft.component
def SettingsScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    """Renders when a setting changes (or the passcode did: its fields empty themselves)."""
    use_observable(state.prefs)
    use_observable(state.session)
    return screen(state, [header(state, _("Settings")), *feedback(state), _security(state), _reminders(state),
                          _appearance(state), _device_section(state), _wipe(state)])
