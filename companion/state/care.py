"""Care intents, one small object per area: visits, prep, results, bills, messages.

    state.visits.confirm("apt_1")
    state.prep.tick("prep_1")
    state.messages.send("Is the clinic open on Saturday?")

Every intent queues a command for the clinic through the outbox
(:meth:`~.context.IntentContext.queue`): it works offline, shows its effect at once (a ticked
step, a confirmed visit, a message marked "queued"), and goes out at the next sync — immediately
when the live loop is connected. What a visit's state or a bill's plan allows is asked of the
core's rules (:mod:`companion.core.care_rules`, the server's own) before queueing, so a refusal
shows at once, offline too, instead of coming back from the clinic later. These objects hold no
state of their own: the records they change notify the screens that list them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..core.care_rules import bill_after_plan, visit_after
from ..core.errors import NotAllowed, RecordError
from ..core.models import Bill
from ..core.protocol import bill_of_thread, bill_thread
from ..core.references import bill_reference
from ..core.requests import MAX_REQUEST_NOTE, TIMES_OF_DAY, WEEKDAYS
from ..core.units import format_cents, instalment_cents
from ..i18n import N_, _, money, ngettext
from ..sync.outbox import queue_mutation
from .context import IntentContext
from .notices import intent

__all__ = ["REQUEST_KINDS", "BillQuestion", "Bills", "Messages", "Prep", "Results", "Visits", "kind_text",
           "question_subject"]

# sent to the clinic as written (the desk reads English); the request screen shows each in the patient's language
REQUEST_KINDS = (N_("STI screening"), N_("HIV test"), N_("Treatment"), N_("Counselling"), N_("Follow-up"),
                 N_("Vaccination"))


def kind_text(kind: str) -> str:
    """A visit's kind as the patient reads it: one of the request screen's kinds in their language,
    anything else the clinic wrote as written."""
    return _(kind) if kind in REQUEST_KINDS else kind


TREATMENT_NOTE = "Requested from a result's next steps."
TREATMENT_KEY = "results.treatment_requested"
PLAN_LENGTHS = (2, 3, 4, 6, 12)  # months a plan may run; the profile's minimum instalment picks among them


class Visits:
    """Appointments: request, confirm, cancel, e-check-in."""

    def __init__(self, ctx: IntentContext) -> None:
        self.ctx = ctx

    @intent
    def request(self, kind: str, note: str = "", days: Sequence[str] = (), times: Sequence[str] = ()) -> None:
        """Ask for a visit: what for, the weekdays and times of day that suit, a note.

        Shows under Visits as "Requested" at once (offline too); the clinic answers with a time.
        """
        if not kind.strip():
            raise RecordError("kind", _("choose what the visit is for"))
        if len(note.strip()) > MAX_REQUEST_NOTE:
            raise RecordError("note", _("please keep the note under %(n)s characters") % {"n": MAX_REQUEST_NOTE})
        payload: dict[str, object] = {"kind": kind.strip()}
        if note.strip():
            payload["note"] = note.strip()
        if days:  # in the week's order; anything else is left for the protocol's check to name
            payload["days"] = sorted(days, key=lambda d: WEEKDAYS.index(d) if d in WEEKDAYS else len(WEEKDAYS))
        if times:
            payload["times"] = sorted(times, key=lambda t: TIMES_OF_DAY.index(t) if t in TIMES_OF_DAY else 9)
        with self.ctx.drafts.taken("request.note"):
            self.ctx.queue("appointment.request", payload, _("Request sent to the clinic: they will offer you a time."))
        self._show("appointments")

    def _show(self, name: str, arg: str | None = None) -> None:
        toast = self.ctx.feedback.toast  # the news of the intent goes with the patient
        self.ctx.nav.go(name, arg)
        self.ctx.feedback.toast = toast

    def _allowed(self, appointment_id: str, action: str) -> None:
        """Raise NotAllowed when the visit rules refuse ``action`` on the appointment as this device sees it."""
        appt = self.ctx.records.snapshot.appointment(appointment_id)
        if appt is not None:  # not on the device: queue_mutation names the missing record
            visit_after(appt.status, action, "device", start=appt.start, minutes=appt.minutes, now=self.ctx.now(),
                        checkin_opens=self.ctx.services.profile.checkin_opens_minutes)

    @intent
    def confirm(self, appointment_id: str) -> None:
        self._allowed(appointment_id, "confirm")
        self.ctx.queue("appointment.confirm", {"appointment_id": appointment_id}, _("Appointment confirmed."))

    @intent
    def cancel(self, appointment_id: str, reason: str = "") -> None:
        self._allowed(appointment_id, "cancel")
        payload: dict[str, object] = {"appointment_id": appointment_id}
        if reason.strip():
            payload["reason"] = reason.strip()
        self.ctx.queue("appointment.cancel", payload, _("Appointment cancelled."))

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
        self.ctx.queue("checkin.submit", payload, _("You are checked in. Thank you!"))
        self._show("appointment", appointment_id)


class Prep:
    """Preparation steps: tick one done (or not), offline too."""

    def __init__(self, ctx: IntentContext) -> None:
        self.ctx = ctx

    @intent
    def tick(self, prep_id: str, done: bool = True) -> None:
        self.ctx.queue("prep.done", {"prep_id": prep_id, "done": done}, _("Saved."))
        self.ctx.feedback.toast = None  # the tick itself is the feedback


class Results:
    """Released results: acknowledge, and a positive one's first next step (the passcode re-ask is the session's)."""

    def __init__(self, ctx: IntentContext) -> None:
        self.ctx = ctx

    @intent
    def acknowledge(self, result_id: str) -> None:
        self.ctx.queue("result.ack", {"result_id": result_id}, _("Thanks — the clinic can see you have read it."))

    @intent
    def request_treatment(self, result_id: str) -> None:
        """One tap from a result's next steps: ask for a treatment appointment (once per result).

        When it was asked is kept on the device (vault meta ``results.treatment_requested``), so the
        next steps say what was already done and a second tap sends nothing."""
        if self.treatment_requested(result_id) is not None:
            raise NotAllowed(_("treatment was already requested for this result"))
        vault = self.ctx.records.require_vault()
        asked = dict(self._requested())
        asked[result_id] = self.ctx.now().isoformat()
        with vault.batch():  # the mark and the request in one vault write
            vault.meta.set(TREATMENT_KEY, asked)
            self.ctx.queue("appointment.request", {"kind": "Treatment", "note": TREATMENT_NOTE},
                           _("Treatment appointment requested. The clinic will offer you a time soon."))

    def _requested(self) -> dict[str, str]:
        vault = self.ctx.records.vault
        stored: Any = vault.meta.get(TREATMENT_KEY, {}) if vault is not None else {}
        return {k: v for k, v in stored.items() if isinstance(v, str)} if isinstance(stored, dict) else {}

    def treatment_requested(self, result_id: str) -> datetime | None:
        """When treatment was requested from this result's next steps on this device, if it was."""
        when = self._requested().get(result_id)
        try:
            return datetime.fromisoformat(when) if when else None
        except ValueError:
            return None


