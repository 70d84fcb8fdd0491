"""The patient page's care sections: appointments (+ prep templates), bills, results, messages.

Buttons appear only for what the signed-in role may do (a PSR sees a result's release state but
no Release button; a clinician sees no booking form), and the server refuses the rest anyway.
"""

from __future__ import annotations

from typing import Any

import flet as ft

from ....core.care_rules import offers
from ....core.units import format_cents
from ..state import TEMPLATES, DeskState, PatientPage
from ..state.timefmt import local, when
from .common import BODY, button, choice, field, handler, muted, pill, section, tid
from .work import STATUS

__all__ = ["appointments_section", "bills_section", "messages_section", "results_section"]

RESULT_STATE = {"held": ("Held: not released", "warn"), "released": ("Released to patient", "ok"),
                "blocked": ("Withdrawn", "bad")}


def _appointment(state: DeskState, page: PatientPage, a: dict[str, Any]) -> ft.Control:
    label, tone = STATUS.get(a["status"], (a["status"], "plain"))
    start = local(a["start"], state.tz)
    steps = page.prep_for(a["id"])
    lines: list[ft.Control] = [ft.Row([
        ft.Text(when(a["start"], state.tz, state.now()), size=17, weight=ft.FontWeight.W_700, width=190),
        ft.Text(f"{a['kind']} · {a['minutes']} min", size=BODY, expand=True), pill(label, tone)])]
    if steps:
        lines.append(muted("Prep: " + "; ".join(s["title"] for s in steps), 14))
    movable = start is not None and offers(a["status"], "schedule", "staff", start=start, minutes=a["minutes"],
                                           now=state.now(), to_change=False)  # the one visit rule
    if state.can("patients.write") and movable and start:
        key = f"move.{a['id']}"
        state.drafts.setdefault(f"{key}.date", start.date().isoformat())
        state.drafts.setdefault(f"{key}.time", start.strftime("%H:%M"))
        lines.append(ft.Row([
            field(state, f"{key}.date", "Date", width=150, identifier=f"move-date-{a['id']}"),
            field(state, f"{key}.time", "Time", width=100, identifier=f"move-time-{a['id']}"),
            button(f"reschedule-{a['id']}", "Move", handler(state.reschedule, a["id"]), kind="outlined"),
            button(f"cancel-{a['id']}", "Cancel visit", handler(state.cancel_appointment, a["id"]), kind="text")],
            wrap=True))
    return tid(f"appointment-{a['id']}", ft.Container(ft.Column(lines, spacing=6), padding=10, border_radius=10,
                                                     border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT)))


def appointments_section(state: DeskState, page: PatientPage) -> ft.Control:
    rows: list[ft.Control] = [_appointment(state, page, a) for a in page.appointments[:12]]
    if not rows:
        rows.append(muted("No appointments.", BODY))
    if state.can("patients.write"):
        today = state.now().astimezone(state.tz).date().isoformat()
        state.drafts.setdefault("book.date", today)
        rows.append(ft.Container(ft.Column([
            ft.Text("Book an appointment", size=17, weight=ft.FontWeight.W_700),
            ft.Row([field(state, "book.date", "Date (YYYY-MM-DD)", width=180, identifier="book-date"),
                    field(state, "book.time", "Time (HH:MM)", width=140, identifier="book-time"),
                    field(state, "book.minutes", "Minutes", width=110, identifier="book-minutes"),
                    field(state, "book.kind", "Visit type", width=220, identifier="book-kind",
                          hint="STI screening")], wrap=True),
            muted("Prep step for the patient (optional):", 14),
            choice(state, "book.template", [("", "None"), *((t.key, t.label) for t in TEMPLATES)], "", "template"),
            ft.Row([button("book", "Book appointment", handler(state.book_appointment), icon=ft.Icons.EVENT)])],
            spacing=10), padding=ft.Padding.only(top=8)))
    return section("Appointments", rows, identifier="appointments")


