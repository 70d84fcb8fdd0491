"""The desk's date and time pickers: Flet's own DatePicker and TimePicker behind a button, one way.

Every screen that asks for a day or a clock time (a request's Accept, the patient page's booking
and Move, Today's "Pick a date") uses these two, so a date is never typed as ``YYYY-MM-DD``::

    date_button("book-date", "Date…", current, on_pick=lambda day: ..., first=today)
    time_button("book-time", "Time…", current, on_pick=lambda moment: ...)

The dialog is made when the button is clicked: a dialog made during a component's render never
opened (it is the page's, not the component's).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import flet as ft

from .common import button

__all__ = ["date_button", "pick_date", "pick_time", "time_button"]


def _show(picker: ft.DialogControl) -> None:
    ft.context.page.show_dialog(picker)


def _day_of(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def pick_date(current: date, on_pick: Callable[[date], None], *, first: date | None = None,
              last: date | None = None) -> None:
    """Open a DatePicker on ``current``; ``on_pick(day)`` when the PSR takes one."""
    first = first or current - timedelta(days=365)
    last = last or max(current, first) + timedelta(days=365)

    def changed(e: Any) -> None:
        day = _day_of(e.control.value)
        if day is not None:
            on_pick(day)

    _show(ft.DatePicker(first_date=datetime.combine(first, time()), last_date=datetime.combine(last, time()),
                        value=datetime.combine(current, time()), on_change=changed))


def pick_time(current: time, on_pick: Callable[[time], None]) -> None:
    """Open a TimePicker on ``current``; ``on_pick(moment)`` when the PSR takes one."""

    def changed(e: Any) -> None:
        if isinstance(e.control.value, time):
            on_pick(e.control.value)

    _show(ft.TimePicker(value=current, on_change=changed))


def date_button(identifier: str, label: str, current: date, on_pick: Callable[[date], None], *,
                first: date | None = None, last: date | None = None, kind: str = "outlined") -> ft.Control:
    return button(identifier, label, lambda *_e: pick_date(current, on_pick, first=first, last=last), kind=kind,
                  icon=ft.Icons.CALENDAR_MONTH)


def time_button(identifier: str, label: str, current: time, on_pick: Callable[[time], None], *,
                kind: str = "outlined") -> ft.Control:
    return button(identifier, label, lambda *_e: pick_time(current, on_pick), kind=kind, icon=ft.Icons.SCHEDULE)
