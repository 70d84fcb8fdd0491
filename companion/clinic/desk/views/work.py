"""Today, Inbox, Articles and Audit: the desk's work lists, newest or soonest first, scannable.

Today shows the day's appointments by local time with a clear check-in state, patients who
checked in from their phones, and requests waiting. The inbox is everything patients sent,
newest first, unread in bold with a dot, filterable by kind; an appointment request is accepted
in one click.
"""

from __future__ import annotations

from typing import Any

import flet as ft

from ..state import INBOX_KINDS, DeskState
from ..state.timefmt import clock, when, zone_name
from .common import BODY, button, choice, feedback, field, handler, heading, muted, pill, screen, section, tid

__all__ = ["articles_screen", "audit_screen", "inbox_screen", "today_screen"]

STATUS = {"checked_in": ("Checked in", "ok"), "confirmed": ("Confirmed", "info"), "scheduled": ("Booked", "plain"),
          "requested": ("Requested", "warn"), "cancelled": ("Cancelled", "bad"), "completed": ("Seen", "plain"),
          "no_show": ("No-show", "bad")}


def _title_row(state: DeskState, text: str, *actions: ft.Control) -> ft.Control:
    zone = muted(f"Times in {zone_name(state.tz, state.now())}", 14)
    return ft.Row([heading(text), ft.Container(expand=True), zone, *actions],
                  vertical_alignment=ft.CrossAxisAlignment.CENTER, spacing=16)


def _appointment_row(state: DeskState, a: dict[str, Any]) -> ft.Control:
    label, tone = STATUS.get(a["status"], (a["status"], "plain"))
    name = state.names.get(a["patient_id"], a.get("patient_name", ""))
    row = ft.Container(ft.Row([
        ft.Text(clock(a["start"], state.tz), size=22, weight=ft.FontWeight.W_700, width=80),
        ft.Column([ft.Text(name, size=18, weight=ft.FontWeight.W_600),
                   muted(f"{a['kind']} · {a['minutes']} min" + (f" · {a['provider']}" if a.get("provider")
                                                                      else ""), 15)],
                  spacing=2, expand=True),
        pill(label + (f" {clock(a['checked_in_at'], state.tz)}" if a.get("checked_in_at") else ""), tone),
    ], vertical_alignment=ft.CrossAxisAlignment.CENTER), padding=ft.Padding.symmetric(horizontal=12, vertical=10),
        border_radius=10, on_click=handler(state.open_patient, a["patient_id"]), ink=True)
    return tid(f"today-{a['id']}", row)


def _item_title(state: DeskState, item: dict[str, Any]) -> str:
    d = item["detail"]
    kind = item["kind"]
    if kind == "message.send":
        return str(d.get("body", ""))
    if kind == "appointment.request":
        wished = (d.get("preferred") or [None])[0]
        return f"Wants: {d.get('kind', 'an appointment')}" + (f", {when(wished, state.tz, state.now())}"
                                                             if wished else "")
    if kind == "appointment.cancel":
        return "Cancelled an appointment" + (f": {d['reason']}" if d.get("reason") else "")
    if kind == "bill.plan_request":
        return f"Asks to pay in {d.get('installments', '?')} instalments" + (f": {d['note']}" if d.get("note") else "")
    if kind == "checkin.submit":
        return "Checked in from the app"
    return str(kind)


def _inbox_row(state: DeskState, item: dict[str, Any]) -> ft.Control:
    unread = item["unread"]
    name = state.names.get(item["patient_id"], "Patient")
    weight = ft.FontWeight.W_700 if unread else ft.FontWeight.W_400
    dot = ft.Container(width=10, height=10, border_radius=5, bgcolor=ft.Colors.BLUE_700 if unread else None)
    actions: list[ft.Control] = []
    if item["kind"] == "appointment.request" and not item["handled"]:
        actions.append(button(f"accept-{item['id']}", "Accept", handler(state.accept_request, item["id"]),
                              icon=ft.Icons.EVENT_AVAILABLE))
    if not item["handled"]:
        actions.append(button(f"done-{item['id']}", "Done", handler(state.mark_handled, item["id"]), kind="outlined"))
    else:
        actions.append(pill("Done", "ok"))
    body = ft.Container(ft.Row([
        dot,
        ft.Column([ft.Row([ft.Text(name, size=17, weight=ft.FontWeight.W_700), pill(INBOX_KINDS.get(item["kind"],
                                                                                                     item["kind"])),
                           muted(when(item["created_at"], state.tz, state.now()), 14)], spacing=10, wrap=True),
                   ft.Text(_item_title(state, item), size=BODY, weight=weight, max_lines=2,
                           overflow=ft.TextOverflow.ELLIPSIS)], spacing=4, expand=True),
        *actions], vertical_alignment=ft.CrossAxisAlignment.CENTER, spacing=12),
        padding=ft.Padding.symmetric(horizontal=12, vertical=10), border_radius=10,
        bgcolor=ft.Colors.BLUE_50 if unread else None, on_click=handler(state.open_inbox_item, item["id"]), ink=True)
    return tid(f"inbox-{item['id']}", body)


