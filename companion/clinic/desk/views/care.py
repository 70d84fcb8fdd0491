"""The patient page's care sections: appointments (+ prep templates), bills, results, messages.

Buttons appear only for what the signed-in role may do (a PSR sees a result's release state but
no Release button; a clinician sees no booking form), and the server refuses the rest anyway.
What a visit or a bill offers is the core's rule (:mod:`companion.core.care_rules`), as on the
server and in the patient's app; money shows through :func:`companion.core.units.format_cents`.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import flet as ft

from ....core.care_rules import offers
from ....core.clinic_profile import MINUTE_CHOICES
from ....core.references import bill_reference
from ....core.units import format_cents
from ..state import TEMPLATES, DeskState, PatientPage, plan_changes
from ..state.inbox import FOCUS_BILL
from ..state.patient_page import PAST_MARKS, past_marks
from ..state.timefmt import day_text, local, when
from .common import APPOINTMENT_STATUS, BODY, Choice, beside, button, field, handler, muted, narrow, pill, section, tid
from .open_time_booking import OpenTimeBooking
from .pickers import date_button, time_button

__all__ = ["appointments_section", "bills_section", "messages_section", "results_section"]

RESULT_STATE = {"held": ("Held: not released", "warn"), "released": ("Released to patient", "ok"),
                "blocked": ("Withdrawn", "bad")}


def _move_row(desk: DeskState, a: dict[str, Any], start: datetime) -> ft.Control:
    """Move (date and time pickers, then Move) and Cancel visit, which asks before it cancels."""
    drafts, intents, key = desk.drafts, desk.patient, f"move.{a['id']}"
    day = _draft_day(drafts.draft(f"{key}.date")) or start.date()
    moment = _draft_time(drafts.draft(f"{key}.time")) or start.time()

    def set_part(part: str, value: str) -> None:
        drafts.set_draft(f"{key}.{part}", value)
        intents.notify()

    controls: list[ft.Control] = [
        date_button(f"move-date-{a['id']}", f"{day:%a %d %b}", day, lambda d: set_part("date", d.isoformat())),
        time_button(f"move-time-{a['id']}", f"{moment:%H:%M}", moment, lambda t: set_part("time", f"{t:%H:%M}")),
        button(f"reschedule-{a['id']}", "Move", handler(_move, desk, a["id"], day, moment), kind="outlined")]
    if intents.confirming == a["id"]:
        controls += [tid(f"cancel-ask-{a['id']}", ft.Text("Cancel this visit?", size=BODY, weight=ft.FontWeight.W_700,
                                                           color=ft.Colors.RED_900)),
                     button(f"cancel-yes-{a['id']}", "Yes, cancel it", handler(intents.cancel_appointment, a["id"]),
                            kind="tonal"),
                     button(f"cancel-keep-{a['id']}", "Keep it", handler(intents.keep_appointment), kind="text")]
    else:
        controls.append(button(f"cancel-{a['id']}", "Cancel visit", handler(intents.cancel_appointment, a["id"]),
                               kind="text"))
    return ft.Row(controls, wrap=True, spacing=8, run_spacing=8, vertical_alignment=ft.CrossAxisAlignment.CENTER)


def _move(desk: DeskState, appointment_id: str, day: date, moment: time) -> None:
    desk.drafts.set_draft(f"move.{appointment_id}.date", day.isoformat())
    desk.drafts.set_draft(f"move.{appointment_id}.time", f"{moment:%H:%M}")
    desk.patient.reschedule(appointment_id)


def past_visit_marks(desk: DeskState, a: dict[str, Any], prefix: str = "") -> list[ft.Control]:
    """"Attended" / "Missed" for a visit that has begun and is still open (the core's rule decides)."""
    if not desk.session.can("patients.write"):
        return []
    return [button(f"{prefix}mark-{status}-{a['id']}", PAST_MARKS[status][1],
                   handler(desk.patient.mark_visit, a["id"], status),
                   kind="tonal" if status == "completed" else "outlined")
            for status in past_marks(a, desk.clock.now())]


def _appointment(desk: DeskState, page: PatientPage, a: dict[str, Any]) -> ft.Control:
    tz, now = desk.clock.tz, desk.clock.now()
    label, tone = APPOINTMENT_STATUS.get(a["status"], (a["status"], "plain"))
    start = local(a["start"], tz)
    steps = page.prep_for(a["id"])
    where = " · ".join(x for x in (a.get("location"), a.get("provider")) if x)
    what = ft.Text(f"{a['kind']} · {a['minutes']} min" + (f" · {where}" if where else ""), size=BODY)
    at = ft.Text(when(a["start"], tz, now), size=17, weight=ft.FontWeight.W_700, width=None if narrow(desk) else 190)
    lines: list[ft.Control] = [  # on a phone: when, then what, then the state
        beside(ft.Column([at, what], spacing=2), [pill(label, tone)], narrow=True) if narrow(desk)
        else beside(what, [pill(label, tone)], narrow=False, lead=[at], spacing=10)]
    if steps:
        lines.append(muted("Prep: " + "; ".join(s["title"] for s in steps), 14))
    marks = past_visit_marks(desk, a)
    if marks:
        lines.append(ft.Row([muted("This visit has begun:", 14), *marks], wrap=True, spacing=8))
    movable = start is not None and offers(a["status"], "schedule", "staff", start=start, minutes=a["minutes"],
                                           now=now, to_change=False)  # the one visit rule
    if desk.session.can("patients.write") and movable and start:
        lines.append(_move_row(desk, a, start))
    return tid(f"appointment-{a['id']}", ft.Container(ft.Column(lines, spacing=6), padding=10, border_radius=10,
                                                     border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT)))


