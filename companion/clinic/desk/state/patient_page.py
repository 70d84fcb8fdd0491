"""Patient search and the open patient page with its intents: profile, insurance, phones, appointments,
bills, results, messages.

``PatientSearch.results`` are the patients matching the ``search`` draft (name, phone, email or
id; an empty query lists recent patients); adding a patient opens their page at once.

``OpenPatient.page`` is what the page shows (a :class:`PatientPage`), loaded in one go by
:meth:`OpenPatient.open` (sections the role may not read — phones for a clinician — stay empty).
Each intent changes one thing through the staff API, then reloads the page, so what the desk shows
is what the server holds, and the patient's device receives the change through its feed.

Rules are the core's, asked here as the server asks them: whether a payment plan may be recorded
on a bill is :func:`companion.core.care_rules.bill_after_plan` (:func:`plan_changes`), whether a
past visit may be marked attended or missed is :func:`companion.core.care_rules.offers`
(:func:`past_marks`), and money typed at the desk is read by
:func:`companion.core.units.parse_cents` only.

Booking (drafts ``book.*``) starts from the clinic profile the server holds: the place and the
default provider are prefilled (``DeskClock.site``); the length is one of
:data:`~companion.core.clinic_profile.MINUTE_CHOICES` or a number typed, checked by
:func:`visit_minutes` (``"45"`` and ``"45 min"`` book 45; ``"soon"`` is refused in one line,
never booked as 30). Cancelling a visit takes two taps: the first asks (``confirming``), the
second cancels.

Only the patient page subscribes to :class:`OpenPatient`: the inbox poll never redraws it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ....core.care_rules import bill_after_plan, offers
from ....core.errors import NotAllowed, StaffApiError
from ....core.models import MAX_INSTALLMENTS
from ....core.observable import Observable
from ....core.units import parse_cents
from .feedback import Drafts
from .navigation import Navigation, Route
from .session import Session
from .templates import template
from .timefmt import DeskClock, local, parse_local

__all__ = ["NEW_PATIENT_FIELDS", "PAST_MARKS", "OpenPatient", "PatientPage", "PatientSearch", "past_marks",
           "plan_changes", "visit_minutes"]

NEW_PATIENT_FIELDS = ("name", "phone", "email", "dob")  # drafts new.<field>
PAST_MARKS = {"completed": ("complete", "Attended"), "no_show": ("no_show", "Missed")}  # status -> action, button
_MINUTES = re.compile(r"^(\d{1,3})\s*(m|min|mins|minutes)?\.?$", re.IGNORECASE)


def visit_minutes(text: str) -> int:
    """How long a visit takes, typed at the desk: ``"45"`` or ``"45 min"``; one-line error otherwise."""
    match = _MINUTES.match(text.strip())
    minutes = int(match.group(1)) if match else 0
    if not 5 <= minutes <= 480:
        raise StaffApiError(422, "Minutes: type how long the visit takes, from 5 to 480, for example 45.")
    return minutes


def past_marks(appointment: dict[str, Any], now: datetime) -> list[str]:
    """What a visit that has begun may be marked now (``completed``, ``no_show``): the core's rule."""
    start = local(appointment.get("start"), UTC)
    if start is None or now < start:
        return []
    return [status for status, (action, _label) in PAST_MARKS.items()
            if offers(appointment["status"], action, "staff", start=start, minutes=int(appointment["minutes"]),
                      now=now)]


@dataclass
class PatientPage:
    profile: dict[str, Any]
    appointments: list[dict[str, Any]] = field(default_factory=list)
    prep: list[dict[str, Any]] = field(default_factory=list)
    bills: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)   # oldest first
    devices: list[dict[str, Any]] = field(default_factory=list)
    pairing: dict[str, Any] | None = None                         # the code just issued, shown large

    @property
    def id(self) -> str:
        return str(self.profile["id"])

    def prep_for(self, appointment_id: str) -> list[dict[str, Any]]:
        return [p for p in self.prep if p.get("appointment_id") == appointment_id]