def bills_section(state: DeskState, page: PatientPage) -> ft.Control:
    rows: list[ft.Control] = []
    for b in page.bills:
        plan = b.get("payment_plan") or {}
        plan_text = f"plan: {plan['status']}, {plan['installments']} instalments" if plan else ""
        line: list[ft.Control] = [
            ft.Text(b["description"], size=BODY, weight=ft.FontWeight.W_600, width=200),
            ft.Text(f"{format_cents(b['patient_cents'])} due {b['due']}", size=BODY, width=180),
            pill(b["status"].capitalize(), "ok" if b["status"] == "paid" else "plain"), muted(plan_text, 14)]
        if state.can("patients.write") and b["status"] == "open" and plan.get("status") != "active":
            line += [field(state, f"plan.{b['id']}", "Instalments", width=120, identifier=f"plan-n-{b['id']}"),
                     button(f"plan-{b['id']}", "Record plan", handler(state.set_payment_plan, b["id"], "active"),
                            kind="outlined")]
            if plan.get("status") == "requested":
                line.append(button(f"plan-decline-{b['id']}", "Decline", handler(state.set_payment_plan, b["id"],
                                                                             "declined"), kind="text"))
        rows.append(tid(f"bill-{b['id']}", ft.Row(line, wrap=True, vertical_alignment=ft.CrossAxisAlignment.CENTER)))
    if not rows:
        rows.append(muted("No bills.", BODY))
    if state.can("patients.write"):
        rows.append(ft.Row([field(state, "bill.description", "What for", width=220, identifier="bill-description"),
                            field(state, "bill.amount", "Patient pays", width=140, identifier="bill-amount"),
                            field(state, "bill.due", "Due (YYYY-MM-DD)", width=170, identifier="bill-due"),
                            button("add-bill", "Add bill", handler(state.add_bill), kind="tonal")], wrap=True))
    return section("Bills", rows, identifier="bills")


def results_section(state: DeskState, page: PatientPage) -> ft.Control:
    rows: list[ft.Control] = []
    for r in page.results:
        label, tone = RESULT_STATE.get(r["state"], (r["state"], "plain"))
        line: list[ft.Control] = [ft.Text(r["test"], size=BODY, weight=ft.FontWeight.W_600, expand=True),
                                  pill(label, tone)]
        if state.can("results.write") and r["state"] == "held":
            line.append(button(f"release-{r['id']}", "Release", handler(state.release_result, r["id"]), kind="tonal"))
        rows.append(tid(f"result-{r['id']}", ft.Row(line, vertical_alignment=ft.CrossAxisAlignment.CENTER),
                        label=f"{r['test']}: {label}"))
    if not rows:
        rows.append(muted("No results.", BODY))
    if state.can("results.write"):
        rows += [field(state, "result.test", "Test", identifier="result-test"),
                 choice(state, "result.interpretation", [("negative", "Negative"), ("positive", "Positive"),
                                                         ("indeterminate", "Unclear")], "negative", "interp"),
                 field(state, "result.note", "Note for the patient (optional)", identifier="result-note"),
                 ft.Row([button("add-result", "Save (held)", handler(state.add_result), kind="tonal")])]
    return section("Results", rows, identifier="results")


def messages_section(state: DeskState, page: PatientPage) -> ft.Control:
    bubbles: list[ft.Control] = []
    for m in page.messages[-30:]:
        mine = m["author"] == "clinic"
        who = (m.get("author_name") or "Clinic") if mine else page.profile["name"]
        bubbles.append(tid(f"msg-{m['id']}", ft.Row([ft.Container(
            ft.Column([ft.Text(m["body"], size=BODY, selectable=True),
                       muted(f"{who} · {when(m['sent_at'], state.tz, state.now())}", 13)], spacing=4, tight=True),
            bgcolor=ft.Colors.TEAL_50 if mine else ft.Colors.SURFACE_CONTAINER_HIGH, padding=12, border_radius=12,
            width=420)], alignment=ft.MainAxisAlignment.END if mine else ft.MainAxisAlignment.START),
            label=f"{who}: {m['body']}"))
    if not bubbles:
        bubbles.append(muted("No messages yet.", BODY))
    if state.can("messages.send"):
        bubbles += [field(state, "reply", "Write to the patient", multiline=True, identifier="reply"),
                    ft.Row([button("send-reply", "Send", handler(state.reply), icon=ft.Icons.SEND)])]
    return section("Messages", bubbles, identifier="messages")