class Bills:
    """Bills: ask for a payment plan, ask the billing team a question about one bill."""

    def __init__(self, ctx: IntentContext) -> None:
        self.ctx = ctx

    def plan_choices(self, owed_cents: int) -> tuple[int, ...]:
        """The plan lengths (months) to offer for ``owed_cents``: each instalment at least the clinic
        profile's minimum (``[billing] min_instalment``), so a $45 bill is never 12 × $3.75."""
        least = self.ctx.services.profile.payment.min_instalment_cents
        return tuple(n for n in PLAN_LENGTHS if instalment_cents(owed_cents, n) >= least)

    @intent
    def ask_payment_plan(self, bill_id: str, installments: int, note: str = "") -> None:
        bill = self.ctx.records.snapshot.bill(bill_id)
        if bill is not None:
            bill_after_plan(bill.status, bill.payment_plan.status if bill.payment_plan else None, "requested",
                            "device", owed_cents=bill.patient_cents)
            if int(installments) not in self.plan_choices(bill.patient_cents):
                least = money(self.ctx.services.profile.payment.min_instalment_cents)
                raise NotAllowed(_("each instalment must be at least %(amount)s: choose fewer months")
                                 % {"amount": least})
        payload: dict[str, object] = {"bill_id": bill_id, "installments": int(installments)}
        if note.strip():
            payload["note"] = note.strip()
        done = ngettext("Payment plan of %(n)s instalment requested.", "Payment plan of %(n)s instalments requested.",
                        installments) % {"n": installments}
        self.ctx.queue("bill.plan_request", payload, done)

    def question_subject(self, bill_id: str) -> str:
        """The first line of a question about the bill (see :func:`question_subject`)."""
        bill = self.ctx.records.snapshot.bill(bill_id)
        return question_subject(bill) if bill is not None else f"About bill {bill_reference(bill_id)}: "

    @intent
    def ask_question(self, bill_id: str, question: str | None = None) -> None:
        """Open the bill's conversation with the composer started on the subject line; with
        ``question``, send it there at once (the subject line first).

        The question is a message in the bill's thread (:func:`companion.core.protocol.bill_thread`),
        sent like any other (queued offline); asking again continues the same conversation."""
        if question is not None and not question.strip():
            raise RecordError("question", _("type your question first"))
        bill = self.ctx.records.snapshot.bill(bill_id)
        if bill is None:
            raise RecordError("bill", _("this bill is not on this device any more"))
        key = bill_thread(bill_id)
        draft, subject = f"compose.{key}", question_subject(bill)
        if question is not None:
            body = question.strip() if question.strip().startswith(subject.strip()) else subject + question.strip()
            with self.ctx.drafts.taken(draft):
                self.ctx.queue("message.send", {"body": body, "thread": key}, _("Question sent to the billing team."))
            return
        if not self.ctx.drafts.draft(draft).strip():
            self.ctx.drafts.set_draft(draft, subject)
        self.ctx.nav.go("thread", key)

    def question(self, bill_id: str) -> BillQuestion | None:
        """Where the patient's question about the bill stands, if they asked one."""
        snap = self.ctx.records.snapshot
        thread = snap.thread(bill_thread(bill_id))
        asked = [m for m in thread.messages if m.author == "patient"] if thread else []
        if thread is None or not asked:
            return None
        last = asked[-1]
        answers = [m for m in thread.messages if m.author == "clinic" and m.sent_at >= asked[0].sent_at]
        return BillQuestion(thread=thread.key, asked_at=last.sent_at, state=snap.message_state(last),
                            answered_at=answers[-1].sent_at if answers else None)


