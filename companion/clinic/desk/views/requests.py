"""An appointment request as the desk answers it: what the patient asked for, free times, Accept.

``RequestAnswer`` sits under the request's inbox row: the patient's note and wishes (days, times
of day), the clinic's free times that match them (from the schedule: no booking there, within
opening hours) as chips, and the desk's date and time pickers (:mod:`.pickers`) for any other
time. Accept books the chosen time in one step
(:meth:`~companion.clinic.desk.state.inbox.Inbox.accept_request`); the server closes the item and
the patient sees the booking at the next sync.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo
from typing import Any

import flet as ft

from ....core.requests import describe_preferences
from ..state import DeskState
from ..state.timefmt import when
from .common import BODY, button, handler, muted, narrow, tid
from .pickers import date_button, time_button

__all__ = ["RequestAnswer", "request_summary"]


def request_summary(detail: dict[str, Any], tz: tzinfo, now: datetime) -> str:
    """What the patient asked for, then when they can come, as the inbox row reads it:
    ``Wants: STI screening · prefers Mon, Wed · morning``, ``Wants: Counselling · any day, any time``,
    or with the times they named themselves (an older app, the CLI's ``--when``; Accept books the
    first when nothing else is picked) ``Wants: PrEP review · asked for Fri 4 Dec 15:00 (or 1 other
    time)``. When it was sent is the row's own (beside the kind)."""
    days, times = detail.get("days") or (), detail.get("times") or ()
    named = [t for t in detail.get("preferred") or [] if t]
    parts = [f"Wants: {detail.get('kind') or 'an appointment'}"]
    if days or times:
        parts.append(f"prefers {describe_preferences(days, times)}")
    elif not named:
        parts.append(describe_preferences((), ()))  # "any day, any time"
    if named:
        others = len(named) - 1
        parts.append(f"asked for {when(named[0], tz, now)}"
                     + (f" (or {others} other time{'s' if others > 1 else ''})" if others else ""))
    return " · ".join(parts)


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
        tid(f"chosen-{item_id}", ft.Text(
            (f"Book {chosen:%a %d %b at %H:%M}" + (", the time asked for" if chosen == inbox.named(item_id) else ""))
            if chosen else "No time chosen yet", size=BODY, weight=ft.FontWeight.W_600)),
        button(f"accept-{item_id}", "Accept and book", handler(inbox.accept_request, item_id),
               icon=ft.Icons.EVENT_AVAILABLE),
    ], wrap=True, spacing=8, run_spacing=8, vertical_alignment=ft.CrossAxisAlignment.CENTER))
    return tid(f"request-answer-{item_id}", ft.Container(
        ft.Column(parts, spacing=8), padding=ft.Padding.only(left=8 if narrow(desk) else 34,
                                                             right=8 if narrow(desk) else 12, bottom=10)))

