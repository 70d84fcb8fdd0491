"""Push on SQLite and PostgreSQL: every mutation type has its real effect, at most once.

Effects are checked on both sides: what staff see (inbox, records) and what comes back in the
device's feed.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.server_harness import ServerProcess, mutation, pull_all


def _push(http: httpx.Client, *mutations: dict[str, Any]) -> list[dict[str, Any]]:
    response = http.post("/v1/sync", json={"mutations": list(mutations)})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


class Patient:
    """A patient with a paired device, an appointment, a prep step, a bill and a released result."""

    def __init__(self, server: ServerProcess, name: str = "Mutation Patient") -> None:
        self.server = server
        self.id = server.staff.add_patient(name)["id"]
        self.device = server.pair_device(self.id)
        self.http = server.device_client(self.device["token"])
        self.appointment = server.staff.add_appointment(self.id)
        self.prep = server.staff.add_prep(self.appointment["id"])
        self.bill = server.staff.add_bill(self.id, amount_cents=12000)
        self.result = server.staff.add_result(self.id)
        server.staff.release_result(self.result["id"])
        self.message = server.staff.send_message(self.id, "Hello from the clinic")
        _, self.cursor = pull_all(self.http)

    def new_changes(self) -> list[dict[str, Any]]:
        changes, self.cursor = pull_all(self.http, self.cursor)
        return changes

    def close(self) -> None:
        self.http.close()


MakePatient = Callable[..., Patient]


@pytest.fixture
def make_patient(server: ServerProcess) -> Iterator[Callable[..., Patient]]:
    made: list[Patient] = []

    def make(name: str = "Mutation Patient") -> Patient:
        made.append(Patient(server, name))
        return made[-1]

    yield make
    for patient in made:
        patient.close()


def _get(server: ServerProcess, path: str, role: str = "psr") -> dict[str, Any]:
    response = server.staff.request("GET", path, role)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_message_send_lands_in_the_inbox_and_comes_back_with_its_client_id(
    server: ServerProcess, make_patient: MakePatient
) -> None:
    p = make_patient()
    m = mutation("message.send", body="Can I come in earlier?", thread="appointments")
    assert _push(p.http, m) == [{"id": m["id"], "status": "applied", "reason": None}]
    back = [c for c in p.new_changes() if c["kind"] == "message"]
    assert len(back) == 1 and back[0]["data"]["client_id"] == m["id"]
    assert back[0]["data"]["author"] == "patient" and back[0]["data"]["body"] == "Can I come in earlier?"
    items = server.staff.inbox(patient_id=p.id)
    assert [(i["kind"], i["mutation_id"], i["detail"]["body"]) for i in items] == [
        ("message.send", m["id"], "Can I come in earlier?")]
    assert items[0]["unread"] is True
    messages = _get(server, f"/v1/staff/patients/{p.id}/messages")["messages"]
    assert any(x["client_id"] == m["id"] for x in messages)


def test_message_read_marks_the_clinic_message_read(server: ServerProcess, make_patient: MakePatient) -> None:
    p = make_patient()
    assert _push(p.http, mutation("message.read", message_id=p.message["id"]))[0]["status"] == "applied"
    change = next(c for c in p.new_changes() if c["id"] == p.message["id"])
    assert change["data"]["read_at"] is not None
    staff_view = _get(server, f"/v1/staff/patients/{p.id}/messages")["messages"]
    assert next(x for x in staff_view if x["id"] == p.message["id"])["read_at"] == change["data"]["read_at"]


def test_appointment_request_shows_in_inbox_and_as_a_requested_appointment(
    server: ServerProcess, make_patient: MakePatient
) -> None:
    p = make_patient()
    m = mutation("appointment.request", kind="STI screening", preferred=["2031-02-03T09:00:00Z"],
                 note="mornings are best")
    assert _push(p.http, m)[0]["status"] == "applied"
    requested = [c for c in p.new_changes() if c["kind"] == "appointment"]
    assert len(requested) == 1 and requested[0]["data"]["status"] == "requested"
    assert requested[0]["data"]["start"] == "2031-02-03T09:00:00Z"
    item = next(i for i in server.staff.inbox(patient_id=p.id) if i["kind"] == "appointment.request")
    assert item["detail"]["kind"] == "STI screening" and item["ref_id"] == requested[0]["id"]
    without_time = mutation("appointment.request", kind="PrEP follow-up")
    assert _push(p.http, without_time)[0]["status"] == "applied"
    assert any(i["mutation_id"] == without_time["id"] for i in server.staff.inbox(patient_id=p.id))


def test_appointment_confirm_and_cancel_change_the_appointment(
    server: ServerProcess, make_patient: MakePatient
) -> None:
    p = make_patient()
    aid = p.appointment["id"]
    assert _push(p.http, mutation("appointment.confirm", appointment_id=aid))[0]["status"] == "applied"
    assert p.new_changes()[-1]["data"]["status"] == "confirmed"
    assert _push(p.http, mutation("appointment.cancel", appointment_id=aid, reason="feeling better"))[0][
        "status"] == "applied"
    assert p.new_changes()[-1]["data"]["status"] == "cancelled"
    assert _get(server, f"/v1/staff/appointments/{aid}")["status"] == "cancelled"
    item = next(i for i in server.staff.inbox(patient_id=p.id) if i["kind"] == "appointment.cancel")
    assert item["ref_id"] == aid and item["detail"]["reason"] == "feeling better"
    late = _push(p.http, mutation("appointment.confirm", appointment_id=aid))[0]
    assert late["status"] == "rejected" and "cancelled" in late["reason"]


def test_staff_routes_and_devices_share_one_visit_and_plan_rule(server: ServerProcess,
                                                                 make_patient: MakePatient) -> None:
    """companion.core.care_rules answers both sides, in the same words: 409 for staff, rejected for a device."""
    p = make_patient()
    st = server.staff
    begun = st.add_appointment(p.id, start=datetime.now(UTC) - timedelta(minutes=5))["id"]
    late = _push(p.http, mutation("appointment.cancel", appointment_id=begun))[0]
    assert late["status"] == "rejected" and late["reason"] == "the appointment already took place"
    assert st.request("PATCH", f"/v1/staff/appointments/{begun}", json={"status": "completed"}).status_code == 200
    for answer in (st.request("PATCH", f"/v1/staff/appointments/{begun}", json={"status": "confirmed"}),
                   _push(p.http, mutation("appointment.confirm", appointment_id=begun))[0]):
        reason = answer["reason"] if isinstance(answer, dict) else answer.json()["error"]["message"]
        assert reason == "the appointment is completed: it cannot be confirmed"
    refused = st.request("POST", f"/v1/staff/appointments/{begun}/cancel", json={})
    assert refused.status_code == 409 and refused.json()["error"]["message"] == "the appointment already took place"
    free = st.add_bill(p.id, amount_cents=0, insurance_paid_cents=5000)["id"]
    nothing = _push(p.http, mutation("bill.plan_request", bill_id=free, installments=3))[0]
    assert nothing["status"] == "rejected" and nothing["reason"] == "nothing is left to pay on this bill"
    st.request("PATCH", f"/v1/staff/bills/{p.bill['id']}", json={"status": "paid"}).raise_for_status()
    paid = _push(p.http, mutation("bill.plan_request", bill_id=p.bill["id"], installments=3))[0]
    staff = st.request("PUT", f"/v1/staff/bills/{p.bill['id']}/payment-plan", json={"status": "active",
                                                                                  "installments": 3})
    assert paid["reason"] == staff.json()["error"]["message"] == "the bill is paid: no payment plan for it"
    assert staff.status_code == 409


def test_checkin_records_check_in_and_submitted_insurance(server: ServerProcess, make_patient: MakePatient) -> None:
    p = make_patient()
    m = mutation("checkin.submit", appointment_id=p.appointment["id"], phone="+1 555 0100",
                 insurance={"payer": "Acme Health", "member_id": "M-123", "group": "G-9"})
    assert _push(p.http, m)[0]["status"] == "applied"
    changes = {c["kind"]: c["data"] for c in p.new_changes()}
    assert changes["appointment"]["status"] == "checked_in" and changes["appointment"]["checked_in_at"]
    assert changes["profile"]["insurance"] == {"payer": "Acme Health", "member_id": "M-123", "group": "G-9",
                                               "status": "submitted", "note": None}
    assert changes["profile"]["phone"] == "+1 555 0100"
    assert any(i["kind"] == "checkin.submit" for i in server.staff.inbox(patient_id=p.id))
    server.staff.verify_insurance(p.id, "verified")
    assert p.new_changes()[-1]["data"]["insurance"]["status"] == "verified"


def test_checkin_time_reaches_the_feed_and_the_staff_api(server: ServerProcess, make_patient: MakePatient) -> None:
    """checked_in_at is a real field of the appointment: device check-in and desk check-in both set it."""
    p = make_patient()
    assert _push(p.http, mutation("checkin.submit", appointment_id=p.appointment["id"]))[0]["status"] == "applied"
    fed = next(c["data"] for c in p.new_changes() if c["kind"] == "appointment")
    staff = _get(server, f"/v1/staff/appointments/{p.appointment['id']}")
    assert fed["status"] == staff["status"] == "checked_in"
    assert fed["checked_in_at"] is not None and staff["checked_in_at"] == fed["checked_in_at"]
    listed = _get(server, f"/v1/staff/patients/{p.id}/appointments")["appointments"]
    assert next(a for a in listed if a["id"] == p.appointment["id"])["checked_in_at"] == fed["checked_in_at"]
    # A PSR checking the patient in at the desk (status only) stamps the time too, once.
    other = server.staff.add_appointment(p.id)
    p.new_changes()
    desk = server.staff.request("PATCH", f"/v1/staff/appointments/{other['id']}", json={"status": "checked_in"})
    assert desk.status_code == 200, desk.text
    assert desk.json()["checked_in_at"] is not None
    fed = next(c["data"] for c in p.new_changes() if c["id"] == other["id"])
    assert fed["status"] == "checked_in" and fed["checked_in_at"] == desk.json()["checked_in_at"]
    again = server.staff.request("PATCH", f"/v1/staff/appointments/{other['id']}", json={"note": "room 3"})
    assert again.json()["checked_in_at"] == desk.json()["checked_in_at"]


def test_prep_done_result_ack_and_plan_request_change_what_staff_see(
    server: ServerProcess, make_patient: MakePatient
) -> None:
    p = make_patient()
    results = _push(p.http,
                    mutation("prep.done", prep_id=p.prep["id"]),
                    mutation("result.ack", result_id=p.result["id"]),
                    mutation("bill.plan_request", bill_id=p.bill["id"], installments=3, note="3 months please"))
    assert [r["status"] for r in results] == ["applied"] * 3
    changes = {c["kind"]: c["data"] for c in p.new_changes()}
    assert changes["prep"]["done_at"] and changes["result"]["acknowledged_at"]
    assert changes["bill"]["payment_plan"] == {"status": "requested", "installments": 3, "note": "3 months please"}
    assert _get(server, f"/v1/staff/results/{p.result['id']}")["acknowledged_at"] == changes["result"][
        "acknowledged_at"]
    prep = _get(server, f"/v1/staff/appointments/{p.appointment['id']}/prep")["prep"]
    assert prep[0]["done_at"] == changes["prep"]["done_at"]
    assert any(i["kind"] == "bill.plan_request" for i in server.staff.inbox(patient_id=p.id))
    undone = _push(p.http, mutation("prep.done", prep_id=p.prep["id"], done=False))
    assert undone[0]["status"] == "applied" and p.new_changes()[-1]["data"]["done_at"] is None
    plan = server.staff.request("PUT", f"/v1/staff/bills/{p.bill['id']}/payment-plan",
                                json={"status": "active", "installments": 3})
    assert plan.json()["status"] == "plan" and p.new_changes()[-1]["data"]["payment_plan"]["status"] == "active"


def test_same_mutation_twenty_times_concurrently_has_exactly_one_effect(
    server: ServerProcess, make_patient: MakePatient
) -> None:
    p = make_patient()
    m = mutation("message.send", body="only once please")
    statuses: list[str] = []
    lock = threading.Lock()

    def send() -> None:
        with server.device_client(p.device["token"]) as http:
            status = _push(http, m)[0]["status"]
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=send) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == ["applied"] + ["duplicate"] * 19
    messages = _get(server, f"/v1/staff/patients/{p.id}/messages")["messages"]
    assert sum(1 for x in messages if x["client_id"] == m["id"]) == 1
    assert sum(1 for i in server.staff.inbox(patient_id=p.id) if i["mutation_id"] == m["id"]) == 1
    assert sum(1 for c in p.new_changes() if c["kind"] == "message") == 1


def test_duplicates_in_one_batch_and_rejections_are_stable(server: ServerProcess, make_patient: MakePatient) -> None:
    p = make_patient()
    m = mutation("message.send", body="twice in one batch")
    bad = mutation("appointment.cancel", appointment_id="apt_doesnotexist")
    first = _push(p.http, m, m, bad)
    assert [r["status"] for r in first] == ["applied", "duplicate", "rejected"]
    assert first[2]["reason"] == "unknown appointment"
    again = _push(p.http, m, bad)
    assert again == [{"id": m["id"], "status": "duplicate", "reason": None},
                     {"id": bad["id"], "status": "rejected", "reason": "unknown appointment"}]


def test_a_run_of_messages_is_applied_in_order_beside_everything_else(
    server: ServerProcess, make_patient: MakePatient
) -> None:
    """The set-based run of plain messages answers and publishes exactly as one by one would: in the
    batch's order, a copy inside the run answered ``duplicate``, a bill question, a refusal and
    another type splitting the run, one inbox item per message."""
    p = make_patient()
    first = [mutation("message.send", body=f"run one {i}") for i in range(4)]
    question = mutation("message.send", body="why this amount?", thread=f"billing:{p.bill['id']}")
    bad = mutation("appointment.cancel", appointment_id="apt_doesnotexist")
    too_long = mutation("message.send", body="x" * 5001)
    second = [mutation("message.send", body=f"run two {i}", thread="appointments") for i in range(3)]
    batch = [*first[:2], first[0], *first[2:], question, bad, second[0], too_long, *second[1:]]
    results = _push(p.http, *batch)
    assert [r["id"] for r in results] == [m["id"] for m in batch]
    assert [r["status"] for r in results] == (["applied", "applied", "duplicate", "applied", "applied", "applied",
                                               "rejected", "applied", "rejected", "applied", "applied"])
    messages = [c["data"] for c in p.new_changes() if c["kind"] == "message"]
    sent = [*first, question, *second]
    assert [(m["client_id"], m["body"], m["author"]) for m in messages] == [
        (m["id"], m["payload"]["body"], "patient") for m in sent]
    assert [m["thread"] for m in messages] == ["general"] * 4 + [f"billing:{p.bill['id']}"] + ["appointments"] * 3
    items = server.staff.inbox(patient_id=p.id)
    assert sorted(i["mutation_id"] for i in items if i["kind"] == "message.send") == sorted(
        m["id"] for m in [*first, *second])
    assert [i["kind"] for i in items].count("bill.question") == 1
    assert _push(p.http, *batch)[0] == {"id": first[0]["id"], "status": "duplicate", "reason": None}


def test_invalid_mutations_are_rejected_one_by_one_not_the_batch(
    server: ServerProcess, make_patient: MakePatient
) -> None:
    p = make_patient()
    good = mutation("message.send", body="fine")
    too_long = mutation("message.send", body="x" * 5001)
    unknown_type = mutation("teleport.now", where="mars")
    not_uuid = {**mutation("message.send", body="hi"), "id": "not-a-uuid"}
    extra_field = mutation("prep.done", prep_id=p.prep["id"], colour="red")
    results = _push(p.http, good, too_long, unknown_type, not_uuid, extra_field)
    assert [r["status"] for r in results] == ["applied", "rejected", "rejected", "rejected", "rejected"]
    assert "5000" in results[1]["reason"] and "type" in results[2]["reason"] and "UUID" in results[3]["reason"]


def test_ids_of_another_patient_are_rejected_without_effect_or_leak(
    server: ServerProcess, make_patient: MakePatient
) -> None:
    victim = make_patient("Victim Sentinel")
    intruder = make_patient("Intruder")
    attempts = [
        mutation("message.read", message_id=victim.message["id"]),
        mutation("appointment.confirm", appointment_id=victim.appointment["id"]),
        mutation("appointment.cancel", appointment_id=victim.appointment["id"]),
        mutation("checkin.submit", appointment_id=victim.appointment["id"], phone="000"),
        mutation("prep.done", prep_id=victim.prep["id"]),
        mutation("result.ack", result_id=victim.result["id"]),
        mutation("bill.plan_request", bill_id=victim.bill["id"], installments=2),
    ]
    results = _push(intruder.http, *attempts)
    assert all(r["status"] == "rejected" and r["reason"].startswith("unknown ") for r in results)
    assert victim.new_changes() == []  # nothing changed for the victim
    raw = intruder.http.get("/v1/sync").text
    assert "Victim Sentinel" not in raw and victim.id not in raw and victim.appointment["id"] not in raw
    reused = _push(intruder.http, {**mutation("message.send", body="x"), "id": attempts[0]["id"]})
    assert reused[0]["status"] == "rejected"  # its own rejected id: still one decision per id
    victim_msg = mutation("message.send", body="mine")
    _push(victim.http, victim_msg)
    stolen = _push(intruder.http, {**mutation("message.send", body="theirs"), "id": victim_msg["id"]})
    assert stolen[0]["status"] == "rejected" and stolen[0]["reason"] == "this mutation id was already used"


def test_held_result_cannot_be_acknowledged(server: ServerProcess, make_patient: MakePatient) -> None:
    p = make_patient()
    held = server.staff.add_result(p.id, test="Chlamydia NAAT")
    result = _push(p.http, mutation("result.ack", result_id=held["id"]))[0]
    assert result == {"id": result["id"], "status": "rejected", "reason": "unknown result"}


def test_push_envelope_is_strict(server: ServerProcess, make_patient: MakePatient) -> None:
    p = make_patient()
    cases = [
        {"mutations": [], "extra": 1},
        {"mutations": "nope"},
        {"mutations": [{"id": str(uuid.uuid4()), "type": "message.send", "payload": {}, "bogus": 1}]},
        {"mutations": [mutation("message.send", body="x") for _ in range(101)]},
    ]
    for body in cases:
        response = p.http.post("/v1/sync", json=body)
        assert response.status_code == 422, body
        assert set(response.json()) == {"error"}


def test_overlapping_batches_pushed_concurrently_apply_each_id_once(
    server: ServerProcess, make_patient: MakePatient
) -> None:
    """The batch's ids are looked up once per push: eight concurrent retries of one outbox (in
    different orders) still give every id exactly one ``applied``."""
    p = make_patient()
    batch = [mutation("message.send", body=f"outbox entry {i}") for i in range(12)]
    answers: list[dict[str, Any]] = []
    lock = threading.Lock()

    def send(offset: int) -> None:
        order = batch[offset:] + batch[:offset]
        with server.device_client(p.device["token"]) as http:
            got = _push(http, *order)
        with lock:
            answers.extend(got)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for m in batch:
        assert sorted(a["status"] for a in answers if a["id"] == m["id"]) == ["applied"] + ["duplicate"] * 7
    ids = {m["id"] for m in batch}
    messages = _get(server, f"/v1/staff/patients/{p.id}/messages")["messages"]
    assert sorted(x["client_id"] for x in messages if x["client_id"] in ids) == sorted(ids)
    audit = _get(server, f"/v1/staff/audit?patient_id={p.id}&action=push.message.send&limit=500", "admin")
    assert len(audit["entries"]) == 8 * 12 - 7 * 12  # one audit row per decision, not per copy
