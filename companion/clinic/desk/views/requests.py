"""An appointment request as the desk answers it: what the patient asked for, free times, Accept.

``RequestAnswer`` sits under the request's inbox row: the patient's note and wishes (days, times
of day), the clinic's free times that match them (from the schedule: no booking there, within
opening hours) as chips, and the desk's date and time pickers (:mod:`.pickers`) for any other
time. Accept books the chosen time in one step
(:meth:`~companion.clinic.desk.state.inbox.Inbox.accept_request`); the server closes the item and
the patient sees the booking at the next sync.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import flet as ft

from ....core.requests import describe_preferences
from ..state import DeskState
from .common import BODY, button, handler, muted, narrow, tid
from .pickers import date_button, time_button

__all__ = ["RequestAnswer", "request_summary"]


def request_summary(detail: dict[str, Any]) -> str:
    """``Wants: STI screening · Mon, Wed · Morning``."""
    return (f"Wants: {detail.get('kind') or 'an appointment'} · "
            f"{describe_preferences(detail.get('days') or (), detail.get('times') or ())}")


@ft.component
def RequestAnswer(desk: DeskState, item: dict[str, Any]) -> ft.Control:
    inbox, tz = desk.inbox, desk.clock.tz
    item_id = item["id"]
    chosen = inbox.picked(item_id)
    note = (item["detail"].get("note") or "").strip()
    parts: list[ft.Control] = []
    if note:
        parts.append(tid(f"request-note-{item_id}", ft.Text(f"Note from the patient: {note}", size=BODY,
                                                            selectable=True)))
    slots = inbox.proposals(item_id)
    chips = [tid(f"slot-{item_id}-{i}", ft.Chip(
        label=ft.Text(f"{s.astimezone(tz):%a %d %b %H:%M}"), selected=chosen == s,
        on_select=lambda _e, s=s: inbox.pick_time(item_id, s))) for i, s in enumerate(slots)]
    parts.append(muted("Free times that match:" if chips else "No free time matches these wishes in the next "
                       "three weeks: pick a date and a time.", 14))
    if chips:
        parts.append(ft.Row(chips, wrap=True, spacing=8, run_spacing=8))
    today = desk.clock.today()
    parts.append(ft.Row([
        date_button(f"pick-date-{item_id}", "Other date…", chosen.date() if chosen else today,
                    lambda day: inbox.pick_date(item_id, day), first=today, last=today + timedelta(days=365)),
        time_button(f"pick-time-{item_id}", "Time…", chosen.time() if chosen else time(9, 0),
                    lambda moment: inbox.pick_clock(item_id, moment)),
        tid(f"chosen-{item_id}", ft.Text(f"Book {chosen:%a %d %b at %H:%M}" if chosen else "No time chosen yet",
                                         size=BODY, weight=ft.FontWeight.W_600)),
        button(f"accept-{item_id}", "Accept and book", handler(inbox.accept_request, item_id),
               icon=ft.Icons.EVENT_AVAILABLE),
    ], wrap=True, spacing=8, run_spacing=8, vertical_alignment=ft.CrossAxisAlignment.CENTER))
    return tid(f"request-answer-{item_id}", ft.Container(
        ft.Column(parts, spacing=8), padding=ft.Padding.only(left=8 if narrow(desk) else 34,
                                                             right=8 if narrow(desk) else 12, bottom=10)))