def _draft_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _draft_time(text: str) -> time | None:
    try:
        return time.fromisoformat(text) if text else None
    except ValueError:
        return None


def _booking_form(desk: DeskState) -> ft.Control:
    """Date and time from the pickers, a length to click, place and provider from the clinic profile."""
    drafts, intents, plan = desk.drafts, desk.patient, desk.clock.site.schedule
    intents.booking_defaults()
    today = desk.clock.today()
    day = _draft_day(drafts.draft("book.date")) or today
    moment = _draft_time(drafts.draft("book.time"))

    def set_part(part: str, value: str) -> None:
        drafts.set_draft(f"book.{part}", value)
        intents.notify()

    lengths = dict.fromkeys((*MINUTE_CHOICES, plan.slot_minutes))
    providers = [(p, p) for p in plan.providers]
    return ft.Container(ft.Column([
        ft.Text("Book an appointment", size=17, weight=ft.FontWeight.W_700),
        ft.Row([date_button("book-date", f"{day:%a %d %b %Y}", day, lambda d: set_part("date", d.isoformat()),
                            first=today),
                time_button("book-time", f"{moment:%H:%M}" if moment else "Pick a time…", moment or time(9, 0),
                            lambda t: set_part("time", f"{t:%H:%M}"), kind="outlined" if moment else "tonal"),
                muted("Length:", 14),
                Choice(drafts, "book.minutes", [(str(m), f"{m} min") for m in sorted(lengths)],
                       str(plan.slot_minutes), "book-minutes")],
               wrap=True, spacing=8, run_spacing=8, vertical_alignment=ft.CrossAxisAlignment.CENTER),
        ft.Row([field(drafts, "book.kind", "Visit type", width=220, identifier="book-kind", hint="STI screening"),
                field(drafts, "book.location", "Where", width=260, identifier="book-location"),
                *([] if len(providers) > 1 else
                  [field(drafts, "book.provider", "With", width=220, identifier="book-provider")])], wrap=True),
        *([ft.Row([muted("With:", 14), Choice(drafts, "book.provider", providers, plan.provider or "",
                                              "book-provider")], wrap=True)] if len(providers) > 1 else []),
        muted("Prep step for the patient (optional):", 14),
        Choice(drafts, "book.template", [("", "None"), *((t.key, t.label) for t in TEMPLATES)], "", "template"),
        ft.Row([button("book", "Book appointment", handler(intents.book_appointment), icon=ft.Icons.EVENT)])],
        spacing=10), padding=ft.Padding.only(top=8))