def question_subject(bill: Bill) -> str:
    """The first line of a question about ``bill``: its payment reference, amount and due date —
    never what it was for (a bill's description can name a test)."""
    return (f"About bill {bill_reference(bill.id)} ({format_cents(bill.patient_cents, '$')}, "
            f"due {bill.due.day} {bill.due:%b %Y}): ")


@dataclass(frozen=True, slots=True)
class BillQuestion:
    """The patient's question about a bill: its thread, when last asked, ``sent | queued | not sent``,
    and when the clinic last answered (``None`` while waiting)."""

    thread: str
    asked_at: datetime
    state: str
    answered_at: datetime | None


class Messages:
    """Conversations with the clinic: send, open (marks the clinic's messages read)."""

    def __init__(self, ctx: IntentContext) -> None:
        self.ctx = ctx

    @intent
    def send(self, body: str, thread: str = "general") -> None:
        if not body.strip():
            raise RecordError("message", _("type a message first"))
        about = bill_of_thread(thread)
        if about is not None and body.strip() == Bills(self.ctx).question_subject(about).strip():
            raise RecordError("question", _("type your question after the bill's details"))
        with self.ctx.drafts.taken(f"compose.{thread}"):
            self.ctx.queue("message.send", {"body": body.strip(), "thread": thread}, _("Sent."))
        if self.ctx.sync.online:  # the bubble is the news (a toast would squeeze the thread it went into)
            self.ctx.feedback.toast = None

    @intent
    def open_thread(self, thread: str) -> None:
        """Open a conversation and mark the clinic's unread messages in it as read."""
        self.ctx.nav.go("thread", thread)
        self.mark_read(thread)

    def mark_read(self, thread: str) -> None:
        """Mark the clinic's unread messages in ``thread`` read (the open thread calls it for those
        that arrive while it is shown); nothing to do, nothing written."""
        ctx = self.ctx
        found = ctx.records.snapshot.thread(thread)
        if found is None:
            return
        unread = [m for m in found.messages if m.author == "clinic" and m.read_at is None]
        if not unread:
            return
        vault = ctx.records.require_vault()
        with vault.batch():  # one vault write for all of them
            for message in unread:
                queue_mutation(vault, "message.read", {"message_id": message.id}, now=ctx.now())
        ctx.records.refresh()
        ctx.host.nudge()
