"""Prevention: PrEP reminders (daily or 2-1-1, pause, supply, the clinic's test date) and the private
doxy-PEP log. Every word comes from :mod:`companion.state.prevention_words` (its constants are
translated here, ``_(w.TITLE)``); every entry stays on the device (:mod:`companion.state.prevention`).
Every time is picked, never typed: quick choices that open Flet's TimePicker/DatePicker
(:mod:`.when_choices`). The screen redraws as the minute turns (``state.prevention.tick``), so its
countdowns and "Today" labels follow the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

import flet as ft

from ..i18n import _
from ..state import AppState, Route
from ..state import prevention_words as w
from ..state.formatting import local_time
from ..state.prevention import PreventionView
from ..ui import kit
from ..ui.kit import act, handler, memo, use_observable
from .common import button, card, field, header, muted, screen, shown_text, tid
from .when_choices import Choice, pick_time, when_row

__all__ = ["PreventionScreen"]


@ft.component
def CardNote(state: AppState, section: str) -> ft.Control:
    """What an intent of this card said, inside the card beside its buttons (instead of the strip
    at the top, scrolled out of sight on a phone when the doxy-PEP log says no). One slot, always
    there (see :func:`companion.ui.kit.feedback`); renders for the feedback alone."""
    use_observable(state.feedback)
    if not state.prevention.note_in(section):
        return ft.Column([])
    return kit.feedback(state.feedback, text_size=14, dismiss=_("Dismiss"))[0]


@ft.component
def TopNote(state: AppState) -> ft.Control:
    """The screen's feedback strip, for what no card shows (a sync started from the chip…)."""
    use_observable(state.feedback)
    if any(state.prevention.note_in(section) for section in ("prep", "doxy")):
        return ft.Column([])
    return kit.feedback(state.feedback, dismiss=_("Dismiss"))[0]


_card_note = memo(CardNote)
_top_note = memo(TopNote)


def _section_title(text: str) -> ft.Control:
    return ft.Text(text, size=17, weight=ft.FontWeight.W_600)


def _entry_row(identifier: str, text: str, on_remove: Callable[..., Any]) -> ft.Control:
    return tid(identifier, ft.Row([ft.Text(text, size=14, expand=True),
                                   ft.TextButton(_(w.REMOVE), on_click=on_remove)]))


def _mode_chips(state: AppState, mode: str, dose_time: time) -> ft.Control:
    def choose(key: str) -> None:
        if key == "daily":  # a daily schedule needs its time: the one saved (09:00 at first)
            act(state.prevention.set_daily, f"{dose_time:%H:%M}")
        else:
            act(state.prevention.turn_off if key == "off" else state.prevention.set_event_based)

    chips = [tid(f"prep-mode-{key}", ft.Chip(label=ft.Text(_(label)), selected=key == mode,
                                             on_select=lambda _e, k=key: choose(k)))
             for key, label in w.MODE_LABELS.items()]
    return ft.Row(chips, wrap=True, spacing=6, run_spacing=6)


def _pause_button(state: AppState, paused: bool) -> ft.Control:
    """Pause or resume, beside the button that sets the schedule (not below the supply count)."""
    return button("prep-resume" if paused else "prep-pause", _(w.RESUME) if paused else _(w.PAUSE),
                  handler(state.prevention.resume if paused else state.prevention.pause), kind="outlined")


def _daily(state: AppState, view: PreventionView) -> list[ft.Control]:
    prep = view.plan.prep
    tz = state.services.tz
    now = state.now()
    today_at = datetime.combine(now.astimezone(tz).date(), prep.dose_time, tzinfo=tz)
    quiet = state.prefs.reminder_settings().quiet(tz)
    quiet_end = quiet.end_of_quiet(today_at) if quiet is not None else today_at
    rows: list[ft.Control] = [
        tid("prep-daily-status", muted(w.daily_status(prep.dose_time, prep.paused, quiet_end != today_at,
                                                      local_time(quiet_end, tz)), 14)),
        ft.Row([button("prep-daily-time", _(w.DAILY_TIME), lambda: pick_time(
                    prep.dose_time, lambda at: act(state.prevention.set_daily, f"{at:%H:%M}"),
                    help_text=_(w.DAILY_PICK_HELP)), kind="tonal", icon=ft.Icons.SCHEDULE),
                _pause_button(state, prep.paused)],
               wrap=True, spacing=8, run_spacing=8),
    ]
    if view.runs_out is not None:
        rows.append(tid("prep-supply", muted(w.supply_line(view.runs_out, now.astimezone(tz).date()), 14)))
    return rows + _supply_fields(state)