def appointments_section(desk: DeskState, page: PatientPage) -> ft.Control:
    rows: list[ft.Control] = [_appointment(desk, page, a) for a in page.appointments[:12]]
    if not rows:
        rows.append(muted("No appointments.", BODY))
    if desk.session.can("patients.write"):
        rows.append(OpenTimeBooking(desk, page.id))
        rows.append(_booking_form(desk))
    return section("Appointments", rows, identifier="appointments", narrow=narrow(desk))


def _bill(desk: DeskState, b: dict[str, Any]) -> ft.Control:
    """One bill: what for, the patient's part with its due date, its payment reference (the one the
    patient's app and pay link show), status and plan; highlighted when opened from its billing item."""
    plan = b.get("payment_plan") or {}
    plan_text = f"plan: {plan['status']}, {plan['installments']} instalments" if plan else ""
    line: list[ft.Control] = [
        ft.Text(b["description"], size=BODY, weight=ft.FontWeight.W_600, width=200),
        ft.Text(f"{format_cents(b['patient_cents'], '$')} due {day_text(b['due'])}", size=BODY, width=180),
        tid(f"bill-ref-{b['id']}", ft.Text(bill_reference(b["id"]), size=BODY, selectable=True, width=150)),
        pill(b["status"].capitalize(), "ok" if b["status"] == "paid" else "plain"), muted(plan_text, 14)]
    set_plan = desk.patient.set_payment_plan
    if desk.session.can("patients.write") and plan_changes(b, "active"):
        line += [field(desk.drafts, f"plan.{b['id']}", "Instalments", width=160 if narrow(desk) else 120,
                       identifier=f"plan-n-{b['id']}"),
                 button(f"plan-{b['id']}", "Record plan", handler(set_plan, b["id"], "active"), kind="outlined")]
        if plan.get("status") == "requested" and plan_changes(b, "declined"):  # an answer to the patient's request
            line.append(button(f"plan-decline-{b['id']}", "Decline", handler(set_plan, b["id"], "declined"),
                               kind="text"))
    row = ft.Row(line, wrap=True, vertical_alignment=ft.CrossAxisAlignment.CENTER)
    if desk.drafts.draft(FOCUS_BILL) == b["id"]:  # opened from its billing question
        return tid(f"bill-{b['id']}", ft.Container(row, bgcolor=ft.Colors.AMBER_50, padding=8, border_radius=8,
                                                  border=ft.Border.all(2, ft.Colors.AMBER_700)))
    return tid(f"bill-{b['id']}", row)


def bills_section(desk: DeskState, page: PatientPage) -> ft.Control:
    rows: list[ft.Control] = [_bill(desk, b) for b in page.bills] or [muted("No bills.", BODY)]
    if desk.session.can("patients.write"):
        drafts, phone = desk.drafts, narrow(desk)
        form = [field(drafts, "bill.description", "What for", width=None if phone else 220,
                      identifier="bill-description"),
                field(drafts, "bill.amount", "Patient pays", width=None if phone else 140, identifier="bill-amount"),
                field(drafts, "bill.due", "Due (YYYY-MM-DD)", width=None if phone else 170, identifier="bill-due"),
                button("add-bill", "Add bill", handler(desk.patient.add_bill), kind="tonal")]
        # on a phone one field a line (a 170 px field broke its own label in two)
        rows.append(ft.Column(form, spacing=10) if phone else ft.Row(form, wrap=True))
    return section("Bills", rows, identifier="bills", narrow=narrow(desk))


