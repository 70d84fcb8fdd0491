"""The bill's question loop on the real views, in process: the bill offers "Question about this bill",
the composer opens on the bill's subject line, Send stays in the bill's conversation, and the bill
then says the question is on its way, with a link to the conversation."""

from __future__ import annotations

from companion.core.protocol import bill_thread
from companion.core.references import bill_reference
from companion.state import AppState
from tests.fixtures.flet_session import ViewHarness, drive


def test_a_question_is_asked_from_the_bill_and_the_bill_then_says_so(populated_state: AppState) -> None:
    state = populated_state
    key = bill_thread("bill_1")
    state.nav.go("bill", "bill_1")

    async def scenario(ui: ViewHarness) -> None:
        assert ui.has_text(f"Your reference: {bill_reference('bill_1')}")
        await ui.click("ask-bill-question")
        assert await ui.until(lambda: state.nav.route.name == "thread" and state.nav.route.arg == key)
        assert ui.has_text(f"Billing · {bill_reference('bill_1')}")
        subject = state.drafts.draft(f"compose.{key}")
        await ui.type("compose", subject + "Why is the lab fee mine?")
        await ui.click("send")
        assert await ui.until(lambda: ui.has_text("Why is the lab fee mine?"))
        assert state.nav.route.name == "thread" and state.nav.route.arg == key
        await ui.click("back")  # back where the question was asked
        assert await ui.until(lambda: state.nav.route.name == "bill")
        assert await ui.until(lambda: "bill-question-status" in ui.ids())
        assert ui.has_text("Question saved · sending…") and "open-bill-thread" in ui.ids()
        await ui.click("open-bill-thread")
        assert await ui.until(lambda: state.nav.route.name == "thread" and state.nav.route.arg == key)

    drive(state, scenario)
