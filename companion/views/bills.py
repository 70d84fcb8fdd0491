"""Bills: list and detail (charges, insurance paid, your part, due date), payment plan, billing question."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import flet as ft

from ..core.models import Bill
from ..core.references import bill_reference
from ..core.units import instalment_cents
from ..i18n import N_, _
from ..state import AppState, Route
from ..state.formatting import day_and_time, long_date, money
from ..ui.kit import act, use_observable
from .common import button, card, empty_note, feedback, header, muted, screen, tid

__all__ = ["BillScreen", "BillsScreen"]

STATUS = {"open": N_("To pay"), "paid": N_("Paid"), "plan": N_("On a payment plan"), "void": N_("Cancelled")}


def _instalment(bill: Bill, months: int) -> str:
    return f"{months} × {money(instalment_cents(bill.patient_cents, months))}"


def bill_status(bill: Bill) -> str:
    """What the bill's line says: a requested or agreed plan, not "To pay" while one is asked for."""
    plan = bill.payment_plan
    if plan is not None and bill.status in ("open", "plan"):
        if plan.status == "requested":
            return _("Payment plan requested (%(plan)s)") % {"plan": _instalment(bill, plan.installments)}
        if plan.status == "active":
            return _("Payment plan: %(plan)s a month") % {"plan": _instalment(bill, plan.installments)}
    return _(STATUS[bill.status]) if bill.status in STATUS else bill.status


def _amount_row(label: str, cents: int, strong: bool = False) -> ft.Control:
    weight = ft.FontWeight.W_700 if strong else None
    return ft.Row([ft.Text(label, expand=True, weight=weight), ft.Text(money(cents), weight=weight)])


def _open(state: AppState, bill_id: str) -> None:
    """Open a bill from the list, only while the list is the screen shown. In the browser a tap that
    changed the screen was seen to arrive a second time on another control (Flutter web's late
    click, sent to a semantics node that now belongs to someone else): Send in the bill's
    conversation then opened the bill from the list beneath. A covered list must not move the patient."""
    if state.nav.route.name == "bills":
        state.nav.go("bill", bill_id)


@ft.component
def BillsScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    use_observable(state.records)
    snap = state.records.snapshot
    items: list[ft.Control] = [header(state, _("Bills")), *feedback(state)]
    if snap.balance_cents:
        items.append(card([muted(_("Your part, in total"), 13),
                           ft.Text(money(snap.balance_cents), size=28, weight=ft.FontWeight.W_700)],
                          identifier="balance", tone="info"))
    if not snap.bills:
        items.append(empty_note(_("No bills. Anything the clinic charges appears here."), "no-bills"))
    for b in snap.bills[:100]:
        items.append(card([ft.Row([ft.Text(b.description, weight=ft.FontWeight.W_600, expand=True),
                                   ft.Text(money(b.patient_cents), weight=ft.FontWeight.W_600)]),
                           muted(_("%(status)s · due %(date)s") % {"status": bill_status(b), "date": long_date(b.due)},
                                 13)],
                          identifier=f"bill-{b.id}", on_click=lambda _e, i=b.id: _open(state, i)))
    return screen(state, items)


def _plan(state: AppState, bill: Bill, choice: int | None, pick: Callable[[int], None]) -> ft.Control:
    p = bill.payment_plan
    if p is not None and p.status != "declined":
        text = {"requested": _("Payment plan requested — the clinic will confirm it."),
                "active": _("Payment plan agreed.")}.get(p.status, p.status)
        return card([ft.Text(text, weight=ft.FontWeight.W_600),
                     muted(_("%(plan)s a month") % {"plan": _instalment(bill, p.installments)}
                           + (f" · {p.note}" if p.note else ""))],
                    identifier="plan-status", tone="calm")
    lengths = state.bills.plan_choices(bill.patient_cents)
    least = money(state.services.profile.payment.min_instalment_cents)
    declined = [muted(_("The clinic declined the last plan you asked for. You can ask for another, or message "
                        "billing below."), 13)] if p is not None else []
    if not lengths:
        return card([ft.Text(_("Spread the cost"), weight=ft.FontWeight.W_600), *declined,
                     muted(_("Payment plans start at %(amount)s a month, so this bill is paid in one go. "
                             "Ask billing below if that is hard.") % {"amount": least})], identifier="plan")
    choice = choice if choice in lengths else lengths[0]
    chips = [tid(f"plan-{n}", ft.Chip(label=ft.Text(_("%(n)s months · %(amount)s/month") % {
                                          "n": n, "amount": money(instalment_cents(bill.patient_cents, n))}),
                                      selected=n == choice,
                                      on_select=lambda _e, n=n: pick(n))) for n in lengths]
    return card([ft.Text(_("Spread the cost"), weight=ft.FontWeight.W_600), *declined,
                 muted(_("Ask for a payment plan (at least %(amount)s a month). The clinic confirms it; "
                         "no phone call needed.") % {"amount": least}),
                 ft.Row(chips, wrap=True, spacing=8, run_spacing=8),
                 button("ask-plan", _("Ask for a payment plan"),
                        lambda: act(state.bills.ask_payment_plan, bill.id, choice),
                        kind="tonal", icon="CALENDAR_MONTH")], identifier="plan")


