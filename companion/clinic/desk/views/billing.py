"""A billing question as the desk answers it, under its inbox row.

``BillingAnswer`` shows the bill (payment reference, amount, due date, what for), the patient's
question in full, and an answer field. Send answer replies in the bill's conversation and the
server closes the item (:meth:`~companion.clinic.desk.state.inbox.Inbox.answer`); the patient's app
gets the answer at its next sync and the bill links to it. "Open patient page at the bill" shows
the patient's page with that bill highlighted (:meth:`~companion.clinic.desk.state.inbox.Inbox.open_bill`).
"""

from __future__ import annotations

from typing import Any

import flet as ft

from ....core.references import bill_reference
from ....core.units import format_cents
from ..state import DeskState
from ..state.timefmt import day_text
from .common import BODY, button, field, handler, narrow, tid

__all__ = ["BillingAnswer", "bill_summary"]


def bill_summary(detail: dict[str, Any]) -> str:
    """``BIL-4K7Q-2MXR $45.00`` for a billing item (the reference computed again if the item has none)."""
    reference = detail.get("reference") or (bill_reference(str(detail["bill_id"])) if detail.get("bill_id")
                                            else "a bill")
    amount = detail.get("amount_cents")
    return f"{reference} {format_cents(amount, '$')}" if isinstance(amount, int) else str(reference)


@ft.component
def BillingAnswer(desk: DeskState, item: dict[str, Any]) -> ft.Control:
    item_id, d = item["id"], item["detail"]
    asked = int(d.get("questions") or 1)
    lead = f"Latest of {asked} questions: " if asked > 1 else "Question: "
    phone = narrow(desk)
    parts: list[ft.Control] = [
        tid(f"billing-bill-{item_id}", ft.Text(
            f"Bill {bill_summary(d)} · due {day_text(d.get('due')) or '?'} · {d.get('description') or ''}", size=BODY,
            weight=ft.FontWeight.W_600)),
        tid(f"billing-question-{item_id}", ft.Text(lead + str(d.get("body", "")), size=BODY)),
        field(desk.drafts, f"answer.{item_id}", "Answer the patient", multiline=True, width=None if phone else 640,
              identifier=f"answer-{item_id}"),
        ft.Row([button(f"send-answer-{item_id}", "Send answer", handler(desk.inbox.answer, item_id),
                       icon=ft.Icons.SEND),
                button(f"open-bill-{item_id}", "Open patient page at the bill",
                       handler(desk.inbox.open_bill, item_id), kind="outlined", icon=ft.Icons.RECEIPT_LONG)],
               wrap=True, spacing=8, run_spacing=8)]
    return tid(f"billing-answer-{item_id}", ft.Container(
        ft.Column(parts, spacing=8), padding=ft.Padding.only(left=8 if phone else 34, right=8 if phone else 12,
                                                             bottom=10)))
