"""Care intents against the real server: optimistic effects offline, delivery once, live messages."""

from __future__ import annotations

from collections.abc import Callable

from companion.state import AppState
from tests.fixtures.app_state import Clinic
from tests.support.waiting import wait_until


def _wait(cond: Callable[[], bool], timeout: float = 5.0) -> bool:
    return wait_until(cond, timeout)




def test_first_sync_brings_appointment_prep_bill_result_and_message(paired_state: AppState, clinic: Clinic) -> None:
    snap = paired_state.records.snapshot
    appt = snap.next_appointment
    assert appt is not None and appt.id == clinic.appointment_id
    assert [s.title for s in snap.prep_for(appt.id)] == ["Stop eating 12 h before", "Don't urinate in the hour before"]
    assert snap.balance_cents == 4500 and snap.unread == 1
    assert [r.id for r in snap.results] == [clinic.result_id]
    assert snap.status.paired and snap.status.last_sync is not None


def test_a_psr_message_appears_live(paired_state: AppState, clinic: Clinic) -> None:
    assert _wait(lambda: paired_state.sync.live_state == "idle")
    clinic.server.staff.send_message(clinic.patient_id, "Live hello from the front desk")
    # no sync asked for: the live loop's long poll brings it (how fast is bench's business, not a test's)
    assert _wait(lambda: any(m.body == "Live hello from the front desk" for t in paired_state.records.snapshot.threads
                             for m in t.messages), timeout=5)


def test_intents_reach_the_clinic_once(paired_state: AppState, clinic: Clinic) -> None:
    state = paired_state
    state.prep.tick(state.records.snapshot.prep_for(clinic.appointment_id)[0].id)
    assert state.records.snapshot.prep_for(clinic.appointment_id)[0].done_at is not None  # shown at once
    state.visits.confirm(clinic.appointment_id)
    assert state.records.snapshot.appointment(clinic.appointment_id).status == "confirmed"  # type: ignore[union-attr]
    state.messages.send("Can I bring a friend?")
    queued = [m for m in state.records.snapshot.thread("general").messages if m.body == "Can I bring a friend?"]  # type: ignore[union-attr]
    assert queued and state.records.snapshot.message_state(queued[0]) in ("queued", "sent")
    bill = state.records.snapshot.bills[0]
    state.bills.ask_payment_plan(bill.id, 3)
    state.bills.ask_question(bill.id, "Is the lab fee covered?")
    state.results.acknowledge(clinic.result_id)
    state.visits.request("HIV test", "Evenings please")
    assert state.feedback.error is None
    assert _wait(lambda: state.records.snapshot.status.pending == 0, timeout=8), state.records.snapshot.status
    inbox = clinic.server.staff.inbox(patient_id=clinic.patient_id)
    bodies = [str(item) for item in inbox]
    assert sum("Can I bring a friend?" in b for b in bodies) == 1
    assert any("Is the lab fee covered?" in b for b in bodies)
    assert any("Evenings please" in b for b in bodies)
    sent = [m for m in state.records.snapshot.thread("general").messages if m.body == "Can I bring a friend?"]  # type: ignore[union-attr]
    assert len(sent) == 1 and state.records.snapshot.message_state(sent[0]) == "sent"


def test_opening_a_thread_marks_it_read(paired_state: AppState) -> None:
    assert paired_state.records.snapshot.unread == 1
    paired_state.messages.open_thread("general")
    assert paired_state.nav.route.name == "thread" and paired_state.records.snapshot.unread == 0


def test_empty_input_is_refused_with_a_reason(paired_state: AppState) -> None:
    paired_state.messages.send("   ")
    assert paired_state.feedback.error == "Message: type a message first."
    paired_state.bills.ask_question("bill_x", "")
    assert paired_state.feedback.error and "question" in paired_state.feedback.error
