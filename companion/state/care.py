"""Care intents: what the patient does with appointments, prep, results, bills and messages.

Every intent queues a command for the clinic through the outbox
(:func:`companion.sync.outbox.queue_mutation`): it works offline, shows its
effect at once (a ticked step, a confirmed visit, a message marked "queued"),
and goes out at the next sync — immediately when the live loop is connected.
What a visit's state or a bill's plan allows is asked of the core's rules
(:mod:`companion.core.care_rules`, the server's own) before queueing, so a refusal
shows at once, offline too, instead of coming back from the clinic later.
"""

from __future__ import annotations

from ..core.care_rules import bill_after_plan, visit_after
from ..core.errors import RecordError
from ..sync.outbox import queue_mutation
from .core import Route, StateCore, intent

__all__ = ["CareIntents", "REQUEST_KINDS"]

REQUEST_KINDS = ("STI screening", "HIV test", "Treatment", "Counselling", "Follow-up", "Vaccination")
TREATMENT_NOTE = "Requested from a result's next steps."


class CareIntents(StateCore):
    """Intents of the care screens (see module docstring)."""

    # --- appointments ----------------------------------------------------------------

    @intent
    def request_appointment(self, kind: str, note: str = "") -> None:
        if not kind.strip():
            raise RecordError("kind", "choose what the visit is for")
        payload: dict[str, object] = {"kind": kind.strip()}
        if note.strip():
            payload["note"] = note.strip()
        self.queue("appointment.request", payload, "Request sent to the clinic: they will offer you a time.")
        self.drafts.pop("request.note", None)
        self.route = Route("appointments")

    def _allowed(self, appointment_id: str, action: str) -> None:
        """Raise NotAllowed when the visit rules refuse ``action`` on the appointment as this device sees it."""
        appt = self.snapshot.appointment(appointment_id)
        if appt is not None:  # not on the device: queue_mutation names the missing record
            visit_after(appt.status, action, "device", start=appt.start, minutes=appt.minutes, now=self.now())

    @intent
    def confirm_appointment(self, appointment_id: str) -> None:
        self._allowed(appointment_id, "confirm")
        self.queue("appointment.confirm", {"appointment_id": appointment_id}, "Appointment confirmed.")

    @intent
    def cancel_appointment(self, appointment_id: str, reason: str = "") -> None:
        self._allowed(appointment_id, "cancel")
        payload: dict[str, object] = {"appointment_id": appointment_id}
        if reason.strip():
            payload["reason"] = reason.strip()
        self.queue("appointment.cancel", payload, "Appointment cancelled.")

    @intent
    def check_in(self, appointment_id: str, phone: str, email: str, payer: str, member_id: str) -> None:
        """e-check-in: the patient confirms contact and insurance details."""
        self._allowed(appointment_id, "check_in")
        payload: dict[str, object] = {"appointment_id": appointment_id}
        if phone.strip():
            payload["phone"] = phone.strip()
        if email.strip():
            payload["email"] = email.strip()
        if payer.strip() or member_id.strip():
            payload["insurance"] = {"payer": payer.strip() or None, "member_id": member_id.strip() or None}
        self.queue("checkin.submit", payload, "You are checked in. Thank you!")
        self.route = Route("appointment", appointment_id)

    # --- prep --------------------------------------------------------------------------

    @intent
    def tick_prep(self, prep_id: str, done: bool = True) -> None:
        """Tick (or untick) a prep step; works offline."""
        self.queue("prep.done", {"prep_id": prep_id, "done": done}, "Saved.")
        self.toast = None  # the tick itself is the feedback

    # --- results -----------------------------------------------------------------------

    @intent
    def acknowledge_result(self, result_id: str) -> None:
        self.queue("result.ack", {"result_id": result_id}, "Thanks — the clinic can see you have read it.")

    @intent
    def request_treatment(self, result_id: str) -> None:
        """One tap from a result's next steps: ask for a treatment appointment."""
        self.queue("appointment.request", {"kind": "Treatment", "note": TREATMENT_NOTE},
                   "Treatment appointment requested. The clinic will offer you a time soon.")

    # --- bills -------------------------------------------------------------------------

    @intent
    def ask_payment_plan(self, bill_id: str, installments: int, note: str = "") -> None:
        bill = self.snapshot.bill(bill_id)
        if bill is not None:
            bill_after_plan(bill.status, bill.payment_plan.status if bill.payment_plan else None, "requested",
                            "device", owed_cents=bill.patient_cents)
        payload: dict[str, object] = {"bill_id": bill_id, "installments": int(installments)}
        if note.strip():
            payload["note"] = note.strip()
        self.queue("bill.plan_request", payload, f"Payment plan of {installments} instalments requested.")

    @intent
    def ask_billing_question(self, bill_id: str, question: str) -> None:
        """A billing question becomes a message in the Billing thread."""
        if not question.strip():
            raise RecordError("question", "type your question first")
        bill = self.snapshot.bill(bill_id)
        about = f"About my bill “{bill.description}” due {bill.due:%d %b %Y}: " if bill else ""
        self.queue("message.send", {"body": about + question.strip(), "thread": "billing"},
                   "Question sent to the billing team.")
        self.drafts.pop(f"bill.question.{bill_id}", None)

    # --- messages ----------------------------------------------------------------------

    @intent
    def send_message(self, body: str, thread: str = "general") -> None:
        if not body.strip():
            raise RecordError("message", "type a message first")
        self.queue("message.send", {"body": body.strip(), "thread": thread}, "Sent.")
        self.drafts.pop(f"compose.{thread}", None)

    @intent
    def open_thread(self, thread: str) -> None:
        """Open a conversation and mark the clinic's unread messages in it as read."""
        self.go("thread", thread)
        found = self.snapshot.thread(thread)
        if found is None:
            return
        unread = [m for m in found.messages if m.author == "clinic" and m.read_at is None]
        if not unread:
            return
        vault = self.require_vault()
        with vault.batch():  # one vault write for all of them
            for message in unread:
                queue_mutation(vault, "message.read", {"message_id": message.id}, now=self.now())
        self.refresh()
        self.host.nudge()
