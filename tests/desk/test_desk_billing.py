"""The desk answers a question about a bill: the inbox shows it as a billing item naming the patient,
the bill's reference and amount; the answer is sent from the item, closes it and goes into the bill's
conversation; the patient page opens at the bill."""

from __future__ import annotations

from companion.clinic.desk.state import INBOX_KINDS, DeskState
from companion.clinic.desk.state.inbox import FOCUS_BILL
from companion.clinic.desk.views.billing import bill_summary
from companion.core.protocol import bill_thread
from companion.core.references import bill_reference
from tests.support.server_harness import ServerProcess, mutation, pull_all


def test_a_billing_question_is_answered_from_its_item(desk_server: ServerProcess, desk: DeskState) -> None:
    staff = desk_server.staff
    pid = staff.add_patient("Robin Moss")["id"]
    bill = staff.add_bill(pid, amount_cents=4500, description="Clinic visit")
    ask = mutation("message.send", body="Why do I owe $45?", thread=bill_thread(bill["id"]))
    with desk_server.device_client(desk_server.pair_device(pid)["token"]) as http:
        assert http.post("/v1/sync", json={"mutations": [ask]}).json()["results"][0]["status"] == "applied"
        desk.inbox.poll(background=False)
        [item] = [i for i in desk.inbox.waiting_requests() if i["patient_id"] == pid]
        assert item["kind"] == "bill.question" and INBOX_KINDS[item["kind"]] == "Billing question"
        assert bill_summary(item["detail"]) == f"{bill_reference(bill['id'])} $45.00"
        desk.inbox.set_filter("bill.question")
        assert [i["id"] for i in desk.inbox.shown() if i["patient_id"] == pid] == [item["id"]]

        desk.inbox.answer(item["id"])  # nothing typed
        assert desk.feedback.error == "Type the answer first."
        desk.drafts.set_draft(f"answer.{item['id']}", "  The visit fee is what your plan does not cover.  ")
        desk.inbox.answer(item["id"])
        assert desk.feedback.error is None
        assert desk.feedback.toast and desk.feedback.toast.startswith("Answer sent to Robin Moss")
        assert not [i for i in desk.inbox.waiting_requests() if i["patient_id"] == pid]
        assert desk.drafts.draft(f"answer.{item['id']}") == ""
        changes, _ = pull_all(http)
    answer = [c["data"] for c in changes if c["kind"] == "message"][-1]
    assert answer["thread"] == bill_thread(bill["id"]) and answer["author"] == "clinic"
    assert answer["body"] == "The visit fee is what your plan does not cover."


def test_the_patient_page_opens_at_the_bill(desk_server: ServerProcess, desk: DeskState) -> None:
    staff = desk_server.staff
    pid = staff.add_patient("Kim Ortiz")["id"]
    staff.add_bill(pid, amount_cents=1200, description="Earlier visit")
    bill = staff.add_bill(pid, amount_cents=9900, description="Lab work")
    with desk_server.device_client(desk_server.pair_device(pid)["token"]) as http:
        http.post("/v1/sync", json={"mutations": [
            mutation("message.send", body="Is this right?", thread=bill_thread(bill["id"]))]})
    desk.inbox.poll(background=False)
    [item] = [i for i in desk.inbox.items if i["patient_id"] == pid]
    desk.inbox.open_bill(item["id"])
    page = desk.patient.page
    assert page is not None and page.id == pid and desk.drafts.draft(FOCUS_BILL) == bill["id"]
    assert bill["id"] in [b["id"] for b in page.bills]
    assert not [i for i in desk.inbox.items if i["id"] == item["id"] and i["unread"]]  # opening reads it
