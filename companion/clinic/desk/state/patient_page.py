"""Patient search and the patient page: profile, insurance, devices, appointments, bills, results, messages.

``PatientPage`` is what the page shows, loaded in one go by :meth:`PatientIntents.open_patient`
(sections the role may not read — devices for a clinician — stay empty). Each intent changes one
thing through the staff API, then reloads the page, so what the desk shows is what the server
holds, and the patient's device receives the change through its feed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ....core.units import parse_cents
from .core import DeskCore, Route
from .templates import template
from .timefmt import parse_local

__all__ = ["PatientIntents", "PatientPage"]


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


def _whole(text: str, default: int) -> int:
    try:
        return int(text.strip())
    except ValueError:
        return default


class PatientIntents(DeskCore):
    search_results: list[dict[str, Any]]
    patient: PatientPage | None

    # -- search ------------------------------------------------------------------------------------
    def search(self) -> None:
        query = self.draft("search").strip()
        found = self.attempt(lambda: self.api.list_patients(query, limit=30)["patients"])
        if found is not None:
            self.search_results = found
            self.notify()

    def add_patient(self) -> None:
        name = self.draft("new.name").strip()
        if not name:
            self.error = "Name: type the patient's name."
            self.notify()
            return
        fields: dict[str, Any] = {"name": name}
        for key in ("phone", "email", "dob"):
            if self.draft(f"new.{key}").strip():
                fields[key] = self.draft(f"new.{key}").strip()
        made = self.attempt(lambda: self.api.add_patient(**fields), done="Patient added.")
        if made:
            for key in ("name", "phone", "email", "dob"):
                self.drafts.pop(f"new.{key}", None)
            self.open_patient(made["id"], keep_toast=True)

    # -- the page ------------------------------------------------------------------------------------
    def open_patient(self, patient_id: str, *, keep_toast: bool = False) -> None:
        toast = self.toast if keep_toast else None

        def load() -> PatientPage:
            page = PatientPage(profile=self.api.get_patient(patient_id))
            page.appointments = sorted(self.api.appointments(patient_id), key=lambda a: a["start"], reverse=True)
            page.prep = self.api.prep(patient_id)
            page.bills = self.api.bills(patient_id)
            page.results = self.api.results(patient_id)
            page.messages = sorted(self.api.messages(patient_id, limit=200), key=lambda m: m["sent_at"])
            if self.can("devices"):
                page.devices = self.api.devices(patient_id)
            if self.patient is not None and self.patient.id == patient_id:
                page.pairing = self.patient.pairing
            return page

        page = self.attempt(load)
        if page is not None:
            self.patient = page
            self.route = Route("patient", patient_id)
            self.toast = toast
            self.notify()

    def _change(self, fn: Any, done: str) -> bool:
        """Run one change for the open patient, then reload the page (see module docstring)."""
        if self.patient is None:
            return False
        self.attempt(fn)
        if self.error or not self.signed_in:
            return False
        self.open_patient(self.patient.id)
        self.toast = done
        self.notify()
        return True

    # -- profile, insurance, devices ---------------------------------------------------------------
    def verify_insurance(self, status: str) -> None:
        pid = self.patient.id if self.patient else ""
        note = self.draft("insurance.note").strip() or None
        if self._change(lambda: self.api.verify_insurance(pid, status, note),
                        "Insurance marked verified." if status == "verified" else "Insurance marked rejected."):
            self.drafts.pop("insurance.note", None)

    def new_pairing_code(self) -> None:
        if self.patient is None:
            return
        code = self.attempt(lambda: self.api.pairing_code(self.patient.id if self.patient else ""))
        if code is not None and self.patient is not None:
            self.patient.pairing = code
            self.toast = "Pairing code ready: the patient scans it or types it in the app."
            self.notify()

    def revoke_device(self, device_id: str) -> None:
        self._change(lambda: self.api.revoke_device(device_id), "Device revoked: it can no longer sync.")

    # -- appointments --------------------------------------------------------------------------------
    def book_appointment(self) -> None:
        pid = self.patient.id if self.patient else ""

        def book() -> dict[str, Any]:
            start = parse_local(self.draft("book.date"), self.draft("book.time"), self.tz)
            minutes = _whole(self.draft("book.minutes", "30"), 30)
            kind = self.draft("book.kind", "STI screening").strip() or "STI screening"
            made = self.api.add_appointment(pid, start=start.isoformat(), minutes=minutes, kind=kind,
                                            location=self.draft("book.location").strip() or None)
            chosen = template(self.draft("book.template"))
            if chosen is not None:
                self.api.add_prep(made["id"], chosen.title, chosen.body, chosen.before_minutes)
            return made

        if self._change(book, "Appointment booked. The patient's app gets it at the next sync."):
            for key in ("book.date", "book.time", "book.template", "book.location"):
                self.drafts.pop(key, None)

    def reschedule(self, appointment_id: str) -> None:
        def move() -> dict[str, Any]:
            start = parse_local(self.draft(f"move.{appointment_id}.date"), self.draft(f"move.{appointment_id}.time"),
                                self.tz)
            return self.api.update_appointment(appointment_id, start=start.isoformat(), status="scheduled")

        self._change(move, "Appointment moved. The patient is told at the next sync.")

    def cancel_appointment(self, appointment_id: str) -> None:
        self._change(lambda: self.api.cancel_appointment(appointment_id, None), "Appointment cancelled.")

    # -- bills ---------------------------------------------------------------------------------------
    def add_bill(self) -> None:
        pid = self.patient.id if self.patient else ""

        def create() -> dict[str, Any]:
            amount = parse_cents(self.draft("bill.amount"), "Amount")
            due = self.draft("bill.due").strip() or (self.now().astimezone(self.tz).date()
                                                     + timedelta(days=30)).isoformat()
            what = self.draft("bill.description").strip() or "Clinic visit"
            return self.api.add_bill(pid, amount_cents=amount, due=due, description=what)

        if self._change(create, "Bill added."):
            for key in ("bill.amount", "bill.due", "bill.description"):
                self.drafts.pop(key, None)

    def set_payment_plan(self, bill_id: str, status: str) -> None:
        raw = self.draft(f"plan.{bill_id}", "3").strip() or "3"
        try:
            installments = int(raw)
        except ValueError:
            self.error = "Instalments: type a number from 1 to 36."
            self.notify()
            return
        word = {"active": "Payment plan recorded", "declined": "Payment plan declined"}.get(status, "Plan saved")
        self._change(lambda: self.api.set_payment_plan(bill_id, status, installments, None), f"{word}.")

    # -- results ---------------------------------------------------------------------------------------
    def add_result(self) -> None:
        pid = self.patient.id if self.patient else ""
        test = self.draft("result.test").strip()
        if not test:
            self.error = "Test: type the test's name."
            self.notify()
            return
        interpretation = self.draft("result.interpretation", "negative") or "negative"
        sensitive = self.draft("result.sensitive", "yes") == "yes"
        note = self.draft("result.note").strip() or None
        if self._change(lambda: self.api.add_result(pid, test=test, interpretation=interpretation, note=note,
                                                    sensitive=sensitive),
                        "Result saved and held: the patient sees it only after release."):
            for key in ("result.test", "result.note"):
                self.drafts.pop(key, None)

    def release_result(self, result_id: str) -> None:
        self._change(lambda: self.api.release_result(result_id), "Result released to the patient's app.")

    # -- messages --------------------------------------------------------------------------------------
    def reply(self) -> None:
        body = self.draft("reply").strip()
        if not body or self.patient is None:
            self.error = "Type a message first."
            self.notify()
            return
        pid = self.patient.id
        if self._change(lambda: self.api.send_message(pid, body), "Message sent."):
            self.drafts.pop("reply", None)
            self.notify()

