"""Patient search and adding a patient: the Patients screen's state.

``PatientSearch.results`` are the patients matching the ``search`` draft (name, phone, email or
id; an empty query lists recent patients). Adding a patient opens their page at once.
"""

from __future__ import annotations

from typing import Any

from ....core.observable import Observable
from .feedback import Drafts
from .patient_page import OpenPatient
from .session import Session

__all__ = ["NEW_PATIENT_FIELDS", "PatientSearch"]

NEW_PATIENT_FIELDS = ("name", "phone", "email", "dob")  # drafts new.<field>


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
