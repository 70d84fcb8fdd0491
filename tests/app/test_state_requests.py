"""Asking for a visit from the app: "Requested" shows at once (offline too), bad wishes are refused
before anything is queued, and the clinic's booking replaces the request in place at the next sync."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from companion.core.requests import MAX_REQUEST_NOTE, request_appointment_id
from companion.state import AppState
from tests.fixtures.app_state import Clinic
from tests.support.waiting import wait_until


def _wait(cond: Callable[[], bool], timeout: float = 8.0) -> bool:
    return wait_until(cond, timeout)




def test_a_request_shows_as_requested_at_once_offline(populated_state: AppState) -> None:
    state = populated_state
    told: list[int] = []
    state.records.subscribe(lambda: told.append(1))
    state.visits.request("HIV test", "  Evenings please  ", days=("fri", "mon"), times=("evening",))
    assert state.feedback.error is None and state.nav.route.name == "appointments"
    [entry] = [e for e in state.records.snapshot.outbox.values() if e.type == "appointment.request"]
    assert entry.payload == {"kind": "HIV test", "note": "Evenings please", "days": ["mon", "fri"],
                             "times": ["evening"]}
    shown = state.records.snapshot.appointment(request_appointment_id(entry.id))
    assert shown is not None and shown.status == "requested" and shown.visit_kind == "HIV test"
    assert shown in state.records.snapshot.upcoming and told


def test_a_too_long_note_or_an_unknown_day_is_refused_and_nothing_is_queued(populated_state: AppState) -> None:
    state = populated_state
    before = dict(state.records.snapshot.outbox)
    state.visits.request("HIV test", "x" * (MAX_REQUEST_NOTE + 1))
    assert state.feedback.error and "note" in state.feedback.error.lower()
    state.visits.request("HIV test", "", days=("someday",))
    assert state.feedback.error and "someday" in state.feedback.error
    assert dict(state.records.snapshot.outbox) == before


def test_the_clinics_booking_replaces_the_request_in_place(paired_state: AppState, clinic: Clinic) -> None:
    state = paired_state
    state.visits.request("Counselling", "Any Tuesday", days=("tue",), times=("afternoon",))
    [entry] = [e for e in state.records.snapshot.outbox.values() if e.type == "appointment.request"]
    visit_id = request_appointment_id(entry.id)
    assert _wait(lambda: state.records.snapshot.status.pending == 0), state.records.snapshot.status
    [item] = [i for i in clinic.server.staff.inbox(patient_id=clinic.patient_id) if i["kind"] == "appointment.request"]
    assert item["ref_id"] == visit_id and item["detail"]["note"] == "Any Tuesday"
    start = (datetime.now(UTC) + timedelta(days=6)).replace(hour=13, minute=0, second=0, microsecond=0)
    answer = clinic.server.staff.request("PATCH", f"/v1/staff/appointments/{visit_id}",
                                         json={"status": "scheduled", "start": start.isoformat()})
    assert answer.status_code == 200, answer.text

    def booked() -> bool:
        appt = state.records.snapshot.appointment(visit_id)
        return appt is not None and appt.status == "scheduled" and appt.start == start

    assert _wait(booked)  # the live loop brings it; no second visit appears
    assert [a.id for a in state.records.snapshot.upcoming].count(visit_id) == 1
    assert not [i for i in clinic.server.staff.inbox(patient_id=clinic.patient_id)
                if i["kind"] == "appointment.request"]