def _sample_visits(desk: DeskState, page: PatientPage) -> list[tuple[str, str]]:
    """The visits a result's sample may come from (begun, not cancelled), newest first, as choices."""
    tz, now = desk.clock.tz, desk.clock.now()
    begun = [a for a in page.appointments if a["status"] not in ("requested", "cancelled")
             and (start := local(a["start"], tz)) is not None and start <= now]
    return [(a["id"], f"{a['kind']}, {when(a['start'], tz, now)}") for a in begun[:4]]


def results_section(desk: DeskState, page: PatientPage) -> ft.Control:
    rows: list[ft.Control] = []
    for r in page.results:
        label, tone = RESULT_STATE.get(r["state"], (r["state"], "plain"))
        sampled = f" · sample taken {r['sample_taken']}" if r.get("sample_taken") else ""
        line: list[ft.Control] = [pill(label, tone)]
        if desk.session.can("results.write") and r["state"] == "held":
            line.append(button(f"release-{r['id']}", "Release", handler(desk.patient.release_result, r["id"]),
                               kind="tonal"))
        test = ft.Text(r["test"] + sampled, size=BODY, weight=ft.FontWeight.W_600)
        rows.append(tid(f"result-{r['id']}", beside(test, line, narrow=narrow(desk), spacing=10),
                        label=f"{r['test']}: {label}"))
    if not rows:
        rows.append(muted("No results.", BODY))
    if desk.session.can("results.write"):
        drafts = desk.drafts
        visits = _sample_visits(desk, page)  # the sample's day is its visit's (the newest one unless picked)
        visit_key = f"result.visit.{page.id}"
        drafts.drafts.setdefault(visit_key, visits[0][0] if visits else "")
        rows += [field(drafts, "result.test", "Test", identifier="result-test"),
                 Choice(drafts, "result.interpretation", [("negative", "Negative"), ("positive", "Positive"),
                                                          ("indeterminate", "Unclear")], "negative", "interp"),
                 muted("Sample taken at:", 14),
                 Choice(drafts, visit_key, [*visits, ("", "Not at a visit here")], "", "sample"),
                 field(drafts, "result.note", "Note for the patient (optional)", identifier="result-note"),
                 ft.Row([button("add-result", "Save (held)", handler(desk.patient.add_result), kind="tonal")])]
    return section("Results", rows, identifier="results", narrow=narrow(desk))


def messages_section(desk: DeskState, page: PatientPage) -> ft.Control:
    tz, now = desk.clock.tz, desk.clock.now()
    phone = narrow(desk)
    bubbles: list[ft.Control] = []
    for m in page.messages[-30:]:
        mine = m["author"] == "clinic"
        who = (m.get("author_name") or "Clinic") if mine else page.profile["name"]
        bubble = ft.Container(
            ft.Column([ft.Text(m["body"], size=BODY, selectable=True),
                       muted(f"{who} · {when(m['sent_at'], tz, now)}", 13)], spacing=4, tight=True),
            bgcolor=ft.Colors.TEAL_50 if mine else ft.Colors.SURFACE_CONTAINER_HIGH, padding=12, border_radius=12,
            width=None if phone else 420,
            margin=(ft.Margin.only(left=32) if mine else ft.Margin.only(right=32)) if phone else None)
        # a phone's bubble takes the section's width (a row would let a long message run off it), offset by side
        shown = bubble if phone else ft.Row([bubble], alignment=ft.MainAxisAlignment.END if mine
                                            else ft.MainAxisAlignment.START)
        bubbles.append(tid(f"msg-{m['id']}", shown, label=f"{who}: {m['body']}"))
    if not bubbles:
        bubbles.append(muted("No messages yet.", BODY))
    if desk.session.can("messages.send"):
        bubbles += [field(desk.drafts, "reply", "Write to the patient", multiline=True, identifier="reply"),
                    ft.Row([button("send-reply", "Send", handler(desk.patient.reply), icon=ft.Icons.SEND)])]
    return section("Messages", bubbles, identifier="messages", narrow=phone)
