"""A question about a bill from the app: the composer starts on a subject line that names the bill's
reference, amount and due date (never what it was for), the question is queued offline like any
message, reaches the desk as the bill's billing item once online, and the desk's answer comes back
into the bill's conversation, which the bill links to."""

from __future__ import annotations

from collections.abc import Callable

from companion.core.protocol import bill_thread
from companion.core.references import bill_reference
from companion.state import AppState
from tests.fixtures.app_state import Clinic
from tests.support.waiting import wait_until


def _wait(cond: Callable[[], bool], timeout: float = 20.0) -> bool:
    return wait_until(cond, timeout)


def test_the_composer_starts_on_a_discreet_subject_and_a_bare_subject_is_not_sent(populated_state: AppState) -> None:
    state = populated_state
    key = bill_thread("bill_1")
    state.bills.ask_question("bill_1")
    assert state.feedback.error is None
    assert state.nav.route.name == "thread" and state.nav.route.arg == key
    subject = state.drafts.draft(f"compose.{key}")
    assert subject.startswith(f"About bill {bill_reference('bill_1')} ($45.00, due 31 Jan 2030)")
    assert "lab" not in subject.lower() and "visit" not in subject.lower()  # the description stays out
    before = dict(state.records.snapshot.outbox)
    state.messages.send(subject, key)
    assert state.feedback.error and "question" in state.feedback.error.lower()
    assert dict(state.records.snapshot.outbox) == before and state.bills.question("bill_1") is None
    state.bills.ask_question("bill_1")  # asking again keeps what was typed
    assert state.drafts.draft(f"compose.{key}") == subject
    state.bills.ask_question("bill_unknown")
    assert state.feedback.error and "bill" in state.feedback.error.lower()


def test_a_question_shows_at_once_offline_under_a_neutral_title(populated_state: AppState) -> None:
    state = populated_state
    key = bill_thread("bill_1")
    state.bills.ask_question("bill_1")
    state.messages.send(state.drafts.draft(f"compose.{key}") + "Why is the lab fee mine to pay?", key)
    asked = state.bills.question("bill_1")
    assert asked is not None and asked.state == "queued" and asked.thread == key and asked.answered_at is None
    thread = state.records.snapshot.thread(key)
    assert thread is not None and thread.title == f"Billing · {bill_reference('bill_1')}"
    [entry] = [e for e in state.records.snapshot.outbox.values() if e.type == "message.send"]
    assert entry.payload["thread"] == key and "Why is the lab fee" in entry.payload["body"]


def test_offline_question_reaches_the_desk_and_the_answer_reaches_the_bill(paired_state: AppState,
                                                                          clinic: Clinic) -> None:
    state = paired_state
    bill = state.records.snapshot.bills[0]
    key, reference = bill_thread(bill.id), bill_reference(bill.id)
    clinic.server.stop()  # no network: the question waits in the outbox
    state.bills.ask_question(bill.id)
    state.messages.send(state.drafts.draft(f"compose.{key}") + "Is the insurance part final?", key)
    asked = state.bills.question(bill.id)
    assert state.feedback.error is None and asked is not None and asked.state == "queued"

    clinic.server.start()
    staff = clinic.server.staff  # the restarted server's client (the one from before is closed with it)
    state.sync.sync_now()

    def items(state_: str = "open") -> list[dict[str, object]]:
        return [i for i in staff.inbox(state_, patient_id=clinic.patient_id) if i["kind"] == "bill.question"]

    assert _wait(lambda: len(items()) == 1), state.records.snapshot.status
    [item] = items()
    assert item["ref_id"] == bill.id and item["detail"]["reference"] == reference  # type: ignore[index]
    assert _wait(lambda: (q := state.bills.question(bill.id)) is not None and q.state == "sent")

    state.messages.send("Also: can I pay by card?", key)  # while it is open: the same thread, the same item
    assert _wait(lambda: state.records.snapshot.status.pending == 0), state.records.snapshot.status
    [same] = items()
    assert same["id"] == item["id"] and same["detail"]["questions"] == 2  # type: ignore[index]

    staff.as_role().reply_to_item(str(item["id"]), "Yes, it is final. Card is fine.")
    assert items() == []
    assert _wait(lambda: (q := state.bills.question(bill.id)) is not None and q.answered_at is not None)
    thread = state.records.snapshot.thread(key)
    assert thread is not None and thread.messages[-1].body == "Yes, it is final. Card is fine."
    assert [m.author for m in thread.messages] == ["patient", "patient", "clinic"]
    assert state.records.snapshot.thread("billing") is None  # not a second, general billing thread
