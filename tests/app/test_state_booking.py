"""Booking an open time from the app, against the real server: the clinic's open times reach the
device with its records, a booking made offline shows as "Booking…" and becomes the confirmed visit
with its prep checklist at the next sync; a time another device took meanwhile comes back as
"just taken" with the nearest three to take instead. Asking the desk stays as it was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from companion.core.open_times import booking_appointment_id
from companion.state import AppState
from tests.fixtures.app_state import Clinic, sync_now
from tests.support.server_harness import ServerProcess, mutation

ALL_DAY = [{"day": d, "opens": "00:00", "closes": "24:00", "resource": "Room A"}
           for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]


@pytest.fixture
def service(clinic: Clinic) -> dict[str, Any]:
    response = clinic.server.staff.request("POST", "/v1/staff/services", json={
        "name": f"STI screening {clinic.patient_id[-4:]}", "minutes": 15,
        "hours": [dict(h, resource=f"Room {clinic.patient_id}") for h in ALL_DAY],
        "prep": [{"title": "Drink water", "body": "Half a litre.", "before_minutes": 60}]})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def state(service: dict[str, Any], manual_sync_state: AppState) -> AppState:
    sync_now(manual_sync_state)  # the service's open times reach the device
    return manual_sync_state


def _other_device_books(server: ServerProcess, service_id: str, start: datetime) -> None:
    pid = server.staff.add_patient("Quicker Patient")["id"]
    with server.device_client(server.pair_device(pid)["token"]) as http:
        m = mutation("appointment.book", service_id=service_id, start=start.isoformat().replace("+00:00", "Z"))
        assert http.post("/v1/sync", json={"mutations": [m]}).json()["results"][0]["status"] == "applied"


def test_open_times_arrive_with_the_records_by_day(state: AppState, service: dict[str, Any]) -> None:
    [days] = [state.booking.days(s.id) for s in state.booking.services() if s.id == service["id"]]
    starts = [t for _, ts in days for t in ts]
    assert starts and starts == sorted(starts) and starts[0] > datetime.now(UTC) + timedelta(minutes=59)
    assert all(t.astimezone(state.services.tz).date() == d for d, ts in days for t in ts)


def test_a_booking_made_offline_shows_booking_then_the_confirmed_visit_with_its_prep(
        state: AppState, service: dict[str, Any]) -> None:
    start = next(ts for _, ts in state.booking.days(service["id"]) if len(ts) > 2)[2]  # late on, today has few
    visit_id = state.booking.book(service["id"], start)
    assert visit_id is not None and state.feedback.error is None
    shown = state.records.snapshot.appointment(visit_id)
    assert shown is not None and (shown.status, shown.start, shown.minutes) == ("requested", start, 15)
    assert shown in state.records.snapshot.upcoming
    sync_now(state)
    visit = state.records.snapshot.appointment(visit_id)
    assert visit is not None and visit.status == "confirmed" and visit.start == start
    assert [p.title for p in state.records.snapshot.prep_for(visit_id)] == ["Drink water"]
    assert start not in [t for _, ts in state.booking.days(service["id"]) for t in ts]
    assert not state.booking.taken()


def test_a_time_taken_meanwhile_comes_back_with_the_nearest_three_and_one_can_be_taken(
        state: AppState, clinic: Clinic, service: dict[str, Any]) -> None:
    wanted = next(ts for _, ts in state.booking.days(service["id"]) if len(ts) > 5)[5]  # late on, today has few
    visit_id = state.booking.book(service["id"], wanted)
    assert visit_id is not None
    _other_device_books(clinic.server, service["id"], wanted)  # while this device was offline
    sync_now(state)
    assert state.records.snapshot.appointment(visit_id) is None  # "Booking…" is gone
    [entry] = state.booking.taken()
    offers = state.booking.offers(entry)
    assert len(offers) == 3 and wanted not in offers
    assert max(abs(t - wanted) for t in offers) <= timedelta(minutes=30)
    again = state.booking.rebook(entry.id, offers[0])
    assert again == booking_appointment_id(next(e.id for e in state.records.snapshot.outbox.values()
                                                 if e.state == "pending"))
    assert not state.booking.taken()  # the refusal was dismissed with the new booking
    sync_now(state)
    visit = state.records.snapshot.appointment(again)
    assert visit is not None and visit.status == "confirmed" and visit.start == offers[0]


def test_a_time_that_is_no_longer_open_on_the_device_is_refused_before_queueing(
        state: AppState, service: dict[str, Any]) -> None:
    before = dict(state.records.snapshot.outbox)
    assert state.booking.book(service["id"], datetime(2020, 1, 1, 10, tzinfo=UTC)) is None
    assert state.feedback.error and "no longer open" in state.feedback.error
    assert state.booking.book("svc_unknown", datetime.now(UTC) + timedelta(days=2)) is None
    assert dict(state.records.snapshot.outbox) == before


def test_cancelling_a_booked_visit_frees_the_time_for_others(state: AppState, service: dict[str, Any]) -> None:
    start = state.booking.days(service["id"])[0][1][0]
    visit_id = state.booking.book(service["id"], start)
    sync_now(state)
    assert visit_id is not None and start not in state.booking.service(service["id"]).open_after(  # type: ignore[union-attr]
        datetime.now(UTC))
    state.visits.cancel(visit_id, "Something came up")
    sync_now(state)
    service_times = state.booking.service(service["id"])
    assert service_times is not None and start in service_times.open_after(datetime.now(UTC))
