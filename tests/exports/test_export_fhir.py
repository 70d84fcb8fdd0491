"""The FHIR export: a valid R4 collection Bundle, no held results, sensitive resources labelled."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from companion.config import ClinicProfile
from companion.core.models import Appointment, Bill, Message, PrepStep, Profile, Result
from companion.exports import build_bundle
from companion.exports.fhir import ACT_CODE, CONFIDENTIALITY
from tests.fixtures.vault import T0, sample_records

CLINIC = ClinicProfile(name="Riverside Sexual Health Clinic", discreet_name="Riverside Clinic")
NOW = T0 + timedelta(days=1)


def bundle() -> dict[str, Any]:
    rec = sample_records("QXTAG")
    appt = rec["appointment"]
    assert isinstance(appt, Appointment)
    plain = replace(appt, id="apt_2", visit_kind="Flu shot", sensitive=False, status="cancelled")
    held = Result(id="res_held", test="QXHELD syphilis", interpretation="positive", released_at=NOW + timedelta(days=2),
                  sensitive=True)
    chlamydia = Result(id="res_2", test="Chlamydia NAAT", interpretation="negative", released_at=T0,
                       loinc="43304-5", sensitive=True)
    patient_msg = Message(id="msg_2", thread="general", author="patient", body="Thanks", sent_at=T0)
    prep, result, bill, profile, msg = rec["prep"], rec["result"], rec["bill"], rec["profile"], rec["message"]
    assert isinstance(prep, PrepStep) and isinstance(result, Result) and isinstance(bill, Bill)
    assert isinstance(profile, Profile) and isinstance(msg, Message)
    return build_bundle(profile=profile, appointments=[appt, plain], prep=[prep], results=[result, held, chlamydia],
                        messages=[msg, patient_msg], bills=[bill], clinic=CLINIC, now=NOW)


def by_type(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in doc["entry"] if e["resource"]["resourceType"] == kind]


def codes(resource: dict[str, Any]) -> set[tuple[str, str]]:
    return {(c["system"], c["code"]) for c in resource.get("meta", {}).get("security", [])}


def test_bundle_validates_as_r4_collection() -> None:
    doc = bundle()
    parsed = Bundle.model_validate(json.loads(json.dumps(doc)))
    assert parsed.type == "collection"
    kinds = sorted({e["resource"]["resourceType"] for e in doc["entry"]})
    assert kinds == ["Appointment", "Communication", "DiagnosticReport", "Invoice", "Observation", "Patient", "Task"]


def test_references_resolve_inside_the_bundle() -> None:
    doc = bundle()
    urls = {e["fullUrl"] for e in doc["entry"]}
    text = json.dumps(doc)
    refs = {part.split('"')[0] for part in text.split('"reference": "')[1:]}
    assert refs and refs <= urls


def test_held_results_are_not_exported() -> None:
    doc = bundle()
    assert "QXHELD" not in json.dumps(doc)
    assert len(by_type(doc, "DiagnosticReport")) == 2


def test_sensitive_resources_carry_security_labels() -> None:
    doc = bundle()
    restricted = (CONFIDENTIALITY, "R")
    appts = {a["description"]: a for a in by_type(doc, "Appointment")}
    assert codes(appts["STI screen QXTAG"]) == {restricted, (ACT_CODE, "STD")}
    assert codes(appts["Flu shot"]) == set()
    assert appts["Flu shot"]["status"] == "cancelled"
    (task,) = by_type(doc, "Task")
    assert restricted in codes(task)
    reports = {r["code"]["text"]: r for r in by_type(doc, "DiagnosticReport")}
    assert codes(reports["HIV-1/2 Ag/Ab QXTAG"]) == {restricted, (ACT_CODE, "HIV")}
    assert codes(reports["Chlamydia NAAT"]) == {restricted, (ACT_CODE, "STD")}
    assert reports["Chlamydia NAAT"]["code"]["coding"][0] == {"system": "http://loinc.org", "code": "43304-5",
                                                             "display": "Chlamydia NAAT"}
    for obs in by_type(doc, "Observation"):
        assert restricted in codes(obs)
        assert obs["interpretation"][0]["coding"][0]["system"].endswith("v3-ObservationInterpretation")
    assert all(restricted in codes(c) for c in by_type(doc, "Communication"))
    assert codes(by_type(doc, "Invoice")[0]) == set()
    assert codes(doc) == {restricted}  # the bundle is as restricted as its most restricted entry
