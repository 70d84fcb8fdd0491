"""``companion export fhir``: the patient's records as a FHIR R4 ``collection`` Bundle (plain JSON).

Unlike the calendar export, this is the patient's full record for another
provider or a personal health app, so it is complete — visit kinds, prep
text, released results, messages — and the sensitive parts are *labelled*
rather than hidden (HL7 security labels in ``meta.security``):

- records the clinic flagged ``sensitive`` (appointments, their prep steps,
  results): confidentiality ``R`` (restricted, ``v3-Confidentiality``) plus
  the ``v3-ActCode`` sensitivity ``HIV`` when the record is about HIV (its
  text or its LOINC code), else ``STD``;
- messages: ``R`` — free text from the clinic that nobody classified;
- the Bundle itself: ``R`` when any entry is restricted (high-water mark).

Mapping: Profile -> Patient, Appointment -> Appointment, PrepStep -> Task
(focus: the appointment), Result -> DiagnosticReport + Observation (LOINC
when known; interpretation from ``v3-ObservationInterpretation``), Message ->
Communication, Bill -> Invoice. Results not yet released at export time are
left out (the device should never hold a held result; this is the second
guard). Money has no currency: the clinic profile does not say one.

Built as dictionaries with the standard library only; the test suite
validates the output with ``fhir.resources`` (R4B models).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..config import ClinicProfile
from ..core.fields import iso
from ..core.models import Appointment, Bill, Message, PrepStep, Profile, Result

if TYPE_CHECKING:
    from ..vault import Vault

__all__ = ["ACT_CODE", "CONFIDENTIALITY", "build_bundle", "export_fhir"]

CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
LOINC = "http://loinc.org"
_NS = uuid.UUID("6f1d3b7e-3c1a-5b8e-9a4d-2f0c7e5a9b11")
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_HIV_WORDS = re.compile(r"\bHIV(?![a-z])|viral load", re.IGNORECASE)  # not "hives"
# HIV tests by LOINC (screening, confirmation, viral load): enough to label the usual ones.
_HIV_LOINC = {"56888-1", "75622-1", "7917-8", "7918-6", "68961-2", "48345-3", "5221-7", "20447-9", "25836-8",
              "31201-7", "43009-0", "49580-4", "80387-4"}
_APPT_STATUS = {"requested": "proposed", "scheduled": "booked", "confirmed": "booked", "checked_in": "checked-in",
                "completed": "fulfilled", "cancelled": "cancelled", "no_show": "noshow"}
_INVOICE_STATUS = {"open": "issued", "plan": "issued", "paid": "balanced", "void": "cancelled"}
_INTERP = {"negative": ("NEG", "Negative"), "positive": ("POS", "Positive"), "indeterminate": ("IND", "Indeterminate")}
_R = {"system": CONFIDENTIALITY, "code": "R", "display": "restricted"}


def _ids(kind: str, raw: str) -> tuple[str, str]:
    """(FHIR resource id, Bundle fullUrl) for a record; ids that FHIR would refuse are hashed."""
    rid = raw if _FHIR_ID.match(raw) else str(uuid.uuid5(_NS, raw))
    return rid, f"urn:uuid:{uuid.uuid5(_NS, f'{kind}/{raw}')}"


def _labels(sensitive: bool, texts: Iterable[str | None], loinc: str | None = None) -> list[dict[str, str]]:
    if not sensitive:
        return []
    hiv = (loinc in _HIV_LOINC) or any(t and _HIV_WORDS.search(t) for t in texts)
    topic = ({"system": ACT_CODE, "code": "HIV", "display": "HIV/AIDS information sensitivity"} if hiv else
             {"system": ACT_CODE, "code": "STD", "display": "sexually transmitted disease information sensitivity"})
    return [dict(_R), topic]


def _resource(kind: str, raw_id: str, body: dict[str, Any], labels: list[dict[str, str]]) -> dict[str, Any]:
    rid, full_url = _ids(kind, raw_id)
    resource: dict[str, Any] = {"resourceType": kind, "id": rid}
    if labels:
        resource["meta"] = {"security": labels}
    resource.update({k: v for k, v in body.items() if v not in (None, [], {}, "")})
    return {"fullUrl": full_url, "resource": resource}


def _money(cents: int) -> dict[str, Any]:
    return {"value": cents / 100}


def _code(test: str, loinc: str | None) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": test}
    if loinc:
        concept["coding"] = [{"system": LOINC, "code": loinc, "display": test}]
    return concept


def _patient(profile: Profile | None) -> dict[str, Any]:
    if profile is None:
        return _resource("Patient", "patient", {}, [])
    telecom = [{"system": "phone", "value": profile.phone}] if profile.phone else []
    if profile.email:
        telecom.append({"system": "email", "value": profile.email})
    return _resource("Patient", profile.id, {
        "name": [{"text": profile.name}],
        "birthDate": profile.dob.isoformat() if profile.dob else None,
        "telecom": telecom,
    }, [])


def _appointment(a: Appointment, patient: dict[str, str]) -> dict[str, Any]:
    others = [{"actor": {"display": text}, "status": "accepted"} for text in (a.provider, a.location) if text]
    return _resource("Appointment", a.id, {
        "status": _APPT_STATUS.get(a.status, "booked"),
        "description": a.visit_kind,
        "start": iso(a.start),
        "end": iso(a.end),
        "minutesDuration": a.minutes,
        "comment": a.note,
        "patientInstruction": a.what_to_bring,
        "participant": [{"actor": patient, "status": "accepted"}, *others],
    }, _labels(a.sensitive, [a.visit_kind, a.note, a.what_to_bring]))


def _task(step: PrepStep, appt: Appointment | None, patient: dict[str, str]) -> dict[str, Any]:
    sensitive = appt is not None and appt.sensitive
    period = None
    if appt is not None:
        period = {"start": iso(appt.start - timedelta(minutes=step.before_minutes)), "end": iso(appt.start)}
    return _resource("Task", step.id, {
        "status": "completed" if step.done_at else "requested",
        "intent": "plan",
        "description": f"{step.title}\n\n{step.body}".strip(),
        "focus": {"reference": _ids("Appointment", appt.id)[1]} if appt else None,
        "for": patient,
        "executionPeriod": period,
        "lastModified": iso(step.done_at),
    }, _labels(sensitive, [step.title, step.body, appt.visit_kind if appt else None]))


def _result(r: Result, patient: dict[str, str]) -> list[dict[str, Any]]:
    labels = _labels(r.sensitive, [r.test, r.note], r.loinc)
    code, interp = _code(r.test, r.loinc), _INTERP[r.interpretation]
    observation = _resource("Observation", r.id, {
        "status": "final",
        "code": code,
        "subject": patient,
        "issued": iso(r.released_at),
        "valueString": r.value,
        "interpretation": [{"coding": [{"system": INTERPRETATION, "code": interp[0], "display": interp[1]}]}],
        "referenceRange": [{"text": r.reference_range}] if r.reference_range else [],
    }, labels)
    report = _resource("DiagnosticReport", r.id, {
        "status": "final",
        "code": code,
        "subject": patient,
        "issued": iso(r.released_at),
        "result": [{"reference": observation["fullUrl"]}],
        "conclusion": r.note,
    }, labels)
    return [report, observation]


def _communication(m: Message, patient: dict[str, str], clinic: ClinicProfile) -> dict[str, Any]:
    clinic_ref = {"display": m.author_name or clinic.name}
    from_patient = m.author == "patient"
    return _resource("Communication", m.id, {
        "status": "completed",
        "category": [{"text": m.thread}],
        "subject": patient,
        "sent": iso(m.sent_at),
        "received": iso(m.read_at),
        "sender": patient if from_patient else clinic_ref,
        "recipient": [{"display": clinic.name} if from_patient else patient],
        "payload": [{"contentString": m.body}],
    }, [dict(_R)])


def _invoice(b: Bill, patient: dict[str, str]) -> dict[str, Any]:
    terms = f"Due {b.due.isoformat()}"
    if b.payment_plan:
        terms += f"; payment plan {b.payment_plan.status}, {b.payment_plan.installments} instalments"
    return _resource("Invoice", b.id, {
        "status": _INVOICE_STATUS.get(b.status, "issued"),
        "subject": patient,
        "lineItem": [{"sequence": i + 1, "chargeItemCodeableConcept": {"text": line.description},
                      "priceComponent": [{"type": "base", "amount": _money(line.cents)}]}
                     for i, line in enumerate(b.lines)],
        "totalPriceComponent": [{"type": "deduction", "code": {"text": "Paid by insurance"},
                                 "amount": _money(b.insurance_paid_cents)}] if b.insurance_paid_cents else [],
        "totalGross": _money(b.total_cents),
        "totalNet": _money(b.patient_cents),
        "paymentTerms": terms,
        "note": [{"text": b.description}],
    }, [])


def build_bundle(
    *,
    profile: Profile | None,
    appointments: Sequence[Appointment],
    prep: Sequence[PrepStep],
    results: Sequence[Result],
    messages: Sequence[Message],
    bills: Sequence[Bill],
    clinic: ClinicProfile,
    now: datetime,
) -> dict[str, Any]:
    """The Bundle as a JSON-ready dict (``json.dumps`` it)."""
    patient_entry = _patient(profile)
    patient = {"reference": patient_entry["fullUrl"]}
    by_id = {a.id: a for a in appointments}
    entries = [patient_entry]
    entries += [_appointment(a, patient) for a in sorted(appointments, key=lambda a: (a.start, a.id))]
    entries += [_task(s, by_id.get(s.appointment_id), patient) for s in prep]
    for r in sorted(results, key=lambda r: (r.released_at, r.id)):
        if r.released_at <= now:
            entries += _result(r, patient)
    entries += [_communication(m, patient, clinic) for m in sorted(messages, key=lambda m: (m.sent_at, m.id))]
    entries += [_invoice(b, patient) for b in sorted(bills, key=lambda b: (b.due, b.id))]
    bundle: dict[str, Any] = {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "collection",
                              "timestamp": iso(now)}
    if any(e["resource"].get("meta") for e in entries):
        bundle["meta"] = {"security": [dict(_R)]}
    bundle["entry"] = entries
    return bundle


def export_fhir(vault: Vault, clinic: ClinicProfile, now: datetime) -> dict[str, Any]:
    """The Bundle of everything in an open vault."""
    return build_bundle(profile=vault.profile.get(), appointments=vault.appointments.all(), prep=vault.prep.all(),
                        results=vault.results.all(), messages=vault.messages.all(), bills=vault.bills.all(),
                        clinic=clinic, now=now)
