"""The inbox poll redraws what shows the inbox, and nothing else: through the in-process Flet session
(no browser) against a real server process, with the desk's real poller thread.

While a PSR is half-way through a reply on a patient's page, a patient's message arrives: the rail's
badge ("Inbox (N)") is re-rendered, the patient page and its fields are not, and the typed text —
both what the field reported and what the browser has only patched so far — is still there and is
what gets sent."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from companion.clinic.desk.state import DeskState
from companion.core.errors import ServerUnreachable
from tests.fixtures.desk import DESK_USERS, sign_in_view
from tests.fixtures.flet_session import ViewHarness, drive
from tests.support.server_harness import ServerProcess, mutation

WAIT = 15.0
POLL = 0.2  # the poller's period here (2 s in production)


@pytest.fixture
def desk(desk_view_state: DeskState) -> DeskState:
    desk_view_state.poll_when_signed_in(every=POLL)  # what web.py does for each browser session
    return desk_view_state


def _inbox_label(ui: ViewHarness) -> str:
    rail: Any = ui.by_id("nav-rail")
    return next(str(d.label) for d in rail.destinations if str(d.label).startswith("Inbox"))


def test_a_poll_redraws_the_badge_not_the_patient_page_and_typing_survives(
        desk_server: ServerProcess, desk: DeskState) -> None:
    staff = desk_server.staff
    pid = staff.add_patient("Kim Poll", phone="+1 555 0111")["id"]
    staff.add_appointment(pid, start=datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=1),
                          kind="HIV test")
    token = desk_server.pair_device(pid)["token"]

    async def scenario(ui: ViewHarness) -> None:
        await sign_in_view(ui, DESK_USERS["psr"])
        assert await ui.until(lambda: "today-list" in ui.ids(), WAIT)
        assert await ui.until(lambda: desk.inbox.polling, WAIT)  # started by the sign-in, after the desk shows
        await asyncio.to_thread(desk.navigation.go, "patient", pid)
        assert await ui.until(lambda: "reply" in ui.ids() and "bill-amount" in ui.ids(), WAIT), desk.feedback.error
        await ui.type("reply", "Your results are back; could you")          # reported by a change event
        amount = ui.by_id("bill-amount")
        ui.session.apply_patch(amount._i, {"value": "12.50"})                # patched, change event not yet in
        await ui.settle()
        before = _inbox_label(ui)

        with ui.renders() as counts:
            with desk_server.device_client(token) as http:
                pushed = http.post("/v1/sync", json={"mutations": [mutation("message.send", body="Any news?")]})
            assert pushed.status_code == 200, pushed.text
            assert await ui.until(lambda: _inbox_label(ui) != before, WAIT), (before, desk.inbox.unread)
            await ui.settle()

        assert _inbox_label(ui) == f"Inbox ({desk.inbox.unread})"
        assert counts["NavRail"] >= 1                                        # the badge was redrawn…
        redrawn = {name for name, n in counts.items() if n}
        assert redrawn <= {"NavRail"}, counts                                # …and nothing else: no page, no field
        assert ui.by_id("reply").value == "Your results are back; could you"
        assert ui.by_id("bill-amount").value == "12.50"
        assert desk.drafts.draft("reply") == "Your results are back; could you"

        # the PSR finishes the sentence and sends: what was typed before the poll is what goes out
        await ui.type("reply", "Your results are back; could you call us?")
        await ui.click("send-reply")
        assert await ui.until(lambda: desk.feedback.toast == "Message sent.", WAIT), desk.feedback.error
        assert await ui.until(lambda: ui.by_id("reply").value in ("", None), WAIT)  # the composer is empty again
        assert ui.by_id("bill-amount").value == "12.50"                      # the other field kept its text
        assert any(m["body"] == "Your results are back; could you call us?" for m in desk.api.messages(pid))

    drive(desk, scenario, desk=True)


def test_the_open_inbox_list_redraws_on_a_poll(desk_server: ServerProcess, desk: DeskState) -> None:
    pid = desk_server.staff.add_patient("Lee Poll")["id"]
    token = desk_server.pair_device(pid)["token"]

    async def scenario(ui: ViewHarness) -> None:
        await sign_in_view(ui, DESK_USERS["psr"])
        await asyncio.to_thread(desk.navigation.go, "inbox")
        assert await ui.until(lambda: "inbox-list" in ui.ids(), WAIT)
        with ui.renders() as counts:
            with desk_server.device_client(token) as http:
                assert http.post("/v1/sync", json={"mutations": [
                    mutation("message.send", body="Is the clinic open on Saturday?")]}).status_code == 200
            assert await ui.until(lambda: ui.has_text("Is the clinic open on Saturday?"), WAIT)
        assert counts["InboxScreen"] >= 1 and counts["NavRail"] >= 1
        assert counts["ScreenBody"] == 0 and counts["DeskApp"] == 0

        # a day of switching screens leaves no subscription behind (each would be woken by every poll):
        # the inbox has the rail and the open screen, the feedback the open screen's strip
        def listeners() -> tuple[int, int]:
            return len(desk.inbox._listeners), len(desk.feedback._listeners)

        for name in ("today", "patients", "inbox", "today", "articles", "inbox") * 3:
            await asyncio.to_thread(desk.navigation.go, name)   # as a click does: off the UI loop
            await ui.settle()
        assert await ui.until(lambda: listeners() == (2, 1), WAIT), listeners()
        await asyncio.to_thread(desk.navigation.go, "patients")
        assert await ui.until(lambda: listeners() == (1, 1), WAIT), listeners()

    drive(desk, scenario, desk=True)


def test_a_poll_that_comes_after_the_tab_closed_is_quiet(desk_server: ServerProcess, desk: DeskState) -> None:
    """A closed desk tab stops its poller and closes its connection (desk/web.py); a poll that had
    passed its check just before finds the connection closed. It ends quietly, as a network blip
    does (CI: it raised httpx's "client has been closed" in the poller thread). A call in the
    foreground is one clear line."""
    desk.stop()
    desk.api.close()
    desk.inbox.poll(background=True)  # the poller's step: no exception, nothing shown
    assert desk.feedback.error is None
    with pytest.raises(ServerUnreachable) as refused:  # in the desk's words, as when the server is away
        desk.api.inbox("all")
    assert len(str(refused.value).splitlines()) == 1, refused.value
