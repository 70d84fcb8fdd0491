"""Every staff list answers in pages of one shape, against the real server (both backends).

``?limit=N&after=CURSOR`` -> ``{<items>: [...], "next": cursor | null}`` (companion/clinic/server/pagination.py).
Each list is filled past a small page size and walked page by page: the pages together are the
whole list in the same order as one big page, with no item twice. Limits above the maximum and
forged or foreign cursors are refused with one-line JSON errors.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.server_harness import ServerProcess, mutation

N = 7
PAGE = 3
ListSpec = tuple[str, str, str, dict[str, Any]]  # path, key, role, params


def _walk(server: ServerProcess, spec: ListSpec, limit: int = PAGE) -> tuple[list[dict[str, Any]], int]:
    path, key, role, params = spec
    items: list[dict[str, Any]] = []
    pages, after = 0, None
    while True:
        answer = server.staff.request("GET", path, role, params={**params, "limit": limit,
                                                                 **({"after": after} if after else {})})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert set(body) >= {key, "next"}
        assert len(body[key]) <= limit
        items.extend(body[key])
        pages += 1
        after = body["next"]
        if after is None:
            return items, pages
        assert pages < 100


def _patients(server: ServerProcess) -> ListSpec:
    tag = uuid.uuid4().hex[:10]
    for i in range(N):
        server.staff.add_patient(f"Paged {tag} {i}")
    return "/v1/staff/patients", "patients", "psr", {"q": tag}


def _appointments(server: ServerProcess) -> ListSpec:
    pid = server.staff.add_patient("Many visits")["id"]
    start = datetime(2031, 5, 1, 9, tzinfo=UTC)
    for i in range(N):  # two at the same time: the id breaks the tie
        server.staff.add_appointment(pid, start=start + timedelta(hours=i // 2))
    return f"/v1/staff/patients/{pid}/appointments", "appointments", "psr", {}


def _prep(server: ServerProcess, per_patient: bool) -> ListSpec:
    pid = server.staff.add_patient("Much prep")["id"]
    appt = server.staff.add_appointment(pid)["id"]
    for i in range(N):
        server.staff.add_prep(appt, title=f"Step {i}", before_minutes=60 * (i % 3 + 1))
    if per_patient:
        return f"/v1/staff/patients/{pid}/prep", "prep", "psr", {}
    return f"/v1/staff/appointments/{appt}/prep", "prep", "psr", {}


def _bills(server: ServerProcess) -> ListSpec:
    pid = server.staff.add_patient("Many bills")["id"]
    for i in range(N):
        server.staff.add_bill(pid, due=f"2031-0{1 + i % 3}-15", amount_cents=100 + i)
    return f"/v1/staff/patients/{pid}/bills", "bills", "psr", {}


def _results(server: ServerProcess) -> ListSpec:
    pid = server.staff.add_patient("Many results")["id"]
    for i in range(N):
        server.staff.add_result(pid, test=f"Panel {i}")
    return f"/v1/staff/patients/{pid}/results", "results", "clinician", {}


def _messages(server: ServerProcess) -> ListSpec:
    pid = server.staff.add_patient("Chatty")["id"]
    for i in range(N):
        server.staff.send_message(pid, f"message {i}")
    return f"/v1/staff/patients/{pid}/messages", "messages", "psr", {}


def _inbox(server: ServerProcess) -> ListSpec:
    pid = server.staff.add_patient("Writes a lot")["id"]
    device = server.pair_device(pid)
    with server.device_client(device["token"]) as http:
        pushed = http.post("/v1/sync", json={"mutations": [mutation("message.send", body=f"hi {i}")
                                                           for i in range(N)]})
    assert pushed.status_code == 200, pushed.text
    return "/v1/staff/inbox", "items", "psr", {"patient_id": pid, "state": "all"}


def _devices(server: ServerProcess) -> ListSpec:
    pid = server.staff.add_patient("Many phones")["id"]
    for i in range(N):
        server.pair_device(pid, f"phone {i}")
    return f"/v1/staff/patients/{pid}/devices", "devices", "psr", {}


def _schedule(server: ServerProcess) -> ListSpec:
    day = datetime(2035, 1, 1, 8, tzinfo=UTC) + timedelta(days=uuid.uuid4().int % 3000)
    pid = server.staff.add_patient("Booked")["id"]
    for i in range(N):
        server.staff.add_appointment(pid, start=day + timedelta(minutes=30 * (i // 2)))
    return "/v1/staff/schedule", "appointments", "psr", {"start": day.isoformat(),
                                                         "end": (day + timedelta(days=1)).isoformat()}


def _audit(server: ServerProcess) -> ListSpec:
    pid = server.staff.add_patient("Audited")["id"]
    for i in range(N):
        server.staff.send_message(pid, f"audited {i}")
    return "/v1/staff/audit", "entries", "admin", {"patient_id": pid, "action": "message.send"}


def _accounts(server: ServerProcess) -> ListSpec:
    for i in range(N):
        made = server.staff.request("POST", "/v1/staff/accounts", "admin", json={"name": f"Temp {i}", "role": "psr"})
        assert made.status_code == 201, made.text
    return "/v1/staff/accounts", "staff", "admin", {}


def _articles(server: ServerProcess) -> ListSpec:
    for i in range(N):
        server.staff.add_article(title=f"Article {i}", body=f"# Article {i}")
    return "/v1/staff/articles", "articles", "psr", {}


LISTS: dict[str, Callable[[ServerProcess], ListSpec]] = {
    "patients": _patients, "appointments": _appointments, "appointment prep": lambda s: _prep(s, False),
    "patient prep": lambda s: _prep(s, True), "bills": _bills, "results": _results, "messages": _messages,
    "inbox": _inbox, "devices": _devices, "schedule": _schedule, "audit": _audit, "accounts": _accounts,
    "articles": _articles,
}


SINGLE = {"/v1/staff/me", "/v1/staff/status", "/v1/staff/clinic",  # the staff GETs that answer one object
          # and the short lists a clinic keeps a handful of (bookable services, blocks not yet over)
          "/v1/staff/services", "/v1/staff/blocks", "/v1/staff/services/{service_id}/open-times",
          "/v1/staff/notice-counts"}


@pytest.mark.parametrize("name", list(LISTS))
def test_every_staff_list_pages_through_everything_once(server: ServerProcess, name: str) -> None:
    spec = LISTS[name](server)
    whole, pages = _walk(server, spec, limit=500)
    assert pages == 1 and len(whole) >= N
    paged, pages = _walk(server, spec)
    assert [i["id"] for i in paged] == [i["id"] for i in whole]  # same order, nothing twice, nothing lost
    assert pages == -(-len(whole) // PAGE)  # the last page says so itself: no empty page at the end


def test_every_staff_list_route_takes_limit_and_after(server: ServerProcess) -> None:
    spec = server.staff.request("GET", "/openapi.json").json()
    lists = [path for path, ops in spec["paths"].items()
             if path.startswith("/v1/staff/") and "get" in ops and not path.endswith("}") and path not in SINGLE]
    assert len(lists) == len(LISTS)
    for path in lists:
        names = {p["name"] for p in spec["paths"][path]["get"].get("parameters", [])}
        assert {"limit", "after"} <= names, path


def test_an_item_added_between_pages_is_neither_repeated_nor_skipped(server: ServerProcess) -> None:
    pid = server.staff.add_patient("Moving list")["id"]
    start = datetime(2032, 2, 1, 9, tzinfo=UTC)
    made = [server.staff.add_appointment(pid, start=start + timedelta(days=i))["id"] for i in range(6)]
    path = f"/v1/staff/patients/{pid}/appointments"
    first = server.staff.request("GET", path, params={"limit": 3}).json()
    assert [a["id"] for a in first["appointments"]] == made[:3]
    earlier = server.staff.add_appointment(pid, start=start - timedelta(days=1))["id"]  # before the cursor
    later = server.staff.add_appointment(pid, start=start + timedelta(days=30))["id"]
    rest = server.staff.request("GET", path, params={"limit": 500, "after": first["next"]}).json()
    assert [a["id"] for a in rest["appointments"]] == [*made[3:], later] and rest["next"] is None
    assert earlier not in {a["id"] for a in rest["appointments"]}


def _error(server: ServerProcess, path: str, **params: Any) -> dict[str, Any]:
    answer = server.staff.request("GET", path, params=params)
    assert answer.status_code == 422, answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert set(error) == {"code", "message"} and "\n" not in error["message"]
    return error


def test_limits_and_cursors_are_checked(server: ServerProcess) -> None:
    pid = server.staff.add_patient("Checked")["id"]
    for _ in range(3):
        server.staff.add_bill(pid)
    path = f"/v1/staff/patients/{pid}/bills"
    assert "limit" in _error(server, path, limit=501)["message"]
    assert _error(server, path, limit=0)["code"] == "invalid_request"
    forged = base64.urlsafe_b64encode(b'["bills","not a date","x"]').decode().rstrip("=")
    for cursor in ("garbage!!", forged, "e30"):
        assert "after: not a cursor of this list" in _error(server, path, after=cursor)["message"]
    # a cursor from another list is refused too, not misread
    for _ in range(2):
        server.staff.add_appointment(pid)
    foreign = server.staff.request("GET", f"/v1/staff/patients/{pid}/appointments", params={"limit": 1}).json()["next"]
    assert foreign and _error(server, path, after=foreign)["code"] == "invalid_request"
    # a client of the offset era gets a clear refusal, not the first page for ever
    assert "offset" in _error(server, "/v1/staff/inbox", offset=500)["message"]
    assert "after" in _error(server, "/v1/staff/patients", offset=0)["message"]
