"""Today, Inbox, Articles and Audit: the desk's work lists, newest or soonest first, scannable.

Each screen is a component subscribed to what it renders, so the inbox poll redraws what shows
the inbox and nothing else:

- ``TodayScreen`` (a day's schedule and the inbox): Today / Tomorrow / any date picked, the day's
  appointments by the clinic's local time with a clear check-in state (and Attended / Missed once
  a visit has begun), patients who checked in from their phones, the requests waiting and unread
  messages.
- ``InboxScreen`` (the inbox): everything patients sent, newest first, unread in bold with a dot,
  filterable by kind; an appointment request is accepted in one click.
- ``ArticlesScreen`` (articles): write Markdown, preview, publish. Write/Preview is the editor's
  own state (kept in the ``article.preview`` draft, so it survives a trip to another screen):
  toggling it redraws the editor, not the list of published articles.
- ``AuditScreen`` (the audit trail, admins): who did what, when.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import flet as ft

from ....core.open_times import is_booking
from ....core.partner_notice import NOTICE_PREFIX
from ..state import INBOX_KINDS, DeskState
from ..state.patient_page import PAST_MARKS, past_marks
from ..state.timefmt import clock, reads, when
from .billing import BillingAnswer, bill_summary
from .common import (
    APPOINTMENT_STATUS,
    BODY,
    Choice,
    FeedbackStrip,
    act,
    beside,
    button,
    field,
    handler,
    muted,
    narrow,
    pill,
    screen,
    section,
    tid,
    title_row,
    use_observable,
)
from .pickers import date_button
from .requests import RequestAnswer, request_summary

__all__ = ["ArticlesScreen", "AuditScreen", "InboxScreen", "TodayScreen"]


# -- the inbox ---------------------------------------------------------------------------------------
def _language(desk: DeskState, patient_id: str) -> list[ft.Control]:
    """"Reads Spanish" beside a patient's name in a list (nothing before their app said).

    Plain text in the row, no semantics node of its own: one would split the row's merged label
    (the row is read, and found, as one)."""
    code = desk.inbox.languages.get(patient_id)
    return [muted(reads(code), 14)] if code else []


def _item_title(desk: DeskState, item: dict[str, Any]) -> str:
    d = item["detail"]
    kind = item["kind"]
    if kind == "message.send":
        return str(d.get("body", ""))
    if kind == "appointment.request":
        return request_summary(d, desk.clock.tz, desk.clock.now())
    if kind == "appointment.cancel" and d.get("was") == "requested":  # no time was ever set: name the request
        return f"Withdrew the request for {d.get('kind') or 'an appointment'}" + (
            f" · reason: {d['reason']}" if d.get("reason") else "")
    if kind == "appointment.cancel":
        visit = (f"{d['kind']}, {when(d['start'], desk.clock.tz, desk.clock.now())}" if d.get("kind") and d.get("start")
                 else "an appointment")
        return f"Cancelled {visit}" + (f" · reason: {d['reason']}" if d.get("reason") else "")
    if kind == "bill.plan_request":
        return f"Asks to pay in {d.get('installments', '?')} instalments" + (f": {d['note']}" if d.get("note") else "")
    if kind == "checkin.submit":
        return "Checked in from the app"
    if kind == "bill.question":
        return f"About bill {bill_summary(d)}"  # the row names the patient and the kind already
    return str(kind)


def inbox_row(desk: DeskState, item: dict[str, Any]) -> ft.Control:
    inbox = desk.inbox
    unread = item["unread"]
    name = inbox.names.get(item["patient_id"], "Patient")
    language = _language(desk, item["patient_id"])
    weight = ft.FontWeight.W_700 if unread else ft.FontWeight.W_400
    dot = ft.Container(width=10, height=10, border_radius=5, bgcolor=ft.Colors.BLUE_700 if unread else None)
    actions: list[ft.Control] = []
    if not item["handled"]:
        actions.append(button(f"done-{item['id']}", "Done", handler(inbox.mark_handled, item["id"]), kind="outlined"))
    else:
        actions.append(pill("Done", "ok"))
    phone = narrow(desk)
    text = ft.Column([ft.Row([ft.Text(name, size=17, weight=ft.FontWeight.W_700), *language,
                              pill(INBOX_KINDS.get(item["kind"], item["kind"])),
                              muted(when(item["created_at"], desk.clock.tz, desk.clock.now()), 14)],
                             spacing=10, run_spacing=4, wrap=True),
                      ft.Text(_item_title(desk, item), size=BODY, weight=weight, max_lines=4 if phone else 2,
                              overflow=ft.TextOverflow.ELLIPSIS)], spacing=4)
    if phone:  # the dot beside the name, the text across the row, Done under it
        dot = ft.Container(dot, padding=ft.Padding.only(top=7))
    body = ft.Container(beside(text, actions, narrow=phone, lead=[dot]),
        padding=ft.Padding.symmetric(horizontal=8 if phone else 12, vertical=10), border_radius=10,
        bgcolor=ft.Colors.BLUE_50 if unread else None, on_click=handler(inbox.open_item, item["id"]), ink=True)
    if item["kind"] == "appointment.request" and not item["handled"]:
        return tid(f"inbox-{item['id']}", ft.Column([body, RequestAnswer(desk, item)], spacing=0))
    if item["kind"] == "bill.question" and not item["handled"]:
        return tid(f"inbox-{item['id']}", ft.Column([body, BillingAnswer(desk, item)], spacing=0))
    return tid(f"inbox-{item['id']}", body)


def _filter(desk: DeskState) -> ft.Control:
    inbox = desk.inbox
    options = [("all", "All"), *INBOX_KINDS.items()]

    def pick(kind: str) -> Any:
        return lambda *_e: inbox.set_filter(kind)

    buttons = [button(f"filter-{k.replace('.', '-')}", label, pick(k),
                      kind="tonal" if inbox.filter == k else "outlined") for k, label in options]
    if narrow(desk):  # a phone: one line that scrolls sideways, not four lines of filters above the list
        return tid("inbox-filters", ft.Row(buttons, spacing=8, wrap=False, scroll=ft.ScrollMode.AUTO))
    return tid("inbox-filters", ft.Row(buttons, wrap=True, spacing=8, run_spacing=8))


@ft.component
def InboxScreen(desk: DeskState) -> ft.Control:
    inbox = desk.inbox
    use_observable(inbox)
    shown = inbox.shown()
    phone = narrow(desk)
    return screen([
        title_row(desk.clock, f"Inbox ({inbox.unread} unread)", narrow=phone),
        muted("Everything patients sent, newest first. New items appear by themselves.", 15),
        _filter(desk), FeedbackStrip(desk.feedback),
        tid("inbox-list", ft.Column([inbox_row(desk, i) for i in shown] or [muted("Nothing here.", BODY)], spacing=4))],
        narrow=phone)


# -- today -----------------------------------------------------------------------------------------
SELF_BOOKED = "Booked in the app"
FROM_NOTICE = "From a partner notice · new patient"


def _appointment_row(desk: DeskState, a: dict[str, Any], prefix: str = "today") -> ft.Control:
    tz = desk.clock.tz
    label, tone = APPOINTMENT_STATUS.get(a["status"], (a["status"], "plain"))
    name = desk.today.names.get(a["patient_id"], a.get("patient_name", ""))
    marks = [button(f"{prefix}-mark-{status}-{a['id']}", PAST_MARKS[status][1],
                    handler(desk.today.mark_visit, a["id"], status), kind="outlined")
             for status in past_marks(a, desk.clock.now())] if desk.session.can("patients.write") else []
    phone = narrow(desk)
    text = ft.Column([ft.Row([ft.Text(name, size=18, weight=ft.FontWeight.W_600),
                              *_language(desk, a["patient_id"])], spacing=10, run_spacing=2, wrap=True),
                      muted(f"{a['kind']} · {a['minutes']} min" + (f" · {a['provider']}" if a.get("provider")
                                                                         else "")
                            + (f" · {SELF_BOOKED}" if is_booking(a["id"]) else "")
                            + (f" · {FROM_NOTICE}" if a["id"].startswith(f"{NOTICE_PREFIX}_") else ""), 15)],
                     spacing=2)
    status = pill(label + (f" {clock(a['checked_in_at'], tz)}" if a.get("checked_in_at") else ""), tone)
    at = ft.Text(clock(a["start"], tz), size=20 if phone else 22, weight=ft.FontWeight.W_700, width=64 if phone else 80)
    row = ft.Container(beside(text, [*marks, status], narrow=phone, lead=[at], spacing=8 if phone else 10),
                       padding=ft.Padding.symmetric(horizontal=8 if phone else 12, vertical=10),
                       border_radius=10, on_click=handler(desk.patient.open, a["patient_id"]), ink=True)
    return tid(f"{prefix}-{a['id']}", row)


def _day_switcher(desk: DeskState) -> ft.Control:
    """Today / Tomorrow / any date (the date picker); the day shown is filled."""
    today, day = desk.clock.today(), desk.today.day
    tomorrow = today + timedelta(days=1)
    return ft.Row([
        button("day-today", "Today", handler(desk.today.show_day, None), kind="tonal" if day == today else "outlined"),
        button("day-tomorrow", "Tomorrow", handler(desk.today.show_tomorrow),
               kind="tonal" if day == tomorrow else "outlined"),
        date_button("day-pick", "Pick a date…" if day in (today, tomorrow) else f"{day:%a %d %b}", day,
                    lambda picked: act(desk.today.show_day, picked),
                    kind="outlined" if day in (today, tomorrow) else "tonal"),
    ], wrap=True, spacing=8, run_spacing=8)


@ft.component
def TodayScreen(desk: DeskState) -> ft.Control:
    today, inbox = desk.today, desk.inbox
    use_observable(today)
    use_observable(inbox)
    is_today = today.day == desk.clock.today()
    phone = narrow(desk)
    items: list[ft.Control] = [
        title_row(desk.clock, today.title(),
                  button("refresh-today", "Refresh", handler(today.refresh), kind="outlined", icon=ft.Icons.REFRESH),
                  narrow=phone),
        _day_switcher(desk), FeedbackStrip(desk.feedback)]
    checked = today.remote_checkins()
    if checked:
        items.append(section(f"Checked in from their phone ({len(checked)})",
                             [_appointment_row(desk, a, "checkin") for a in checked], identifier="remote-checkins",
                             tone="info", narrow=phone))
    if desk.session.can("inbox"):
        waiting = inbox.waiting_requests()
        items.append(section(f"Requests waiting ({len(waiting)})",
                             [inbox_row(desk, i) for i in waiting[:8]] or [muted("Nothing waiting.", BODY)],
                             identifier="requests-waiting", tone="warn" if waiting else None, narrow=phone))
    unread = inbox.unread_messages()
    if unread:
        items.append(section(f"Unread messages ({len(unread)})", [inbox_row(desk, i) for i in unread[:5]],
                             identifier="unread-messages", tone="info", narrow=phone))
    visible = [a for a in today.appointments if a["status"] != "cancelled"]
    seen = sum(1 for a in visible if a["status"] in ("checked_in", "completed"))
    empty = "No appointments today." if is_today else "No appointments on this day."
    items.append(section(f"Appointments ({len(visible)}, {seen} arrived)",
                         [_appointment_row(desk, a) for a in today.appointments]
                         or [muted(empty, BODY)], identifier="today-list", narrow=phone))
    return screen(items, narrow=phone)


# -- articles and audit --------------------------------------------------------------------------------
@ft.component
def _Editor(desk: DeskState) -> ft.Control:
    drafts = desk.drafts
    preview, set_preview = ft.use_state(drafts.draft("article.preview", "no") == "yes")
    editor: list[ft.Control] = [field(drafts, "article.title", "Title", identifier="article-title"),
                                Choice(drafts, "article.preview", [("no", "Write"), ("yes", "Preview")], "no",
                                       "article-mode", on_pick=lambda value: set_preview(value == "yes"))]
    if preview:
        editor.append(tid("article-preview", ft.Container(
            ft.Markdown(drafts.draft("article.body") or "*Nothing written yet.*", selectable=True),
            padding=16, border_radius=10, border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT))))
    else:
        editor.append(field(drafts, "article.body", "Text (Markdown: # heading, **bold**, - list)", multiline=True,
                            identifier="article-body"))
    editor.extend([muted("Spanish version (optional): patients whose app speaks Spanish read this instead.", 14),
                   field(drafts, "article.title.es", "Title in Spanish", identifier="article-title-es"),
                   field(drafts, "article.body.es", "Text in Spanish (Markdown)", multiline=True,
                         identifier="article-body-es")])
    editor.append(button("publish-article", "Publish to patients", handler(desk.articles.publish),
                         icon=ft.Icons.SEND))
    return section("New article", editor, narrow=narrow(desk))


@ft.component
def ArticlesScreen(desk: DeskState) -> ft.Control:
    articles = desk.articles
    use_observable(articles)
    tz, now = desk.clock.tz, desk.clock.now()
    phone = narrow(desk)
    published = [beside(ft.Text(a["title"], size=BODY, weight=ft.FontWeight.W_600),
                        [muted(when(a["published_at"], tz, now), 14)], narrow=phone)
                 for a in articles.published()]
    return screen([title_row(desk.clock, "Articles", narrow=phone), FeedbackStrip(desk.feedback), _Editor(desk),
                   section(f"Published ({len(published)})", published or [muted("None yet.", BODY)], narrow=phone)],
                  narrow=phone)


@ft.component
def AuditScreen(desk: DeskState) -> ft.Control:
    audit = desk.audit
    use_observable(audit)
    tz, now = desk.clock.tz, desk.clock.now()
    phone = narrow(desk)
    header = ft.Row([ft.Text(t, size=14, weight=ft.FontWeight.W_700, width=w) for t, w in
                     (("When", 170), ("Who", 160), ("Role", 90), ("Action", 220), ("What", 260), ("From", 120))])
    rows: list[ft.Control] = [] if phone else [header]
    for e in audit.entries:
        if phone:  # one card per entry: a table six columns wide does not fit a phone
            rows.append(_audit_card(e, when(e["at"], tz, now)))
            continue
        who = e.get("actor_id") or "-"
        rows.append(ft.Row([ft.Text(when(e["at"], tz, now), size=14, width=170),
                            ft.Text(who, size=14, width=160),
                            ft.Text(e.get("role") or e["actor_type"], size=14, width=90),
                            ft.Text(e["action"], size=14, width=220, weight=ft.FontWeight.W_600),
                            ft.Text(e.get("target") or "", size=14, width=260),
                            ft.Text(e.get("address") or "", size=14, width=120)]))
    return screen([title_row(desk.clock, "Audit", button("refresh-audit", "Refresh", handler(audit.refresh),
                                                         kind="outlined", icon=ft.Icons.REFRESH), narrow=phone),
                   muted("Who did what, when. Newest first.", 15), FeedbackStrip(desk.feedback),
                   tid("audit-list", ft.Column(rows, spacing=6, horizontal_alignment=ft.CrossAxisAlignment.STRETCH
                                               if phone else ft.CrossAxisAlignment.START))], narrow=phone)


def _audit_card(e: dict[str, Any], at: str) -> ft.Control:
    who = " · ".join(x for x in (e.get("actor_id") or "-", e.get("role") or e["actor_type"]) if x)
    lines: list[ft.Control] = [ft.Text(e["action"], size=15, weight=ft.FontWeight.W_600),
                               muted(f"{at} · {who}", 14)]
    if e.get("target"):
        lines.append(ft.Text(str(e["target"]), size=14))
    if e.get("address"):
        lines.append(muted(f"from {e['address']}", 13))
    return ft.Container(ft.Column(lines, spacing=2, tight=True), padding=ft.Padding.symmetric(horizontal=4, vertical=6),
                        border=ft.Border.only(bottom=ft.BorderSide(1, ft.Colors.OUTLINE_VARIANT)))
