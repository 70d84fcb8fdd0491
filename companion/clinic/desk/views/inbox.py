"""The inbox screen: everything patients sent, newest first, unread in bold with a dot, filterable by kind.

An appointment request is accepted in one click. :func:`inbox_row` is also what Today shows for
the requests waiting and the unread messages. The screen subscribes to the inbox only: each poll
that brings something new redraws this list (and the rail's badge), nothing else.
"""

from __future__ import annotations

from typing import Any

import flet as ft

from ....ui.kit import use_observable
from ..state import INBOX_KINDS, DeskState
from ..state.timefmt import when
from .common import BODY, FeedbackStrip, button, handler, muted, pill, screen, tid, title_row

__all__ = ["InboxScreen", "inbox_row"]


def _item_title(desk: DeskState, item: dict[str, Any]) -> str:
    d = item["detail"]
    kind = item["kind"]
    if kind == "message.send":
        return str(d.get("body", ""))
    if kind == "appointment.request":
        wished = (d.get("preferred") or [None])[0]
        return f"Wants: {d.get('kind', 'an appointment')}" + (f", {when(wished, desk.clock.tz, desk.clock.now())}"
                                                             if wished else "")
    if kind == "appointment.cancel":
        return "Cancelled an appointment" + (f": {d['reason']}" if d.get("reason") else "")
    if kind == "bill.plan_request":
        return f"Asks to pay in {d.get('installments', '?')} instalments" + (f": {d['note']}" if d.get("note") else "")
    if kind == "checkin.submit":
        return "Checked in from the app"
    return str(kind)


def inbox_row(desk: DeskState, item: dict[str, Any]) -> ft.Control:
    inbox = desk.inbox
    unread = item["unread"]
    name = inbox.names.get(item["patient_id"], "Patient")
    weight = ft.FontWeight.W_700 if unread else ft.FontWeight.W_400
    dot = ft.Container(width=10, height=10, border_radius=5, bgcolor=ft.Colors.BLUE_700 if unread else None)
    actions: list[ft.Control] = []
    if item["kind"] == "appointment.request" and not item["handled"]:
        actions.append(button(f"accept-{item['id']}", "Accept", handler(inbox.accept_request, item["id"]),
                              icon=ft.Icons.EVENT_AVAILABLE))
    if not item["handled"]:
        actions.append(button(f"done-{item['id']}", "Done", handler(inbox.mark_handled, item["id"]), kind="outlined"))
    else:
        actions.append(pill("Done", "ok"))
    body = ft.Container(ft.Row([
        dot,
        ft.Column([ft.Row([ft.Text(name, size=17, weight=ft.FontWeight.W_700), pill(INBOX_KINDS.get(item["kind"],
                                                                                                     item["kind"])),
                           muted(when(item["created_at"], desk.clock.tz, desk.clock.now()), 14)],
                          spacing=10, wrap=True),
                   ft.Text(_item_title(desk, item), size=BODY, weight=weight, max_lines=2,
                           overflow=ft.TextOverflow.ELLIPSIS)], spacing=4, expand=True),
        *actions], vertical_alignment=ft.CrossAxisAlignment.CENTER, spacing=12),
        padding=ft.Padding.symmetric(horizontal=12, vertical=10), border_radius=10,
        bgcolor=ft.Colors.BLUE_50 if unread else None, on_click=handler(inbox.open_item, item["id"]), ink=True)
    return tid(f"inbox-{item['id']}", body)


def _filter(desk: DeskState) -> ft.Control:
    inbox = desk.inbox
    options = [("all", "All"), *INBOX_KINDS.items()]

    def pick(kind: str) -> Any:
        return lambda *_e: inbox.set_filter(kind)

    return ft.Row([button(f"filter-{k.replace('.', '-')}", label, pick(k),
                          kind="tonal" if inbox.filter == k else "outlined") for k, label in options],
                  wrap=True, spacing=8, run_spacing=8)


@ft.component
def InboxScreen(desk: DeskState) -> ft.Control:
    inbox = desk.inbox
    use_observable(inbox)
    shown = inbox.shown()
    return screen([
        title_row(desk.clock, f"Inbox ({inbox.unread} unread)"),
        muted("Everything patients sent, newest first. New items appear by themselves.", 15),
        _filter(desk), FeedbackStrip(desk.feedback),
        tid("inbox-list", ft.Column([inbox_row(desk, i) for i in shown] or [muted("Nothing here.", BODY)], spacing=4))])
