"""Questions about a bill on SQLite and PostgreSQL: a message in the bill's thread becomes the bill's
billing item (reference and amount shown, one open item per bill), the desk answers it from the item
and the answer closes it; the bill's payment reference maps back to the bill. A device asking about
another patient's bill, an oversized question and a replayed push change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from companion.core.models import MAX_BODY
from companion.core.protocol import bill_thread
from companion.core.references import bill_reference
from tests.support.server_harness import ServerProcess, mutation, pull_all


@pytest.fixture
def device(server: ServerProcess) -> Iterator[tuple[str, str, httpx.Client]]:
    pid = server.staff.add_patient("Billing Patient")["id"]
    bill = server.staff.add_bill(pid, amount_cents=4500, description="HIV test visit")
    with server.device_client(server.pair_device(pid)["token"]) as http:
        yield pid, bill["id"], http


def _push(http: httpx.Client, *mutations: dict[str, Any]) -> list[dict[str, Any]]:
    response = http.post("/v1/sync", json={"mutations": list(mutations)})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def _questions(server: ServerProcess, pid: str, state: str = "open") -> list[dict[str, Any]]:
    return [i for i in server.staff.inbox(state, patient_id=pid) if i["kind"] == "bill.question"]


def test_a_question_becomes_one_billing_item_that_the_reply_closes(
        server: ServerProcess, device: tuple[str, str, httpx.Client]) -> None:
    pid, bill_id, http = device
    ask = mutation("message.send", body="Why is the lab fee not covered?", thread=bill_thread(bill_id))
    assert _push(http, ask)[0]["status"] == "applied"
    [item] = _questions(server, pid)
    assert item["ref_kind"] == "bill" and item["ref_id"] == bill_id and item["unread"]
    d = item["detail"]
    assert d["reference"] == bill_reference(bill_id) and d["amount_cents"] == 4500 and d["bill_id"] == bill_id
    assert d["thread"] == bill_thread(bill_id) and d["body"] == "Why is the lab fee not covered?"
    assert [i["kind"] for i in server.staff.inbox(patient_id=pid)] == ["bill.question"]  # not also a plain message

    server.staff.request("POST", f"/v1/staff/inbox/{item['id']}/read").raise_for_status()
    again = mutation("message.send", body="And can I pay by card?", thread=bill_thread(bill_id))
    assert _push(http, again)[0]["status"] == "applied"
    [same] = _questions(server, pid)  # the open question continues: one item, unread again, newest shown
    assert same["id"] == item["id"] and same["unread"]
    assert same["detail"]["body"] == "And can I pay by card?" and same["detail"]["questions"] == 2

    answer = server.staff.as_role().reply_to_item(item["id"], "The lab fee is not covered by your plan.")
    assert answer["thread"] == bill_thread(bill_id) and answer["author"] == "clinic"
    assert _questions(server, pid) == [] and [i["id"] for i in _questions(server, pid, "handled")] == [item["id"]]
    changes, _ = pull_all(http)
    thread = [c["data"] for c in changes if c["kind"] == "message" and c["data"]["thread"] == bill_thread(bill_id)]
    assert [m["author"] for m in thread] == ["patient", "patient", "clinic"]
    assert thread[-1]["body"] == "The lab fee is not covered by your plan."

    later = mutation("message.send", body="One more thing", thread=bill_thread(bill_id))
    assert _push(http, later)[0]["status"] == "applied"
    [fresh] = _questions(server, pid)  # answered before: a new question is a new item in the same thread
    assert fresh["id"] != item["id"] and fresh["detail"]["thread"] == bill_thread(bill_id)


def test_another_patients_bill_is_refused_like_a_bill_that_does_not_exist(
        server: ServerProcess, device: tuple[str, str, httpx.Client]) -> None:
    pid, _bill_id, http = device
    other = server.staff.add_patient("Someone Else")["id"]
    theirs = server.staff.add_bill(other, amount_cents=9900)["id"]
    nosy = mutation("message.send", body="What is this bill?", thread=bill_thread(theirs))
    missing = mutation("message.send", body="And this one?", thread=bill_thread("bil_doesnotexist0"))
    fine = mutation("message.send", body="still here")
    first, second, third = _push(http, nosy, missing, fine)
    assert first["status"] == "rejected" and first["reason"] == "unknown bill" == second["reason"]
    assert third["status"] == "applied"  # the rest of the batch goes through
    assert _questions(server, pid) == [] and _questions(server, other) == []
    changes, _ = pull_all(http)
    assert [c["data"]["body"] for c in changes if c["kind"] == "message"] == ["still here"]
    assert _push(http, nosy)[0] == first  # one decision per id


@pytest.mark.parametrize(("thread", "body", "reason"), [
    (None, "x" * (MAX_BODY + 1), "payload.body"),  # the same limit as every message
    ("billing:", "Hello", "payload.thread"),
    ("billing:bil_1; DROP TABLE bills", "Hello", "payload.thread"),
    ("billing:" + "b" * 60, "Hello", "payload.thread"),
])
def test_oversized_or_malformed_questions_are_refused(server: ServerProcess, device: tuple[str, str, httpx.Client],
                                                      thread: str | None, body: str, reason: str) -> None:
    pid, bill_id, http = device
    bad = mutation("message.send", body=body, thread=thread or bill_thread(bill_id))
    [answer] = _push(http, bad)
    assert answer["status"] == "rejected" and reason in answer["reason"] and "\n" not in answer["reason"]
    assert _questions(server, pid) == []


def test_a_replayed_question_is_a_duplicate_and_files_nothing_twice(
        server: ServerProcess, device: tuple[str, str, httpx.Client]) -> None:
    pid, bill_id, http = device
    ask = mutation("message.send", body="Is this right?", thread=bill_thread(bill_id))
    assert _push(http, ask)[0]["status"] == "applied"
    assert [r["status"] for r in _push(http, ask, ask)] == ["duplicate", "duplicate"]
    [item] = _questions(server, pid)
    assert item["detail"]["questions"] == 1
    changes, _ = pull_all(http)
    assert len([c for c in changes if c["kind"] == "message"]) == 1


def test_only_messages_and_billing_questions_are_answered_with_a_reply(
        server: ServerProcess, device: tuple[str, str, httpx.Client]) -> None:
    pid, bill_id, http = device
    assert _push(http, mutation("bill.plan_request", bill_id=bill_id, installments=2))[0]["status"] == "applied"
    [plan] = [i for i in server.staff.inbox(patient_id=pid) if i["kind"] == "bill.plan_request"]
    refused = server.staff.request("POST", f"/v1/staff/inbox/{plan['id']}/reply", json={"body": "ok"})
    assert refused.status_code == 409 and "billing question" in refused.json()["error"]["message"]
    assert server.staff.request("POST", "/v1/staff/inbox/inb_nothing/reply", json={"body": "ok"}).status_code == 404
    assert server.staff.request("POST", f"/v1/staff/inbox/{plan['id']}/reply", json={"body": ""}).status_code == 422


def test_a_payment_reference_maps_back_to_its_bill(server: ServerProcess,
                                                   device: tuple[str, str, httpx.Client]) -> None:
    _pid, bill_id, _http = device
    staff = server.staff.as_role()
    reference = bill_reference(bill_id)
    [found] = staff.bills_by_reference(reference)
    assert found["id"] == bill_id and found["reference"] == reference and found["patient_cents"] == 4500
    typed = reference.lower().replace("-", " ")  # as read out over the phone
    assert [b["id"] for b in staff.bills_by_reference(typed)] == [bill_id]
    for unknown in ("nonsense", "BIL-0000-0000"):
        assert server.staff.request("GET", f"/v1/staff/bill-references/{unknown}").status_code == 404
    assert server.staff.request("GET", f"/v1/staff/bill-references/{reference}", role="clinician").status_code == 200
    assert httpx.get(server.url(f"/v1/staff/bill-references/{reference}")).status_code == 401
