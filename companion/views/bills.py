"""Bills: list and detail (charges, insurance paid, your part, due date), payment plan, billing question."""

from __future__ import annotations

from collections.abc import Callable

import flet as ft

from ..core.models import Bill
from ..state import AppState, Route
from ..state.formatting import long_date, money
from ..ui.kit import act, use_observable
from .common import button, card, empty_note, feedback, field, header, muted, screen, shown_text, tid

__all__ = ["BillScreen", "BillsScreen"]

STATUS = {"open": "To pay", "paid": "Paid", "plan": "On a payment plan", "void": "Cancelled"}
PLAN_CHOICES = (3, 6, 12)


def _amount_row(label: str, cents: int, strong: bool = False) -> ft.Control:
    weight = ft.FontWeight.W_700 if strong else None
    return ft.Row([ft.Text(label, expand=True, weight=weight), ft.Text(money(cents), weight=weight)])


@ft.component
def BillsScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    use_observable(state.records)
    snap = state.records.snapshot
    items: list[ft.Control] = [header(state, "Bills"), *feedback(state)]
    if snap.balance_cents:
        items.append(card([muted("Your part, in total", 13),
                           ft.Text(money(snap.balance_cents), size=28, weight=ft.FontWeight.W_700)],
                          identifier="balance", tone="info"))
    if not snap.bills:
        items.append(empty_note("No bills. Anything the clinic charges appears here.", "no-bills"))
    for b in snap.bills[:100]:
        items.append(card([ft.Row([ft.Text(b.description, weight=ft.FontWeight.W_600, expand=True),
                                   ft.Text(money(b.patient_cents), weight=ft.FontWeight.W_600)]),
                           muted(f"{STATUS.get(b.status, b.status)} · due {long_date(b.due)}", 13)],
                          identifier=f"bill-{b.id}", on_click=lambda _e, i=b.id: state.nav.go("bill", i)))
    return screen(state, items)


def _plan(state: AppState, bill: Bill, choice: int, pick: Callable[[int], None]) -> ft.Control:
    if bill.payment_plan is not None:
        p = bill.payment_plan
        text = {"requested": "Payment plan requested — the clinic will confirm it.",
                "active": "Payment plan active.", "declined": "The payment plan was declined."}.get(p.status, p.status)
        return card([ft.Text(text, weight=ft.FontWeight.W_600), muted(f"{p.installments} instalments"
                                                                     + (f" · {p.note}" if p.note else ""))],
                    identifier="plan-status", tone="calm")
    chips = [tid(f"plan-{n}", ft.Chip(label=ft.Text(f"{n} months · {money(-(-bill.patient_cents // n))}/month"),
                                      selected=n == choice,
                                      on_select=lambda _e, n=n: pick(n))) for n in PLAN_CHOICES]
    return card([ft.Text("Spread the cost", weight=ft.FontWeight.W_600),
                 muted("Ask for a payment plan. The clinic confirms it; no phone call needed."),
                 ft.Row(chips, wrap=True, spacing=8, run_spacing=8),
                 button("ask-plan", "Ask for a payment plan",
                        lambda: act(state.bills.ask_payment_plan, bill.id, choice),
                        kind="tonal", icon="CALENDAR_MONTH")], identifier="plan")


@ft.component
def BillScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    use_observable(state.records)
    choice, set_choice = ft.use_state(PLAN_CHOICES[0])  # the plan length picked, before it is asked for
    bill = state.records.snapshot.bill(route.arg or "")
    if bill is None:
        return screen(state, [header(state, "Bill", back=True), empty_note("This bill is gone.")])
    lines = [_amount_row(line.description, line.cents) for line in bill.lines]
    summary = card([ft.Text(bill.description, size=18, weight=ft.FontWeight.W_600),
                    muted(f"{STATUS.get(bill.status, bill.status)} · due {long_date(bill.due)}"),
                    *lines, ft.Divider(),
                    _amount_row("Charges", bill.total_cents),
                    _amount_row("Insurance paid", bill.insurance_paid_cents),
                    _amount_row("Your part", bill.patient_cents, strong=True)], identifier="bill-summary")
    key = f"bill.question.{bill.id}"
    question = card([ft.Text("A question about this bill?", weight=ft.FontWeight.W_600),
                     field(state, key, "Your question", multiline=True, identifier="bill-question"),
                     button("send-bill-question", "Send to billing",
                            lambda: act(state.bills.ask_question, bill.id, shown_text(state, key)), kind="outlined",
                            icon="SEND")], identifier="billing-question")
    items: list[ft.Control] = [header(state, "Bill", back=True), *feedback(state), summary]
    if bill.status in ("open", "plan") and bill.patient_cents > 0:
        items.append(_plan(state, bill, choice, set_choice))
    items.append(question)
    return screen(state, items)