def _supply_fields(state: AppState) -> list[ft.Control]:
    return [field(state, "prevention.pills", _(w.SUPPLY_LABEL), keyboard=ft.KeyboardType.NUMBER),
            ft.Row([button("prep-save-supply", _(w.SAVE_SUPPLY),
                           lambda: act(state.prevention.record_supply, shown_text(state, "prevention.pills")),
                           kind="outlined")])]


def _event(state: AppState, view: PreventionView) -> list[ft.Control]:
    tz, now = state.services.tz, state.now()
    days = {"tonight": 0, "tomorrow": 1}
    plan_it = when_row("prep-event", [Choice(k, _(label), days=days.get(k), pick_day=k == "day")
                                      for k, label in w.EVENT_CHOICES.items()],
                       lambda text: act(state.prevention.plan_event, text), today=lambda: _today(state),
                       at=lambda: time(21, 0), first=0, last=30, help_text=_(w.EVENT_PICK_HELP),
                       heading=w.picking_on)
    rows: list[ft.Control] = [muted(_(w.EVENT_NOTE), 13), muted(_(w.EVENT_LABEL), 14), plan_it,
                              ft.Row([_pause_button(state, view.plan.prep.paused)])]
    if not view.upcoming_doses:
        rows.append(muted(_(w.NO_EVENTS), 14))
    for i, dose in enumerate(view.upcoming_doses[:8]):
        rows.append(tid(f"prep-dose-{i}", ft.Row([ft.Icon(ft.Icons.SCHEDULE, size=18),
                                                  ft.Text(w.dose_line(dose.at, dose.pills, tz, now), size=14)])))
    for event in sorted(view.plan.prep.events, key=lambda e: e.sex_at, reverse=True)[:5]:
        if event.sex_at > now:
            rows.append(_entry_row(f"prep-event-{event.id}", w.planned_entry(event.sex_at, tz, now),
                                   handler(state.prevention.remove_event, event.id)))
    rows.append(muted(_(w.EVENT_SUPPLY_NOTE), 13))
    if view.event_supply is not None:
        rows.append(tid("prep-supply", muted(w.event_supply_line(view.event_supply), 14)))
    return rows + _supply_fields(state)


def _prep(state: AppState, view: PreventionView) -> ft.Control:
    prep = view.plan.prep
    rows: list[ft.Control] = [_section_title(_(w.PREP_TITLE)), _mode_chips(state, prep.mode, prep.dose_time)]
    if prep.mode == "daily":
        rows += _daily(state, view)
    elif prep.mode == "event":
        rows += _event(state, view)
    rows.append(_card_note(state, "prep"))
    today = state.now().astimezone(state.services.tz).date()
    check_up = w.check_up_line(view.test_due, today) if view.test_due else _(w.CHECK_UP_NONE)
    rows.append(tid("prep-check-up", muted(check_up, 14)))
    rows.append(ft.Row([button("prep-missed-dose", _(w.MISSED_DOSE),
                               lambda: state.nav.go("article", "prep-missed-dose"), kind="text",
                               icon="MENU_BOOK_OUTLINED"),
                        button("prep-ask-visit", _(w.ASK_VISIT), lambda: state.nav.go("request"), kind="text",
                               icon="EVENT_OUTLINED")], wrap=True, spacing=4, run_spacing=4))
    return card(rows, identifier="prep-reminders")


def _today(state: AppState) -> date:
    return state.now().astimezone(state.services.tz).date()