def plan_changes(bill: dict[str, Any], plan: str) -> bool:
    """Whether the clinic may record ``plan`` on ``bill`` and it would change something (the core's rule)."""
    current = (bill.get("payment_plan") or {}).get("status")
    try:
        after = bill_after_plan(bill["status"], current, plan, "staff", owed_cents=int(bill["patient_cents"]))
    except NotAllowed:
        return False
    return after != bill["status"] or current != plan


def _whole(text: str, default: int) -> int:
    try:
        return int(text.strip())
    except ValueError:
        return default


class OpenPatient(Observable):
    def __init__(self, session: Session, drafts: Drafts, clock: DeskClock, navigation: Navigation) -> None:
        super().__init__()
        self.session, self.api, self.drafts = session, session.api, drafts
        self.clock, self.navigation = clock, navigation
        self.page: PatientPage | None = None
        self.confirming: str | None = None  # the visit whose "Cancel this visit?" is showing

    def forget(self) -> None:
        self.page, self.confirming = None, None

    def _error(self, text: str) -> None:
        self.session.feedback.say(error=text)

    # -- the page ------------------------------------------------------------------------------------
    def open(self, patient_id: str, *, keep_toast: bool = False) -> None:
        """Load the patient's page and show it (the pairing code stays if it is this patient's)."""
        toast = self.session.feedback.toast if keep_toast else None
        api = self.api

        def load() -> PatientPage:
            page = PatientPage(profile=api.get_patient(patient_id))
            page.appointments = sorted(api.appointments(patient_id), key=lambda a: a["start"], reverse=True)
            page.prep = api.prep(patient_id)
            page.bills = api.bills(patient_id)
            page.results = api.results(patient_id)
            page.messages = sorted(api.messages(patient_id, limit=200), key=lambda m: m["sent_at"])
            if self.session.can("devices"):
                page.devices = api.devices(patient_id)
            if self.page is not None and self.page.id == patient_id:
                page.pairing = self.page.pairing
            return page

        page = self.session.attempt(load)
        if page is not None:
            self.page = page
            self.notify()
            self.navigation.show(Route("patient", patient_id))
            if toast:
                self.session.feedback.say(toast=toast)

    def _change(self, fn: Callable[[], Any], done: str, *, clears: tuple[str, ...] = ()) -> bool:
        """Run one change for the open patient, then reload the page (see module docstring).

        Once the server took it, the drafts in ``clears`` go: the reloaded page shows those fields empty.
        """
        if self.page is None:
            return False
        self.session.attempt(fn)
        if self.session.feedback.error or not self.session.signed_in or self.page is None:
            return False
        self.drafts.pop(*clears)
        self.open(self.page.id)
        self.session.feedback.say(toast=done)
        return True

    @property
    def _pid(self) -> str:
        return self.page.id if self.page else ""

    # -- profile, insurance, phones ------------------------------------------------------------------
    def verify_insurance(self, status: str) -> None:
        pid, note = self._pid, self.drafts.text("insurance.note") or None
        self._change(lambda: self.api.verify_insurance(pid, status, note),
                     "Insurance marked verified." if status == "verified" else "Insurance marked rejected.",
                     clears=("insurance.note",))

    def set_prep_test_due(self, clear: bool = False, in_days: int | None = None) -> None:
        """The next PrEP test date from the field ``prep.test_due`` (YYYY-MM-DD), ``in_days`` from
        today (91: the 3-monthly test), or none with ``clear``."""
        pid = self._pid
        if in_days is not None:
            self.drafts.set_draft("prep.test_due", (self.clock.today() + timedelta(days=in_days)).isoformat())
        due = None if clear else (self.drafts.text("prep.test_due") or "").strip()
        if due is not None:
            try:
                date.fromisoformat(due)
            except ValueError:
                self._error("Write the next PrEP test as a date, YYYY-MM-DD.")
                return
        done = "PrEP test date cleared." if due is None else "PrEP test date saved: the patient's app reminds them."
        self._change(lambda: self.api.set_prep_test_due(pid, due), done, clears=("prep.test_due",))

    def new_pairing_code(self) -> None:
        if self.page is None:
            return
        pid = self.page.id
        code = self.session.attempt(lambda: self.api.pairing_code(pid))
        if code is not None and self.page is not None and self.page.id == pid:
            self.page.pairing = code
            self.notify()
            self.session.feedback.say(toast="Pairing code ready: the patient scans it or types it in the app.")

    def revoke_device(self, device_id: str) -> None:
        self._change(lambda: self.api.revoke_device(device_id), "Device revoked: it can no longer sync.")

    # -- appointments --------------------------------------------------------------------------------
    def booking_defaults(self) -> None:
        """Prefill the booking form from the clinic profile (a field the PSR changed stays as typed)."""
        plan, drafts = self.clock.site.schedule, self.drafts.drafts
        drafts.setdefault("book.date", self.clock.today().isoformat())
        drafts.setdefault("book.minutes", str(plan.slot_minutes))
        drafts.setdefault("book.location", plan.place or "")
        drafts.setdefault("book.provider", plan.provider or "")

    def book_appointment(self) -> None:
        pid, text = self._pid, self.drafts.text

        def book() -> dict[str, Any]:
            start = parse_local(self.drafts.draft("book.date"), self.drafts.draft("book.time"), self.clock.tz)
            minutes = visit_minutes(self.drafts.draft("book.minutes", str(self.clock.site.schedule.slot_minutes)))
            kind = text("book.kind") or "STI screening"
            made = self.api.add_appointment(pid, start=start.isoformat(), minutes=minutes, kind=kind,
                                            location=text("book.location") or None,
                                            provider=text("book.provider") or None)
            chosen = template(self.drafts.draft("book.template"))
            if chosen is not None:
                self.api.add_prep(made["id"], chosen.title, chosen.body, chosen.before_minutes)
            return made

        self._change(book, "Appointment booked. The patient's app gets it at the next sync.",
                     clears=("book.date", "book.time", "book.template", "book.location", "book.provider",
                             "book.minutes"))

    def reschedule(self, appointment_id: str) -> None:
        key = f"move.{appointment_id}"

        def move() -> dict[str, Any]:
            start = parse_local(self.drafts.draft(f"{key}.date"), self.drafts.draft(f"{key}.time"), self.clock.tz)
            return self.api.update_appointment(appointment_id, start=start.isoformat(), status="scheduled")

        self._change(move, "Appointment moved. The patient is told at the next sync.",
                     clears=(f"{key}.date", f"{key}.time"))

    def cancel_appointment(self, appointment_id: str) -> None:
        """The first tap asks "Cancel this visit?" (``confirming``); the second, on the same visit, cancels."""
        if self.confirming != appointment_id:
            self.confirming = appointment_id
            self.notify()
            return
        self.confirming = None
        self._change(lambda: self.api.cancel_appointment(appointment_id, None), "Appointment cancelled.")

    def keep_appointment(self) -> None:
        """The PSR answered "Keep it": nothing is cancelled."""
        if self.confirming is not None:
            self.confirming = None
            self.notify()

    def mark_visit(self, appointment_id: str, status: str) -> None:
        """A visit that has begun was attended (``completed``) or missed (``no_show``); audited on the server."""
        word = PAST_MARKS[status][1] if status in PAST_MARKS else status
        self._change(lambda: self.api.update_appointment(appointment_id, status=status),
                     f"Marked {word.lower()}. The patient's app shows it at the next sync.")

    # -- bills ---------------------------------------------------------------------------------------
    def add_bill(self) -> None:
        pid = self._pid

        def create() -> dict[str, Any]:
            amount = parse_cents(self.drafts.draft("bill.amount"), "Amount")
            due = self.drafts.text("bill.due") or (self.clock.today() + timedelta(days=30)).isoformat()
            what = self.drafts.text("bill.description") or "Clinic visit"
            return self.api.add_bill(pid, amount_cents=amount, due=due, description=what)

        self._change(create, "Bill added.", clears=("bill.amount", "bill.due", "bill.description"))

    def set_payment_plan(self, bill_id: str, status: str) -> None:
        """Record (``active``) or decline a payment plan: the core's rule decides first, as on the server."""
        bill = next((b for b in self.page.bills if b["id"] == bill_id), None) if self.page else None
        if bill is None:
            return
        current = (bill.get("payment_plan") or {}).get("status")
        try:
            bill_after_plan(bill["status"], current, status, "staff", owed_cents=int(bill["patient_cents"]))
        except NotAllowed as exc:  # worded as the server's 409 for the same rule would be
            self._error(self.api.refused(409, "conflict", str(exc), 0))
            return
        raw = self.drafts.text(f"plan.{bill_id}") or "3"
        installments = _whole(raw, 0)
        if not 1 <= installments <= MAX_INSTALLMENTS:
            self._error(f"Instalments: type a number from 1 to {MAX_INSTALLMENTS}.")
            return
        word = {"active": "Payment plan recorded", "declined": "Payment plan declined"}.get(status, "Plan saved")
        self._change(lambda: self.api.set_payment_plan(bill_id, status, installments, None), f"{word}.")

    # -- results ---------------------------------------------------------------------------------------
    def add_result(self) -> None:
        pid, test = self._pid, self.drafts.text("result.test")
        if not test:
            self._error("Test: type the test's name.")
            return
        interpretation = self.drafts.draft("result.interpretation", "negative") or "negative"
        sensitive = self.drafts.draft("result.sensitive", "yes") == "yes"
        note = self.drafts.text("result.note") or None
        visit_id = self.drafts.draft(f"result.visit.{pid}", "")  # the visit the sample was taken at, dating it
        visit = next((a for a in self.page.appointments if a["id"] == visit_id), None) if self.page else None
        start = local(visit["start"], self.clock.tz) if visit else None
        sampled = {"appointment_id": visit_id, "sample_taken": start.date().isoformat()} if start else {}
        self._change(lambda: self.api.add_result(pid, test=test, interpretation=interpretation, note=note,
                                                 sensitive=sensitive, **sampled),
                     "Result saved and held: the patient sees it only after release.",
                     clears=("result.test", "result.note"))

    def release_result(self, result_id: str) -> None:
        self._change(lambda: self.api.release_result(result_id), "Result released to the patient's app.")

    # -- messages --------------------------------------------------------------------------------------
    def reply(self) -> None:
        body = self.drafts.text("reply")
        if not body or self.page is None:
            self._error("Type a message first.")
            return
        pid = self.page.id
        self._change(lambda: self.api.send_message(pid, body), "Message sent.", clears=("reply",))


class PatientSearch(Observable):
    def __init__(self, session: Session, drafts: Drafts, patient: OpenPatient) -> None:
        super().__init__()
        self.session, self.drafts, self.patient = session, drafts, patient
        self.results: list[dict[str, Any]] = []

    def forget(self) -> None:
        self.results = []

    def search(self) -> None:
        query = self.drafts.text("search")
        found = self.session.attempt(lambda: self.session.api.list_patients(query, limit=30)["patients"])
        if found is not None:
            self.results = found
            self.notify()

    def load(self) -> None:
        """What opening the screen does: list recent patients unless a search is already shown."""
        if not self.results:
            self.search()

    def add_patient(self) -> None:
        name = self.drafts.text("new.name")
        if not name:
            self.session.feedback.say(error="Name: type the patient's name.")
            return
        fields: dict[str, Any] = {key: self.drafts.text(f"new.{key}") for key in NEW_PATIENT_FIELDS
                                  if self.drafts.text(f"new.{key}")}
        made = self.session.attempt(lambda: self.session.api.add_patient(**fields), done="Patient added.")
        if made:
            self.drafts.pop(*(f"new.{key}" for key in NEW_PATIENT_FIELDS))
            self.notify()
            self.patient.open(made["id"], keep_toast=True)
