"""Self-booking on SQLite and PostgreSQL: the desk's services, hours and blocks become open times in
every device's feed; a device books one through the sync endpoint; two devices racing for one
start get exactly one visit between them and the loser is offered the nearest three; cancelling
frees the time; the desk books for a patient through the same rule. A hostile booking is refused
with one clear line and changes nothing."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from companion.clinic.server.schema import SCHEMA_VERSION
from companion.clinic.server.tokens import new_id
from companion.core.fields import parse_datetime
from companion.core.open_times import booking_appointment_id, is_booking, offered_times
from tests.support.old_schema import add_old_patient, migrated_from, schema_version
from tests.support.server_harness import ServerProcess, mutation, pull_all

ALL_DAY = [{"day": d, "opens": "00:00", "closes": "24:00", "resource": "Room 1"}
           for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]
PREP = [{"title": "Drink water", "body": "Half a litre an hour before.", "before_minutes": 60}]


def _service(server: ServerProcess, name: str, minutes: int = 15, hours: list[dict[str, str]] | None = None,
             **fields: Any) -> dict[str, Any]:
    response = server.staff.request("POST", "/v1/staff/services", json={
        "name": name, "minutes": minutes, "hours": ALL_DAY if hours is None else hours, "prep": PREP, **fields})
    assert response.status_code == 201, response.text
    service: dict[str, Any] = response.json()
    return service


@pytest.fixture
def device(server: ServerProcess) -> Iterator[tuple[str, httpx.Client]]:
    pid = server.staff.add_patient("Booking Patient")["id"]
    with server.device_client(server.pair_device(pid)["token"]) as http:
        yield pid, http


def _open_times(http: httpx.Client, service_id: str) -> list[datetime]:
    changes, _ = pull_all(http)
    record = next(c["data"] for c in reversed(changes) if c["kind"] == "open_times" and c["id"] == service_id)
    base = parse_datetime(record["base"], "base")
    return [base + timedelta(minutes=m) for m in record["starts"]]


def _push(http: httpx.Client, *mutations: dict[str, Any]) -> list[dict[str, Any]]:
    response = http.post("/v1/sync", json={"mutations": list(mutations)})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def _book(start: datetime, service_id: str) -> dict[str, Any]:
    return mutation("appointment.book", service_id=service_id, start=start.isoformat().replace("+00:00", "Z"))


def test_weekly_hours_and_blocks_become_open_times_on_every_device(server: ServerProcess,
                                                                   device: tuple[str, httpx.Client]) -> None:
    _, http = device
    room = "Room M"
    service = _service(server, "Monday clinic", hours=[{"day": "mon", "opens": "09:00", "closes": "10:00",
                                                        "resource": room}])
    now = datetime.now(UTC)
    expected = [datetime.combine(now.date() + timedelta(days=d), time(9, m), UTC)
                for d in range(21) for m in (0, 15, 30, 45) if (now.date() + timedelta(days=d)).weekday() == 0]
    expected = [t for t in expected if t >= now + timedelta(hours=1)]
    assert _open_times(http, service["id"]) == expected  # the server's clinic runs in UTC
    first_monday = expected[0].replace(hour=0, minute=0)
    block = server.staff.request("POST", "/v1/staff/blocks", json={
        "starts_at": first_monday.isoformat(), "ends_at": (first_monday + timedelta(days=1)).isoformat(),
        "resource": room, "reason": "Training day"})
    assert block.status_code == 201, block.text
    assert _open_times(http, service["id"]) == [t for t in expected if t.date() != first_monday.date()]
    assert server.staff.request("DELETE", f"/v1/staff/blocks/{block.json()['id']}").status_code == 204
    assert _open_times(http, service["id"]) == expected


def test_three_weeks_of_open_times_cost_few_bytes(server: ServerProcess, device: tuple[str, httpx.Client]) -> None:
    _, http = device
    weekdays = [{"day": d, "opens": "09:00", "closes": "17:00", "resource": "Room W"}
                for d in ("mon", "tue", "wed", "thu", "fri")]
    service = _service(server, "STI screening", hours=weekdays)
    changes, _ = pull_all(http)
    record = next(c for c in changes if c["kind"] == "open_times" and c["id"] == service["id"])
    size = len(json.dumps(record, separators=(",", ":")))
    assert len(record["data"]["starts"]) >= 13 * 32  # at least 13 weekdays of 32 quarter hours ahead
    assert size < 7 * len(record["data"]["starts"]) + 400, size  # ~6 bytes a start; an ISO string is 23


def test_a_device_books_an_open_time_and_gets_a_confirmed_visit_with_its_prep(
        server: ServerProcess, device: tuple[str, httpx.Client]) -> None:
    _, http = device
    service = _service(server, "PrEP review", minutes=30, sensitive=True)
    start = _open_times(http, service["id"])[3]
    m = _book(start, service["id"])
    assert _push(http, m)[0]["status"] == "applied"
    changes, _ = pull_all(http)
    visit = next(c["data"] for c in changes if c["kind"] == "appointment")
    assert visit["id"] == booking_appointment_id(m["id"])
    assert (visit["status"], visit["kind"], visit["minutes"], visit["sensitive"]) == ("confirmed", "PrEP review", 30,
                                                                                      True)
    assert parse_datetime(visit["start"], "start") == start
    assert [c["data"]["title"] for c in changes if c["kind"] == "prep"] == ["Drink water"]
    assert start not in _open_times(http, service["id"])
    assert _push(http, m)[0]["status"] == "duplicate"  # a resent booking books nothing twice
    assert is_booking(visit["id"])


def test_a_desk_made_visit_is_never_taken_for_a_booking_whatever_its_random_id() -> None:
    """A desk id is ``apt_`` + its time + 14 random symbols, and a random id started ``apt_b`` one
    time in 32 (CI met one): whatever its symbols, the desk must not call it "Booked in the app", nor
    the app show it as "Booking…". Ids whose first symbol is ``b`` are made here from real ones."""
    made = [new_id("apt") for _ in range(2000)]
    made += ["apt_b" + i[5:] for i in made]
    assert not any(is_booking(i) for i in made)
    assert not is_booking("apt_b" + "0" * 31) and not is_booking("apt_b" + "0" * 32 + "x")


def test_two_devices_racing_for_one_time_one_wins_the_other_is_offered_the_nearest_three(
        server: ServerProcess) -> None:
    service = _service(server, "Race screening", hours=[dict(h, resource="Room R") for h in ALL_DAY])
    clients = []
    for name in ("Racer A", "Racer B"):
        pid = server.staff.add_patient(name)["id"]
        clients.append(server.device_client(server.pair_device(pid)["token"]))
    try:
        wanted = _open_times(clients[0], service["id"])[10]
        answers: dict[int, dict[str, Any]] = {}
        go = threading.Barrier(2)

        def race(i: int) -> None:
            go.wait()
            answers[i] = _push(clients[i], _book(wanted, service["id"]))[0]

        threads = [threading.Thread(target=race, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(a["status"] for a in answers.values())
        assert statuses == ["applied", "rejected"]
        loser = next(a for a in answers.values() if a["status"] == "rejected")
        offered = offered_times(loser["reason"])
        assert offered is not None and len(offered) == 3 and wanted not in offered
        assert max(abs(t - wanted) for t in offered) <= timedelta(minutes=30)  # the nearest, either side
        visits = [c for h in clients for c in pull_all(h)[0] if c["kind"] == "appointment"]
        assert len(visits) == 1
        assert _push(clients[answers[0]["status"] == "applied"], _book(offered[0], service["id"]))[0][
            "status"] == "applied"  # the loser takes an offered time
    finally:
        for h in clients:
            h.close()


def test_cancelling_a_booked_visit_frees_its_time(server: ServerProcess, device: tuple[str, httpx.Client]) -> None:
    _, http = device
    service = _service(server, "Treatment visit", minutes=20, hours=[dict(h, resource="Room T") for h in ALL_DAY])
    start = _open_times(http, service["id"])[0]
    m = _book(start, service["id"])
    assert _push(http, m)[0]["status"] == "applied"
    assert start not in _open_times(http, service["id"])
    cancel = mutation("appointment.cancel", appointment_id=booking_appointment_id(m["id"]), reason="Can't make it")
    assert _push(http, cancel)[0]["status"] == "applied"
    assert start in _open_times(http, service["id"])


def test_services_sharing_a_room_never_book_it_twice(server: ServerProcess, device: tuple[str, httpx.Client]) -> None:
    _, http = device
    shared = [dict(h, resource="Room S") for h in ALL_DAY]
    short, long_ = _service(server, "Short visit", 15, shared), _service(server, "Long visit", 30, shared)
    start = next(t for t in _open_times(http, long_["id"]) if t.minute == 0)
    assert _push(http, _book(start, long_["id"]))[0]["status"] == "applied"
    short_open = _open_times(http, short["id"])
    assert start not in short_open and start + timedelta(minutes=15) not in short_open
    assert start + timedelta(minutes=30) in short_open


def test_the_desk_books_for_a_patient_and_a_taken_time_is_a_clear_conflict(server: ServerProcess,
                                                                           device: tuple[str, httpx.Client]) -> None:
    pid, http = device
    service = _service(server, "Desk screening", hours=[dict(h, resource="Room D") for h in ALL_DAY])
    start = _open_times(http, service["id"])[2]
    body = {"service_id": service["id"], "start": start.isoformat()}
    booked = server.staff.request("POST", f"/v1/staff/patients/{pid}/bookings", json=body)
    assert booked.status_code == 201, booked.text
    assert booked.json()["status"] == "confirmed" and booked.json()["patient_id"] == pid
    again = server.staff.request("POST", f"/v1/staff/patients/{pid}/bookings", json=body)
    assert again.status_code == 409
    assert offered_times(again.json()["error"]["message"]) is not None
    listed = server.staff.request("GET", f"/v1/staff/services/{service['id']}/open-times").json()["open"]
    assert start.isoformat().replace("+00:00", "Z") not in [x.replace(".000000", "") for x in listed]


@pytest.mark.parametrize(("payload", "reason"), [
    ({"service_id": "svc_doesnotexist00"}, "unknown service"),
    ({"start": "2031-01-01T10:07:00Z"}, "slot_taken"),  # not a start of the grid
    ({"start": "2020-01-01T10:00:00Z"}, "slot_taken"),  # the past
    ({"start": "tomorrow at ten"}, "payload.start"),
    ({"start": "2031-01-01T10:00:00"}, "payload.start"),  # no UTC offset
    ({"service_id": "x" * 41}, "payload.service_id"),
])
def test_a_hostile_booking_is_refused_in_one_line_and_books_nothing(
        server: ServerProcess, device: tuple[str, httpx.Client], payload: dict[str, str], reason: str) -> None:
    _, http = device
    service = _service(server, "Guarded visit", hours=[dict(h, resource="Room G") for h in ALL_DAY])
    m = mutation("appointment.book", **{"service_id": service["id"], "start": "2031-01-01T10:00:00Z", **payload})
    [answer] = _push(http, m)
    assert answer["status"] == "rejected" and reason in answer["reason"] and "\n" not in answer["reason"]
    assert not [c for c in pull_all(http)[0] if c["kind"] == "appointment"]


def test_a_visit_the_desk_books_another_way_takes_its_time_out_of_the_open_times(
        server: ServerProcess, device: tuple[str, httpx.Client]) -> None:
    """The free-form "add visit" form names the room, not a service: the room's open times still
    lose that time (on every device), an app booking of it is refused with the nearest three, and
    moving or cancelling the visit gives the time back."""
    pid, http = device
    service = _service(server, "Room two check", hours=[dict(h, resource="Room 2") for h in ALL_DAY])
    other = _service(server, "Room three check", hours=[dict(h, resource="Room 3") for h in ALL_DAY])
    opened = _open_times(http, service["id"])
    ten = next(t for t in opened if t.minute == 0 and t > opened[0] + timedelta(hours=1))
    stamp = ten.isoformat().replace("+00:00", "Z")
    made = server.staff.request("POST", f"/v1/staff/patients/{pid}/appointments", json={
        "start": stamp, "minutes": 30, "kind": "Follow-up", "location": " room 2 "})
    assert made.status_code == 201, made.text
    now_open = _open_times(http, service["id"])
    assert ten not in now_open and ten + timedelta(minutes=15) not in now_open
    assert ten + timedelta(minutes=30) in now_open and ten - timedelta(minutes=15) in now_open
    assert ten in _open_times(http, other["id"])  # another room is untouched
    refused = _push(http, _book(ten, service["id"]))[0]
    assert refused["status"] == "rejected", refused
    offered = offered_times(refused["reason"])
    assert offered is not None and len(offered) == 3 and ten not in offered
    visit = made.json()["id"]
    later = ten + timedelta(hours=2)
    moved = server.staff.request("PATCH", f"/v1/staff/appointments/{visit}",
                                 json={"start": later.isoformat().replace("+00:00", "Z")})
    assert moved.status_code == 200, moved.text
    after_move = _open_times(http, service["id"])
    assert ten in after_move and later not in after_move
    assert server.staff.request("PATCH", f"/v1/staff/appointments/{visit}",
                                json={"location": None, "provider": "Room 3"}).status_code == 200
    assert later in _open_times(http, service["id"]) and later not in _open_times(http, other["id"])
    cancelled = server.staff.request("POST", f"/v1/staff/appointments/{visit}/cancel", json={"reason": "Ill"})
    assert cancelled.status_code == 200, cancelled.text
    assert later in _open_times(http, other["id"])


def test_another_patients_booked_visit_cannot_be_cancelled(server: ServerProcess,
                                                           device: tuple[str, httpx.Client]) -> None:
    _, http = device
    service = _service(server, "Private visit", hours=[dict(h, resource="Room P") for h in ALL_DAY])
    start = _open_times(http, service["id"])[0]
    m = _book(start, service["id"])
    assert _push(http, m)[0]["status"] == "applied"
    other = server.staff.add_patient("Nosy Patient")["id"]
    with server.device_client(server.pair_device(other)["token"]) as nosy:
        [answer] = _push(nosy, mutation("appointment.cancel", appointment_id=booking_appointment_id(m["id"])))
    assert answer == {"id": answer["id"], "status": "rejected", "reason": "unknown appointment"}
    assert start not in _open_times(http, service["id"])


@pytest.mark.parametrize("body", [
    {"name": "x", "minutes": 2},
    {"name": "", "minutes": 15},
    {"name": "x" * 201, "minutes": 15},
    {"name": "x", "minutes": 15, "hours": [{"day": "mon", "opens": "10:00", "closes": "09:00", "resource": "R"}]},
    {"name": "x", "minutes": 15, "hours": [{"day": "moon", "opens": "09:00", "closes": "10:00", "resource": "R"}]},
    {"name": "x", "minutes": 15, "hours": [{"day": "mon", "opens": "9am", "closes": "10:00", "resource": "R"}]},
    {"name": "x", "minutes": 15, "extra": True},
])
def test_a_malformed_service_is_422(server: ServerProcess, body: dict[str, Any]) -> None:
    response = server.staff.request("POST", "/v1/staff/services", json=body)
    assert response.status_code == 422, response.text
    assert "\n" not in response.json()["error"]["message"]


def test_a_version_4_database_gains_the_booking_tables_and_keeps_its_visits(tmp_path: Any) -> None:
    def as_it_was(conn: sa.Connection) -> None:  # schema 4, with a visit in it
        for table in ("bookings", "service_hours", "schedule_blocks", "services", "notices", "notice_counts"):
            conn.execute(sa.text(f"DROP TABLE {table}"))
        add_old_patient(conn)
        conn.execute(sa.text("INSERT INTO appointments (id, patient_id, start, minutes, kind, status, sensitive, "
                             "sequence, created_at, updated_at) VALUES ('apt_old', 'pat_old', :t, 30, 'Visit', "
                             "'scheduled', 0, 0, :t, :t)"), {"t": "2026-01-02T00:00:00.000000Z"})

    with migrated_from(f"sqlite:///{tmp_path / 'v4.db'}", 4, as_it_was) as db, db.read() as conn:
        version = schema_version(conn)
        kept = conn.execute(sa.text("SELECT count(*) FROM appointments")).scalar_one()
        empty = [conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                 for t in ("services", "service_hours", "schedule_blocks", "bookings")]
    assert (version, kept, empty) == (str(SCHEMA_VERSION), 1, [0, 0, 0, 0])