def _how_to_pay(state: AppState, bill: Bill) -> ft.Control:
    """How to pay, from the clinic profile ([billing]): a link carrying the bill's reference, a phone, the desk."""
    pay = state.services.profile.payment
    reference = bill_reference(bill.id)
    rows: list[ft.Control] = [ft.Text(_("How to pay"), weight=ft.FontWeight.W_600),
                              tid("pay-reference",
                                  ft.Text(_("Your reference: %(reference)s") % {"reference": reference}, size=15))]
    link = pay.link_for(reference)
    if link:
        pay_online = _("Pay %(amount)s online") % {"amount": money(bill.patient_cents)}
        rows.append(tid("pay-online", ft.FilledButton(pay_online,
                                                      icon=ft.Icons.OPEN_IN_NEW, url=link, height=48)))
    phone = pay.phone or state.services.profile.phone
    if phone:
        rows.append(ft.Row([ft.Icon(ft.Icons.PHONE_OUTLINED, size=18),
                            ft.Text(_("By phone: %(phone)s (have your reference ready)") % {"phone": phone},
                                    expand=True)]))
    if pay.in_person:
        rows.append(ft.Row([ft.Icon(ft.Icons.STOREFRONT_OUTLINED, size=18),
                            ft.Text(_("In person at the front desk"), expand=True)]))
    return card(rows, identifier="how-to-pay")


def _question(state: AppState, bill: Bill) -> ft.Control:
    """Ask billing about this bill (in the bill's own conversation), or where the question stands."""
    asked = state.bills.question(bill.id)
    ask = button("ask-bill-question", _("Question about this bill"), lambda: act(state.bills.ask_question, bill.id),
                 kind="outlined", icon="HELP_OUTLINE")
    if asked is None:
        return card([ft.Text(_("Something not right?"), weight=ft.FontWeight.W_600),
                     muted(_("Ask the billing team about this bill, or dispute a charge. They answer in Messages."),
                           13),
                     ask], identifier="billing-question")
    tz, now = state.services.tz, state.now()
    status = {"queued": _("Question saved · sending… (goes out when you are online)"),
              "not sent": _("Question not sent: open the conversation to see why")}.get(
        asked.state, _("Question sent · %(when)s") % {"when": day_and_time(asked.asked_at, tz, now)})
    lines: list[ft.Control] = [tid("bill-question-status", ft.Text(status, weight=ft.FontWeight.W_600))]
    if asked.answered_at is not None:
        lines.append(tid("bill-question-answered", muted(
            _("Billing answered · %(when)s") % {"when": day_and_time(asked.answered_at, tz, now)}, 13)))
    elif asked.state == "sent":
        lines.append(muted(_("The billing team will answer in Messages."), 13))
    lines.append(button("open-bill-thread", _("Open the conversation"),
                        lambda: act(state.messages.open_thread, asked.thread), kind="tonal", icon="FORUM"))
    return card(lines, identifier="billing-question", tone="calm")


@ft.component
def BillScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    use_observable(state.records)
    choice, set_choice = ft.use_state(cast(int | None, None))  # the plan length picked, before it is asked for
    bill = state.records.snapshot.bill(route.arg or "")
    if bill is None:
        return screen(state, [header(state, _("Bill"), back=True), empty_note(_("This bill is gone."))])
    lines = [_amount_row(line.description, line.cents) for line in bill.lines]
    summary = card([ft.Text(bill.description, size=18, weight=ft.FontWeight.W_600),
                    muted(_("%(status)s · due %(date)s") % {"status": bill_status(bill), "date": long_date(bill.due)}),
                    muted(_("Reference %(reference)s") % {"reference": bill_reference(bill.id)}, 13),
                    *lines, ft.Divider(),
                    _amount_row(_("Charges"), bill.total_cents),
                    _amount_row(_("Insurance paid"), bill.insurance_paid_cents),
                    _amount_row(_("Your part"), bill.patient_cents, strong=True)], identifier="bill-summary")
    question = _question(state, bill)
    items: list[ft.Control] = [header(state, _("Bill"), back=True), *feedback(state), summary]
    if bill.status in ("open", "plan") and bill.patient_cents > 0:
        items.append(_how_to_pay(state, bill))
        items.append(_plan(state, bill, choice, set_choice))
    items.append(question)
    return screen(state, items)
