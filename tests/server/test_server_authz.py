"""Authorization matrix on SQLite and PostgreSQL.

Every route × {no token, garbage token, another patient's device, a revoked device, each staff
role without the permission}: the right status code and not one byte of the patient's data.
The expected policy is written out here independently of the server's own table, and the
route list is checked against /openapi.json so a new route cannot slip past the matrix.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from companion.core.references import bill_reference
from tests.support.server_harness import ServerProcess, mutation, pull_all

SENTINEL = "Zanzibar-Authz-Sentinel"
ROLES = ("psr", "clinician", "admin")
P, C, A = frozenset({"psr"}), frozenset({"clinician"}), frozenset({"admin"})
PC, PA, ALL = P | C, P | A, P | C | A
_APPT = {"start": "2031-01-01T10:00:00Z", "minutes": 30, "kind": "Check-up"}

# (method, path template) -> (roles allowed, JSON body)
STAFF_ROUTES: dict[tuple[str, str], tuple[frozenset[str], dict[str, Any] | None]] = {
    ("GET", "/v1/staff/me"): (ALL, None),
    ("DELETE", "/v1/staff/sessions/current"): (ALL, None),
    ("GET", "/v1/staff/schedule"): (PC, None),
    ("POST", "/v1/staff/accounts"): (A, {"name": "New person", "role": "psr"}),
    ("GET", "/v1/staff/accounts"): (A, None),
    ("POST", "/v1/staff/accounts/{staff_id}/revoke"): (A, None),
    ("GET", "/v1/staff/audit"): (A, None),
    ("GET", "/v1/staff/status"): (A, None),
    ("GET", "/v1/staff/clinic"): (ALL, None),
    ("POST", "/v1/staff/patients"): (P, {"name": "Someone"}),
    ("GET", "/v1/staff/patients"): (PC, None),
    ("GET", "/v1/staff/patients/{patient_id}"): (PC, None),
    ("PATCH", "/v1/staff/patients/{patient_id}"): (P, {"phone": "123"}),
    ("POST", "/v1/staff/patients/{patient_id}/insurance/verification"): (P, {"status": "verified"}),
    ("POST", "/v1/staff/patients/{patient_id}/pairing-codes"): (P, None),
    ("GET", "/v1/staff/patients/{patient_id}/devices"): (PA, None),
    ("GET", "/v1/staff/devices/{device_id}"): (PA, None),
    ("POST", "/v1/staff/devices/{device_id}/revoke"): (PA, None),
    ("POST", "/v1/staff/patients/{patient_id}/appointments"): (P, _APPT),
    ("GET", "/v1/staff/patients/{patient_id}/appointments"): (PC, None),
    ("GET", "/v1/staff/appointments/{appointment_id}"): (PC, None),
    ("PATCH", "/v1/staff/appointments/{appointment_id}"): (P, {"location": "Room 9"}),
    ("POST", "/v1/staff/appointments/{appointment_id}/cancel"): (P, {}),
    ("POST", "/v1/staff/appointments/{appointment_id}/prep"): (P, {"title": "t", "body": "b", "before_minutes": 60}),
    ("GET", "/v1/staff/appointments/{appointment_id}/prep"): (PC, None),
    ("GET", "/v1/staff/patients/{patient_id}/prep"): (PC, None),
    ("DELETE", "/v1/staff/prep/{prep_id}"): (P, None),
    ("POST", "/v1/staff/patients/{patient_id}/bills"): (P, {"description": "d", "amount_cents": 100,
                                                           "due": "2031-01-01"}),
    ("GET", "/v1/staff/patients/{patient_id}/bills"): (PC, None),
    ("GET", "/v1/staff/bills/{bill_id}"): (PC, None),
    ("PATCH", "/v1/staff/bills/{bill_id}"): (P, {"status": "paid"}),
    ("PUT", "/v1/staff/bills/{bill_id}/payment-plan"): (P, {"status": "active", "installments": 2}),
    ("POST", "/v1/staff/patients/{patient_id}/results"): (C, {"test": "HIV", "interpretation": "negative"}),
    ("GET", "/v1/staff/patients/{patient_id}/results"): (PC, None),
    ("GET", "/v1/staff/results/{result_id}"): (PC, None),
    ("POST", "/v1/staff/results/{result_id}/release"): (C, None),
    ("POST", "/v1/staff/results/{result_id}/block"): (C, None),
    ("POST", "/v1/staff/patients/{patient_id}/messages"): (PC, {"body": "hello"}),
    ("GET", "/v1/staff/patients/{patient_id}/messages"): (PC, None),
    ("GET", "/v1/staff/inbox"): (P, None),
    ("GET", "/v1/staff/inbox/{item_id}"): (P, None),
    ("POST", "/v1/staff/inbox/{item_id}/read"): (P, None),
    ("POST", "/v1/staff/inbox/{item_id}/handle"): (P, None),
    ("POST", "/v1/staff/inbox/{item_id}/reply"): (P, {"body": "Thanks, noted."}),
    ("GET", "/v1/staff/bill-references/{reference}"): (PC, None),
    ("POST", "/v1/staff/articles"): (PC, {"title": "t", "body": "b"}),
    ("GET", "/v1/staff/articles"): (PC, None),
    ("DELETE", "/v1/staff/articles/{article_id}"): (PC, None),
    ("GET", "/v1/staff/services"): (PC, None),
    ("POST", "/v1/staff/services"): (P, {"name": "Screening", "minutes": 15}),
    ("PUT", "/v1/staff/services/{service_id}"): (P, {"name": "Screening", "minutes": 15}),
    ("GET", "/v1/staff/services/{service_id}/open-times"): (PC, None),
    ("GET", "/v1/staff/blocks"): (PC, None),
    ("POST", "/v1/staff/blocks"): (P, {"starts_at": "2031-01-01T00:00:00Z", "ends_at": "2031-01-02T00:00:00Z"}),
    ("DELETE", "/v1/staff/blocks/{block_id}"): (P, None),
    ("POST", "/v1/staff/patients/{patient_id}/bookings"): (P, {"service_id": "svc_x", "start": "2031-01-01T10:00:00Z"}),
    ("GET", "/v1/staff/notice-counts"): (PC, None),
}
DEVICE_ROUTES = {("GET", "/v1/sync"), ("POST", "/v1/sync"), ("GET", "/v1/devices/me"), ("DELETE", "/v1/devices/me")}
OPEN_ROUTES = {("GET", "/healthz"), ("POST", "/v1/devices"), ("POST", "/v1/staff/sessions"),
               # public by design, no patient data (tests/server/test_server_smart_links.py)
               ("GET", "/$bulk-publish"), ("GET", "/smart/locations.ndjson"), ("GET", "/smart/schedules.ndjson"),
               ("GET", "/smart/slots.ndjson"), ("GET", "/smart/book/{slot_id}"),
               # partner notices' public pages (tests/server/test_server_partner_notice.py)
               ("GET", "/n/{code}"), ("POST", "/n/{code}/book"), ("POST", "/n/{code}/report")}
QUERIES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/v1/staff/schedule"): {"start": "2031-01-01T00:00:00Z", "end": "2031-01-08T00:00:00Z"},
}


@dataclass
class World:
    """Patient A with one of everything; B's device; A's revoked device."""

    ids: dict[str, str]
    secrets: list[str]  # strings that must never appear in a refused answer
    other_device: str
    revoked_device: str


@pytest.fixture(scope="module")
def world(server: ServerProcess) -> Iterator[World]:
    st = server.staff
    pid = st.add_patient(SENTINEL, phone="+1 555 0199", email="sentinel@example.org")["id"]
    appt = st.add_appointment(pid, kind="Sentinel visit")
    prep = st.add_prep(appt["id"], title="Sentinel prep")
    bill = st.add_bill(pid, description="Sentinel bill")
    result = st.add_result(pid, value="Sentinel-value")
    st.send_message(pid, "Sentinel message body")
    article = st.add_article(title="Clinic article", body="For every patient")
    active = server.pair_device(pid)
    with server.device_client(active["token"]) as http:
        http.post("/v1/sync", json={"mutations": [mutation("message.send", body="Sentinel from patient")]})
    item = st.inbox(patient_id=pid)[0]
    revoked = server.pair_device(pid)
    st.revoke_device(revoked["device_id"])
    other_pid = st.add_patient("Other patient")["id"]
    other = server.pair_device(other_pid)
    extra_staff = st.request("POST", "/v1/staff/accounts", "admin", json={"name": "Temp", "role": "psr"}).json()
    service = st.request("POST", "/v1/staff/services", json={"name": "Matrix service", "minutes": 15}).json()
    block = st.request("POST", "/v1/staff/blocks", json={"starts_at": "2031-01-01T00:00:00Z",
                                                         "ends_at": "2031-01-02T00:00:00Z"}).json()
    ids = {"patient_id": pid, "appointment_id": appt["id"], "prep_id": prep["id"], "bill_id": bill["id"],
           "result_id": result["id"], "article_id": article["id"], "device_id": active["device_id"],
           "item_id": item["id"], "staff_id": extra_staff["id"], "reference": bill_reference(bill["id"]),
           "service_id": service["id"], "block_id": block["id"]}
    secrets = [SENTINEL, "Sentinel", "sentinel@example.org", "555 0199",
               *(v for k, v in ids.items() if k not in ("staff_id", "reference", "service_id", "block_id"))]
    yield World(ids=ids, secrets=secrets, other_device=other["token"], revoked_device=revoked["token"])


def _path(template: str, ids: dict[str, str]) -> str:
    return template.format(**ids)


def _assert_refusal(response: Any, status: int, secrets: list[str], path: str) -> None:
    assert response.status_code == status, f"{path}: {response.status_code} {response.text[:200]}"
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    for secret in secrets:
        if secret not in path:
            assert secret not in response.text, f"{path} leaked {secret!r}"


def test_every_route_is_in_the_matrix(server: ServerProcess) -> None:
    schema = server.staff.request("GET", "/openapi.json").json()
    served = {(method.upper(), path) for path, item in schema["paths"].items() for method in item}
    assert served == set(STAFF_ROUTES) | DEVICE_ROUTES | OPEN_ROUTES


@pytest.mark.parametrize(("method", "template"), sorted(STAFF_ROUTES))
def test_staff_route_refuses_everyone_without_the_right(server: ServerProcess, world: World, method: str,
                                                        template: str) -> None:
    allowed, body = STAFF_ROUTES[(method, template)]
    path = _path(template, world.ids)
    kwargs: dict[str, Any] = {"json": body} if body is not None else {}
    if (method, template) in QUERIES:
        kwargs["params"] = QUERIES[(method, template)]
    with server.device_client() as anonymous:
        _assert_refusal(anonymous.request(method, path, **kwargs), 401, world.secrets, path)
        for junk in ("Bearer cps_not-a-real-token", "Bearer nonsense", "Basic dXNlcjpwdw==", "Bearer"):
            response = anonymous.request(method, path, headers={"Authorization": junk}, **kwargs)
            _assert_refusal(response, 401, world.secrets, path)
    for token in (world.other_device, world.revoked_device):
        with server.device_client(token) as device:
            _assert_refusal(device.request(method, path, **kwargs), 401, world.secrets, path)
    for role in ROLES:
        if role not in allowed:
            response = server.staff.request(method, path, role, **kwargs)
            _assert_refusal(response, 403, world.secrets, path)


@pytest.mark.parametrize(("method", "template"), sorted(k for k in STAFF_ROUTES if "{" in k[1]))
def test_unknown_ids_are_404_for_allowed_roles(server: ServerProcess, world: World, method: str,
                                               template: str) -> None:
    allowed, body = STAFF_ROUTES[(method, template)]
    fake = {key: f"{value[:3]}_doesnotexist00" for key, value in world.ids.items()}
    path = _path(template, fake)
    kwargs: dict[str, Any] = {"json": body} if body is not None else {}
    response = server.staff.request(method, path, sorted(allowed)[0], **kwargs)
    _assert_refusal(response, 404, world.secrets, path)
    assert response.json()["error"]["code"] == "not_found"


def test_device_routes_refuse_missing_garbage_staff_and_revoked_tokens(server: ServerProcess, world: World) -> None:
    for method, path in sorted(DEVICE_ROUTES):
        body: dict[str, Any] = {"json": {"mutations": []}} if method == "POST" else {}
        with server.device_client() as anonymous:
            _assert_refusal(anonymous.request(method, path, **body), 401, world.secrets, path)
            for junk in (f"Bearer {server.tokens['psr']}", "Bearer cpd_forged", "Bearer x" * 50):
                response = anonymous.request(method, path, headers={"Authorization": junk}, **body)
                _assert_refusal(response, 401, world.secrets, path)
        with server.device_client(world.revoked_device) as revoked:
            response = revoked.request(method, path, **body)
            _assert_refusal(response, 401, world.secrets, path)
            assert response.json()["error"]["code"] == "device_revoked"


def test_another_patients_device_sees_nothing_of_this_patient(server: ServerProcess, world: World) -> None:
    with server.device_client(world.other_device) as other:
        changes, _ = pull_all(other)
        me = other.get("/v1/devices/me").json()
        pushed = other.post("/v1/sync", json={"mutations": [
            mutation("message.read", message_id=world.ids["item_id"]),
            mutation("prep.done", prep_id=world.ids["prep_id"]),
            mutation("result.ack", result_id=world.ids["result_id"]),
        ]}).json()
    assert me["patient_id"] != world.ids["patient_id"]
    text = repr(changes) + repr(pushed)
    for secret in world.secrets:
        if secret != world.ids["article_id"]:  # articles are clinic-wide: everyone gets them
            assert secret not in text
    assert all(r["status"] == "rejected" for r in pushed["results"])
