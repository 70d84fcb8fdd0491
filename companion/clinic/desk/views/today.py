"""The Today screen: the day's appointments by local time with a clear check-in state, patients who
checked in from their phones, the requests waiting and unread messages.

It subscribes to today's schedule and to the inbox (what waits comes from there).
"""

from __future__ import annotations

from typing import Any

import flet as ft

from ....ui.kit import use_observable
from ..state import DeskState
from ..state.timefmt import clock
from .common import (
    APPOINTMENT_STATUS,
    BODY,
    FeedbackStrip,
    button,
    handler,
    muted,
    pill,
    screen,
    section,
    tid,
    title_row,
)
from .inbox import inbox_row

__all__ = ["TodayScreen"]


def _appointment_row(desk: DeskState, a: dict[str, Any]) -> ft.Control:
    tz = desk.clock.tz
    label, tone = APPOINTMENT_STATUS.get(a["status"], (a["status"], "plain"))
    name = desk.today.names.get(a["patient_id"], a.get("patient_name", ""))
    row = ft.Container(ft.Row([
        ft.Text(clock(a["start"], tz), size=22, weight=ft.FontWeight.W_700, width=80),
        ft.Column([ft.Text(name, size=18, weight=ft.FontWeight.W_600),
                   muted(f"{a['kind']} · {a['minutes']} min" + (f" · {a['provider']}" if a.get("provider")
                                                                      else ""), 15)],
                  spacing=2, expand=True),
        pill(label + (f" {clock(a['checked_in_at'], tz)}" if a.get("checked_in_at") else ""), tone),
    ], vertical_alignment=ft.CrossAxisAlignment.CENTER), padding=ft.Padding.symmetric(horizontal=12, vertical=10),
        border_radius=10, on_click=handler(desk.patient.open, a["patient_id"]), ink=True)
    return tid(f"today-{a['id']}", row)


@ft.component
def TodayScreen(desk: DeskState) -> ft.Control:
    today, inbox = desk.today, desk.inbox
    use_observable(today)
    use_observable(inbox)
    now_local = desk.clock.now().astimezone(desk.clock.tz)
    items: list[ft.Control] = [
        title_row(desk.clock, f"Today, {now_local:%A} {now_local.day} {now_local:%B}",
                  button("refresh-today", "Refresh", handler(today.refresh), kind="outlined", icon=ft.Icons.REFRESH)),
        FeedbackStrip(desk.feedback)]
    checked = today.remote_checkins()
    if checked:
        items.append(section(f"Checked in from their phone ({len(checked)})",
                             [_appointment_row(desk, a) for a in checked], identifier="remote-checkins", tone="info"))
    if desk.session.can("inbox"):
        waiting = inbox.waiting_requests()
        items.append(section(f"Requests waiting ({len(waiting)})",
                             [inbox_row(desk, i) for i in waiting[:8]] or [muted("Nothing waiting.", BODY)],
                             identifier="requests-waiting", tone="warn" if waiting else None))
    unread = inbox.unread_messages()
    if unread:
        items.append(section(f"Unread messages ({len(unread)})", [inbox_row(desk, i) for i in unread[:5]],
                             identifier="unread-messages", tone="info"))
    visible = [a for a in today.appointments if a["status"] != "cancelled"]
    seen = sum(1 for a in visible if a["status"] in ("checked_in", "completed"))
    items.append(section(f"Appointments ({len(visible)}, {seen} arrived)",
                         [_appointment_row(desk, a) for a in today.appointments]
                         or [muted("No appointments today.", BODY)], identifier="today-list"))
    return screen(items)
