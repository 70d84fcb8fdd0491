"""Where the patient tripped (in-process Flet session at phone width, real vault; the request
loop against the real server): one word for visits, "Book again" keeps the kind, the banner never
covers a screen's action, each visit kind its own "what to expect", the request note goes once the
clinic answered, and the thread keeps its place while the patient reads back."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import flet as ft

from companion.clinic.staff_api import StaffClient
from companion.core.models import Appointment, Message
from companion.demo import seed_clinic as seed_demo_clinic
from companion.reminders import local_zone
from companion.state import DESTINATIONS, AppState
from companion.state.learn_library import LearnLibrary
from companion.sync.store import RESTORED_COPY
from tests.fixtures.app_state import CLOCK_NOW, Clinic
from tests.fixtures.flet_session import ViewHarness, drive
from tests.support.server_harness import ServerProcess
from tests.support.waiting import wait_until


def _add(state: AppState, *records: Appointment | Message) -> None:
    vault = state.records.require_vault()
    with vault.batch():
        for r in records:
            if isinstance(r, Appointment):
                vault.appointments.upsert(r)
            else:
                vault.messages.upsert(r)
    state.records.refresh()


def _ancestors(control: Any) -> list[Any]:
    chain = []
    while control is not None:
        chain.append(control)
        control = control.parent
    return chain


def test_visits_are_visits_on_the_tab_the_title_and_the_detail(populated_state: AppState) -> None:
    assert {d.route: d.label for d in DESTINATIONS}["appointments"] == "Visits"
    populated_state.nav.go("appointments")

    async def scenario(ui: ViewHarness) -> None:
        assert ui.has_text("Visits") and not any("Appointment" in t for t in ui.texts())
        populated_state.nav.go("appointment", "apt_next")
        assert await ui.until(lambda: "appointment-facts" in ui.ids())
        assert ui.has_text("Visit") and not any("Appointment" in t or "appointment" in t for t in ui.texts())
        await ui.click("cancel")
        assert await ui.until(lambda: ui.has_text("Cancel this visit?"))

    drive(populated_state, scenario)


def test_book_again_opens_the_request_with_the_cancelled_visits_kind(populated_state: AppState) -> None:
    now = populated_state.now()
    _add(populated_state,
         Appointment(id="apt_off", start=now + timedelta(days=3), minutes=30, visit_kind="HIV test",
                     status="cancelled"),
         Appointment(id="apt_odd", start=now + timedelta(days=4), minutes=30, visit_kind="Sexual health screening",
                     status="cancelled"))
    populated_state.nav.go("appointment", "apt_off")

    async def scenario(ui: ViewHarness) -> None:
        await ui.click("book-again")
        assert await ui.until(lambda: "send-request" in ui.ids())
        assert ui.by_id("kind-hiv-test").selected and not ui.by_id("kind-sti-screening").selected
        await ui.click("send-request")
        assert await ui.until(lambda: populated_state.nav.route.name == "appointments")
        [sent] = [e for e in populated_state.records.snapshot.outbox.values() if e.type == "appointment.request"]
        assert sent.payload["kind"] == "HIV test"
        populated_state.nav.go("appointment", "apt_odd")  # a kind the request's list lacks gets its own chip
        assert await ui.until(lambda: "book-again" in ui.ids())
        await ui.click("book-again")
        assert await ui.until(lambda: "kind-sexual-health-screening" in ui.ids())
        assert ui.by_id("kind-sexual-health-screening").selected

    drive(populated_state, scenario)


def test_the_reminder_banner_sits_below_the_request_screen_never_over_its_send_button(
        populated_state: AppState) -> None:
    """By construction (layout is the browser's; in process there are no boxes to measure): the banner
    and the screen are children of one column, the screen first and expanding, with no Stack or overlay
    anywhere above either, so the screen (and its Send button) ends where the banner begins."""
    populated_state.nav.go("request")

    async def scenario(ui: ViewHarness) -> None:
        assert not populated_state.nav.wide  # 390 px: the phone layout
        populated_state.banners.add("Riverside Clinic", "Reminder: appointment tomorrow at 10:00.")
        assert await ui.until(lambda: "banner" in ui.ids() and "send-request" in ui.ids())
        banner, send = _ancestors(ui.by_id("banner")), _ancestors(ui.by_id("send-request"))
        assert not any(isinstance(c, ft.Stack) for c in banner + send)
        assert not ui.session.page.overlay
        column = next(c for c in banner if c in send)
        assert isinstance(column, ft.Column)
        below = column.controls.index(next(c for c in banner if c in column.controls))
        above = column.controls.index(next(c for c in send if c in column.controls))
        assert above < below and column.controls[above].expand

    drive(populated_state, scenario, width=390)


def test_each_visit_kind_links_its_own_what_to_expect(populated_state: AppState) -> None:
    library = LearnLibrary.builtin()
    picks = {kind: (library.for_visit(kind) or object()) for kind in
             ("HIV test", "STI screening", "Sexual health screening", "Rapid HIV test")}
    assert {kind: getattr(a, "id", None) for kind, a in picks.items()} == {
        "HIV test": "hiv-test", "STI screening": "sti-screening", "Sexual health screening": "sti-screening",
        "Rapid HIV test": "hiv-test"}
    populated_state.nav.go("appointment", "apt_past")  # an HIV test

    async def scenario(ui: ViewHarness) -> None:
        assert await ui.until(lambda: "what-to-expect" in ui.ids())
        assert ui.has_text("What happens at an HIV test") and not ui.has_text("What happens at an STI screening")
        await ui.click("what-to-expect")
        route = populated_state.nav
        assert await ui.until(lambda: (route.route.name, route.route.arg) == ("article", "hiv-test"))
        populated_state.nav.go("appointment", "apt_next")  # an STI screening
        assert await ui.until(lambda: ui.has_text("What happens at an STI screening"))

    drive(populated_state, scenario)


def test_the_request_note_goes_once_the_clinic_books_the_request(paired_state: AppState, clinic: Clinic) -> None:
    assert wait_until(lambda: paired_state.sync.live_state == "idle", 10)
    paired_state.nav.go("appointments")

    async def scenario(ui: ViewHarness) -> None:
        paired_state.visits.request("HIV test", "Evenings please")
        assert await ui.until(lambda: ui.has_text("Request sent") or ui.has_text("Saved on this device"))
        [visit_id] = [a.id for a in paired_state.records.snapshot.upcoming if a.status == "requested"]  # at once
        assert await ui.until(lambda: paired_state.records.snapshot.status.pending == 0, 10)
        start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=3)
        clinic.server.staff.add_appointment(clinic.patient_id, start=start, kind="HIV test")  # the desk's Accept
        booked = lambda: getattr(paired_state.records.snapshot.appointment(visit_id), "status", "") == "scheduled"  # noqa: E731
        assert await ui.until(booked, 10)
        assert await ui.until(lambda: not ui.has_text("Request sent") and not ui.has_text("Saved on this device"))
        assert paired_state.feedback.toast is None

    drive(paired_state, scenario)


def _scroll(pixels: float, kind: str = "update", direction: str | None = None, end: float = 1000.0) -> dict[str, Any]:
    """A scroll notification as Flutter reports it (``user``: the patient's own scrolling starts or stops)."""
    event: dict[str, Any] = {"event_type": kind, "pixels": pixels, "min_scroll_extent": 0.0,
                             "max_scroll_extent": end, "viewport_dimension": 500.0}
    if kind == "user":
        event["direction"] = direction
    else:
        event["scroll_delta"] = 10.0
    return event


def test_the_thread_keeps_its_place_when_scrolled_up_and_follows_at_the_newest(populated_state: AppState) -> None:
    populated_state.messages.open_thread("general")
    now = populated_state.now()

    sent = itertools.count(1)

    def arrives(message_id: str, author: str = "clinic") -> Message:  # each newer than the last
        return Message(id=message_id, thread="general", author=author, body=f"Message {message_id}",
                       sent_at=now + timedelta(seconds=next(sent)), author_name="Front desk")

    async def scenario(ui: ViewHarness) -> None:
        def thread() -> Any:  # drawn anew on every render
            return ui.by_id("thread-messages")

        assert thread().auto_scroll  # opens at the newest and follows
        await ui.fire(thread(), "scroll", _scroll(600.0, end=2000.0))  # the window grew: nobody scrolled
        _add(populated_state, arrives("msg_grown"))
        assert await ui.until(lambda: "msg-msg_grown" in ui.ids())
        assert thread().auto_scroll
        await ui.fire(thread(), "scroll", _scroll(990.0, "user", "forward"))  # the patient reads back
        await ui.fire(thread(), "scroll", _scroll(120.0))
        await ui.fire(thread(), "scroll", _scroll(120.0, "user", "idle"))
        _add(populated_state, arrives("msg_up"))
        assert await ui.until(lambda: "msg-msg_up" in ui.ids())
        assert not thread().auto_scroll  # the clinic's new message moved nothing
        _add(populated_state, arrives("msg_mine", "patient"))  # what they send themselves is shown
        assert await ui.until(lambda: "msg-msg_mine" in ui.ids())
        assert thread().auto_scroll
        await ui.fire(thread(), "scroll", _scroll(990.0, "user", "forward"))
        await ui.fire(thread(), "scroll", _scroll(300.0, "user", "idle"))
        await ui.fire(thread(), "scroll", _scroll(995.0, "user", "reverse"))  # and back down to the newest
        await ui.fire(thread(), "scroll", _scroll(1000.0, "end"))
        _add(populated_state, arrives("msg_end"))
        assert await ui.until(lambda: "msg-msg_end" in ui.ids())
        assert thread().auto_scroll  # it follows
        await ui.fire(thread(), "scroll", _scroll(0.0, "user", "forward"))
        populated_state.messages.open_thread("counselling")  # another thread opens at its newest
        assert await ui.until(lambda: populated_state.nav.route.arg == "counselling" and "thread-empty" in ui.ids())
        assert thread().auto_scroll

    drive(populated_state, scenario)


def test_the_demo_clinic_dates_its_results_by_the_visits_sample(sqlite_server: ServerProcess) -> None:
    url, tokens = sqlite_server.base_url, sqlite_server.tokens
    with (StaffClient(url, tokens["psr"], user_agent="test") as psr,
          StaffClient(url, tokens["clinician"], user_agent="test") as clinician):
        ids = seed_demo_clinic(psr, clinician)
        made = clinician.results(ids["patient_id"])
        visits = {a["id"]: a for a in psr.appointments(ids["patient_id"])}
    assert len(made) == 2
    for r in made:
        start = datetime.fromisoformat(visits[r["appointment_id"]]["start"].replace("Z", "+00:00"))
        assert visits[r["appointment_id"]]["kind"] == "HIV test"
        assert r["sample_taken"] == start.astimezone(local_zone()).date().isoformat()


def test_the_sync_news_banner_follows_a_language_switch_at_once(paired_state: AppState, clinic: Clinic) -> None:
    """A sync that found this vault to be an older copy says so in the banner; switching the app to
    Spanish in Settings rewords the banner there and then (it kept its English words before)."""
    assert wait_until(lambda: paired_state.sync.live_state == "idle", 10)
    vault = paired_state.records.require_vault()
    # what the pull notes when it finds the vault to be an older copy (companion/sync/pull.py)
    vault.meta.set(RESTORED_COPY, {"at": datetime.now(UTC).isoformat(), "generation": 1, "seen": 2})
    paired_state.nav.go("settings")

    async def scenario(ui: ViewHarness) -> None:
        paired_state.sync.sync_now()                                    # the live loop syncs, then says so
        assert await ui.until(lambda: ui.has_text("Your records were brought up to date"), 15), ui.texts()
        await ui.fire(ui.by_id("language-es"), "select")
        assert await ui.until(lambda: paired_state.prefs.language() == "es" and ui.has_text("Ajustes"), 10)
        assert await ui.until(lambda: ui.has_text("Sus datos se pusieron al día"), 10), ui.texts()
        assert ui.has_text("copia anterior") and not ui.has_text("Your records were brought up to date")

    drive(paired_state, scenario)


def test_a_reminder_banner_follows_a_language_switch_at_once(clocked_state: AppState) -> None:
    """A reminder the loop delivered (in-app here, as in the browser) shows in English; switching the
    app to Spanish in Settings rewords it there and then, with its time, still naming no visit (before,
    the banner kept the words the planner gave it when it fired)."""
    _add(clocked_state, Appointment(id="apt_soon", start=CLOCK_NOW + timedelta(hours=23, minutes=30), minutes=30,
                                    visit_kind="HIV test", status="scheduled", location="Room 4", sensitive=True))
    clocked_state.nav.go("settings")

    async def scenario(ui: ViewHarness) -> None:
        clocked_state.host.wake_reminders()  # the 24-hour reminder is due: the loop delivers it
        assert await ui.until(lambda: ui.has_text("Appointment tomorrow at 08:30."), 10), ui.texts()
        assert ui.has_text("Reminder from Riverside Clinic")
        await ui.fire(ui.by_id("language-es"), "select")
        assert await ui.until(lambda: clocked_state.prefs.language() == "es" and ui.has_text("Ajustes"), 10)
        assert await ui.until(lambda: ui.has_text("Cita mañana a las 08:30."), 10), ui.texts()
        assert ui.has_text("Recordatorio de Riverside Clinic") and not ui.has_text("Appointment tomorrow")
        assert not any("HIV" in t or "Room 4" in t for t in ui.texts())

    drive(clocked_state, scenario)