def today_screen(state: DeskState) -> ft.Control:
    now_local = state.now().astimezone(state.tz)
    items: list[ft.Control] = [
        _title_row(state, f"Today, {now_local:%A} {now_local.day} {now_local:%B}",
                   button("refresh-today", "Refresh", handler(state.refresh_today), kind="outlined",
                          icon=ft.Icons.REFRESH)),
        *feedback(state)]
    checked = state.remote_checkins()
    if checked:
        items.append(section(f"Checked in from their phone ({len(checked)})",
                             [_appointment_row(state, a) for a in checked], identifier="remote-checkins", tone="info"))
    waiting = state.waiting_requests()
    if state.can("inbox"):
        items.append(section(f"Requests waiting ({len(waiting)})",
                             [_inbox_row(state, i) for i in waiting[:8]] or [muted("Nothing waiting.", BODY)],
                             identifier="requests-waiting", tone="warn" if waiting else None))
    unread = [i for i in state.inbox_items if i["kind"] == "message.send" and i["unread"]]
    if unread:
        items.append(section(f"Unread messages ({len(unread)})", [_inbox_row(state, i) for i in unread[:5]],
                             identifier="unread-messages", tone="info"))
    visible = [a for a in state.today if a["status"] != "cancelled"]
    seen = sum(1 for a in visible if a["status"] in ("checked_in", "completed"))
    items.append(section(f"Appointments ({len(visible)}, {seen} arrived)",
                         [_appointment_row(state, a) for a in state.today] or [muted("No appointments today.", BODY)],
                         identifier="today-list"))
    return screen(items)


def inbox_screen(state: DeskState) -> ft.Control:
    options = [("all", "All"), *INBOX_KINDS.items()]
    items: list[ft.Control] = [
        _title_row(state, f"Inbox ({state.inbox_unread} unread)"),
        muted("Everything patients sent, newest first. New items appear by themselves.", 15),
        _filter(state, options), *feedback(state)]
    shown = state.shown_inbox()
    items.append(tid("inbox-list", ft.Column([_inbox_row(state, i) for i in shown]
                                             or [muted("Nothing here.", BODY)], spacing=4)))
    return screen(items)


def _filter(state: DeskState, options: list[tuple[str, str]]) -> ft.Control:
    def pick(kind: str) -> Any:
        return lambda *_e: state.set_inbox_filter(kind)

    return ft.Row([button(f"filter-{k.replace('.', '-')}", label, pick(k),
                          kind="tonal" if state.inbox_filter == k else "outlined") for k, label in options],
                  wrap=True, spacing=8, run_spacing=8)


def articles_screen(state: DeskState) -> ft.Control:
    preview = state.draft("article.preview", "no") == "yes"
    editor: list[ft.Control] = [field(state, "article.title", "Title", identifier="article-title"),
                                choice(state, "article.preview", [("no", "Write"), ("yes", "Preview")], "no",
                                       "article-mode")]
    if preview:
        editor.append(tid("article-preview", ft.Container(
            ft.Markdown(state.draft("article.body") or "*Nothing written yet.*", selectable=True),
            padding=16, border_radius=10, border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT))))
    else:
        editor.append(field(state, "article.body", "Text (Markdown: # heading, **bold**, - list)", multiline=True,
                            identifier="article-body"))
    editor.append(button("publish-article", "Publish to patients", handler(state.publish_article), icon=ft.Icons.SEND))
    published = [ft.Row([ft.Text(a["title"], size=BODY, weight=ft.FontWeight.W_600, expand=True),
                         muted(when(a["published_at"], state.tz, state.now()), 14)])
                 for a in state.articles if not a.get("retracted_at")]
    return screen([_title_row(state, "Articles"), *feedback(state), section("New article", editor),
                   section(f"Published ({len(published)})", published or [muted("None yet.", BODY)])])


def audit_screen(state: DeskState) -> ft.Control:
    header = ft.Row([ft.Text(t, size=14, weight=ft.FontWeight.W_700, width=w) for t, w in
                     (("When", 170), ("Who", 160), ("Role", 90), ("Action", 220), ("What", 260), ("From", 120))])
    rows: list[ft.Control] = [header]
    for e in state.audit_entries:
        who = e.get("actor_id") or "-"
        rows.append(ft.Row([ft.Text(when(e["at"], state.tz, state.now()), size=14, width=170),
                            ft.Text(who, size=14, width=160), ft.Text(e.get("role") or e["actor_type"], size=14,
                                                                      width=90),
                            ft.Text(e["action"], size=14, width=220, weight=ft.FontWeight.W_600),
                            ft.Text(e.get("target") or "", size=14, width=260),
                            ft.Text(e.get("address") or "", size=14, width=120)]))
    return screen([_title_row(state, "Audit", button("refresh-audit", "Refresh", handler(state.refresh_audit),
                                                     kind="outlined", icon=ft.Icons.REFRESH)),
                   muted("Who did what, when. Newest first.", 15), *feedback(state),
                   tid("audit-list", ft.Column(rows, spacing=6))])
