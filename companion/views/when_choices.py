"""A time asked as a person on a phone expects: quick choices ("Just now", "Earlier today",
"Yesterday", "Another day") that open Flet's own TimePicker (and DatePicker first for another
day) — never a time typed as text.

    when_row("doxy-sex", [Choice("log-sex", "Just now"), Choice("today", "Earlier today", days=0), ...],
             on_when=lambda text: act(state.prevention.log_doxy_sex, text),
             today=lambda: ..., at=lambda: ..., first=-13, last=0, help_text="When you had sex",
             heading=lambda what, day: f"{what}, {day:%a %d %b}")
    pick_time("prep-daily", time(9, 0), on_pick=lambda moment: ..., help_text="Daily reminder")

What a choice hands on is text in the grammar of :func:`companion.state.prevention.parse_when`
(``""`` for now, ``"2026-12-01 23:30"`` otherwise): the rules (not ahead, within 72 hours…) stay in
the state, in one place. Each dialog is made when its button is clicked: a dialog made during a
component's render never opens (it is the page's, not the component's).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import flet as ft

from .common import button

__all__ = ["Choice", "pick_date", "pick_time", "when_row"]


@dataclass(frozen=True, slots=True)
class Choice:
    """One quick choice: ``days`` from today (then a time), ``pick_day`` (a day, then a time), or
    neither: now."""

    key: str  # the button's id is ``{prefix}-{key}``
    label: str
    days: int | None = None
    pick_day: bool = False


def _show(picker: ft.DialogControl) -> None:
    ft.context.page.show_dialog(picker)


def pick_time(current: time, on_pick: Callable[[time], None], *, help_text: str | None = None) -> None:
    """Open a TimePicker (24-hour, as the app writes times) on ``current``; ``on_pick`` when one is taken."""

    def changed(e: Any) -> None:
        if isinstance(e.control.value, time):
            on_pick(e.control.value)

    _show(ft.TimePicker(value=current, on_change=changed, help_text=help_text,
                        hour_format=ft.TimePickerHourFormat.H24))


def pick_date(current: date, first: date, last: date, on_pick: Callable[[date], None], *,
              help_text: str | None = None) -> None:
    """Open a DatePicker from ``first`` to ``last`` on ``current``; ``on_pick`` when a day is taken."""

    def changed(e: Any) -> None:
        value = e.control.value
        day = value.date() if isinstance(value, datetime) else value
        if isinstance(day, date):
            on_pick(day)

    _show(ft.DatePicker(first_date=datetime.combine(first, time()), last_date=datetime.combine(last, time()),
                        value=datetime.combine(current, time()), current_date=datetime.combine(current, time()),
                        on_change=changed, help_text=help_text))


def when_row(prefix: str, choices: list[Choice], on_when: Callable[[str], None], *, today: Callable[[], date],
             at: Callable[[], time], first: int, last: int, help_text: str,
             heading: Callable[[str, date], str]) -> ft.Control:
    """The choices as a wrapping row of buttons, the first one tonal. ``today`` and ``at`` (the time a
    picker opens on) are read when a button is pressed; ``first``/``last``: the days another day may
    be, from today (``-13``, ``0``); ``heading(help_text, day)``: the time picker's heading, which
    names the day chosen (a dial alone does not say "yesterday")."""

    def at_time(day: date) -> None:
        pick_time(at(), lambda moment: on_when(f"{day.isoformat()} {moment:%H:%M}"),
                  help_text=heading(help_text, day))

    def chosen(choice: Choice) -> None:
        now_day = today()
        if choice.pick_day:
            start = now_day + timedelta(days=first)
            pick_date(now_day, start, now_day + timedelta(days=last), at_time, help_text=help_text)
        elif choice.days is not None:
            at_time(now_day + timedelta(days=choice.days))
        else:
            on_when("")

    buttons = [button(f"{prefix}-{c.key}", c.label, lambda *_e, c=c: chosen(c), kind="tonal" if i == 0 else "outlined",
                      icon=ft.Icons.CALENDAR_MONTH if c.pick_day else (ft.Icons.SCHEDULE if c.days is not None
                                                                         else ft.Icons.CHECK))
               for i, c in enumerate(choices)]
    return ft.Row(buttons, wrap=True, spacing=8, run_spacing=8)