def _past_row(state: AppState, prefix: str, choices: list[Choice], intent: Callable[[str], None],
              help_text: str) -> ft.Control:
    """Doxy-PEP's "when": just now, or a time (today, yesterday, another day of the last two weeks)
    that the picker opens on now's time."""
    return when_row(prefix, choices, lambda text: act(intent, text), today=lambda: _today(state),
                    at=lambda: state.now().astimezone(state.services.tz).time().replace(second=0, microsecond=0),
                    first=-13, last=0, help_text=help_text, heading=w.picking_on)


def _doxy(state: AppState, view: PreventionView) -> ft.Control:
    tz, now = state.services.tz, state.now()
    doxy = view.plan.doxy
    rows: list[ft.Control] = [_section_title(_(w.DOXY_TITLE)), muted(_(w.DOXY_RULE), 14)]
    for event in view.open_events:
        rows.append(tid(f"doxy-open-{event.id}", ft.Text(w.open_event_line(event.sex_at, tz, now), size=14,
                                                         weight=ft.FontWeight.W_500)))
    if len(view.open_events) > 1:  # the earliest deadline is the one to keep
        rows.append(tid("doxy-one-dose", ft.Text(w.one_dose_covers(min(e.sex_at for e in view.open_events), tz, now),
                                                 size=14, weight=ft.FontWeight.W_600)))
    past = [Choice("today", _(w.EARLIER_TODAY), days=0), Choice("yesterday", _(w.YESTERDAY), days=-1)]
    rows += [muted(_(w.SEX_LABEL), 14),
             _past_row(state, "doxy-sex", [Choice("log", _(w.JUST_NOW)), *past,
                                           Choice("day", _(w.ANOTHER_DAY), pick_day=True)],
                       state.prevention.log_doxy_sex, _(w.SEX_PICK_HELP)),
             muted(_(w.DOSE_LABEL), 14),
             _past_row(state, "doxy-dose", [Choice("log", _(w.JUST_NOW)), *past], state.prevention.log_doxy_dose,
                       _(w.DOSE_PICK_HELP)),
             _card_note(state, "doxy")]
    entries = sorted([(e.sex_at, e.id, w.sex_entry(e.sex_at, tz, now)) for e in doxy.events]
                     + [(d.taken_at, d.id, w.dose_entry(d.taken_at, tz, now)) for d in doxy.doses], reverse=True)
    if not entries:
        rows.append(muted(_(w.NO_DOXY), 14))
    for _at, entry_id, text in entries[:10]:
        rows.append(_entry_row(f"doxy-entry-{entry_id}", text, handler(state.prevention.remove_doxy_entry, entry_id)))
    today = now.astimezone(tz).date()
    if view.doxy_check_up is not None:
        testing = w.doxy_check_up_line(view.doxy_check_up, today)
    elif doxy.doses and view.test_due is not None and view.test_due >= today:
        testing = w.doxy_clinic_date_line(view.test_due)
    else:
        testing = _(w.DOXY_TESTING)
    rows.append(tid("doxy-check-up", muted(testing, 14)))
    rows.append(ft.Row([button("doxy-about", _(w.ABOUT_DOXY), lambda: state.nav.go("article", "doxy-pep"), kind="text",
                               icon="MENU_BOOK_OUTLINED"),
                        button("doxy-ask-visit", _(w.ASK_VISIT), lambda: state.nav.go("request"), kind="text",
                               icon="EVENT_OUTLINED")], wrap=True, spacing=4, run_spacing=4))
    return card(rows, identifier="doxy-log")


@ft.component
def PreventionScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    """Renders for the patient's entries (``state.prevention``) and the clinic's test date (the records)."""
    use_observable(state.prevention)
    use_observable(state.records)
    view = state.prevention.view()
    items: list[ft.Control] = [header(state, _(w.TITLE)), _top_note(state), muted(_(w.INTRO), 14)]
    if view.damaged:
        items.append(card([ft.Text(view.damaged)], identifier="prevention-damaged", tone="warn"))
    items += [_prep(state, view), _doxy(state, view)]
    return screen(state, items)
