"""Every desk screen through the in-process Flet session (no browser), against a real server process:
sign-in, Today, Patients (search), a patient's page, Inbox, Articles, Audit (admin) render with data and
with an empty clinic; the main intents fire from their controls — send a reply, accept an appointment
request, verify insurance, release a result (clinician only)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import flet as ft
import pytest

from companion.clinic.desk.api import DeskApi
from companion.clinic.desk.state import DeskState
from companion.clinic.desk.state.navigation import MORE, phone_bar
from companion.core.layout import WIDE_FROM
from tests.fixtures.desk import DESK_USERS, add_desk_user, sign_in_view
from tests.fixtures.flet_session import ViewHarness, drive
from tests.support.server_harness import ServerProcess, mutation

WAIT = 15.0  # intents run in Flet's thread pool and wait on HTTP


async def _sign_in(ui: ViewHarness, name: str, landmark: str = "nav-rail") -> None:
    """The sign-in screen renders (its form, the page's title), then the sign-in as a person types it."""
    assert {"signin-name", "signin-password", "sign-in"} <= ui.ids()
    assert ui.session.page.title == "Clinic desk"
    await sign_in_view(ui, name, landmark)


async def _open(ui: ViewHarness, screen: str) -> None:
    """Pick ``screen`` on the navigation rail (a desktop) or the bottom bar (a phone) the way the browser
    does (patch the selection, then change)."""
    names = [s.name for s in ui.state.session.screens()]
    rail = ui.by_id("nav-rail" if "nav-rail" in ui.ids() else "nav-bar")
    if "nav-rail" not in ui.ids():
        shown, rest = phone_bar(ui.state.session.screens())
        names = [s.name for s in shown] + ([MORE] if rest else [])
    ui.session.apply_patch(rail._i, {"selected_index": names.index(screen)})
    await ui.fire(rail, "change", None)
    assert await ui.until(lambda: ui.state.navigation.route.name == screen and ui.state.feedback.busy is None, WAIT)
    await ui.settle()


def _seed(server: ServerProcess) -> dict[str, str]:
    staff = server.staff
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    pid = staff.add_patient("Robin Vale", phone="+1 555 0199",
                            insurance={"payer": "Acme Health", "member_id": "AC-1"})["id"]
    appt = staff.add_appointment(pid, start=now + timedelta(minutes=20), kind="STI screening")
    result = staff.add_result(pid, test="Syphilis EIA", interpretation="negative", sensitive=False)
    with server.device_client(server.pair_device(pid)["token"]) as http:
        wish = (now + timedelta(days=3)).replace(hour=15, minute=0)
        answer = http.post("/v1/sync", json={"mutations": [
            mutation("message.send", body="Can I bring a friend?"),
            mutation("appointment.request", kind="PrEP review", preferred=[wish.isoformat()])]})
        assert answer.status_code == 200, answer.text
    return {"patient": pid, "appointment": appt["id"], "result": result["id"]}


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])  # the rail, the bottom bar
def test_every_screen_with_data_and_the_psr_intents(desk_server: ServerProcess, desk_view_state: DeskState,
                                                     width: int) -> None:
    seeded = _seed(desk_server)
    wide = width >= WIDE_FROM

    async def scenario(ui: ViewHarness) -> None:
        await _sign_in(ui, DESK_USERS["psr"], "nav-rail" if wide else "nav-bar")
        # Today: the visit, the waiting request and the unread message
        assert await ui.until(lambda: ui.has_text("Robin Vale") and ui.has_text("Can I bring a friend?"), WAIT)
        assert {"today-list", "requests-waiting", "unread-messages"} <= ui.ids()
        assert f"today-{seeded['appointment']}" in ui.ids()
        assert "audit" not in {s.name for s in ui.state.session.screens()}  # a PSR has no audit screen

        # Inbox: accept the appointment request from its button
        await _open(ui, "inbox")
        assert "inbox-list" in ui.ids()
        request = next(i for i in ui.state.inbox.items
                       if i["kind"] == "appointment.request" and i["patient_id"] == seeded["patient"])
        assert await ui.until(lambda: f"accept-{request['id']}" in ui.ids(), WAIT)
        assert ui.has_text(", the time asked for")  # what Accept will book, said before it does
        await ui.click(f"accept-{request['id']}")
        feedback = ui.state.feedback
        assert await ui.until(lambda: feedback.toast is not None and feedback.busy is None, WAIT), feedback.error
        assert feedback.error is None
        appointments = ui.state.api.appointments(seeded["patient"])
        assert any(a["kind"] == "PrEP review" and a["status"] == "scheduled" for a in appointments), appointments

        # Patients: search, open the page
        await _open(ui, "patients")
        await ui.type("patient-search", "vale")
        await ui.click("search")
        assert await ui.until(lambda: f"patient-{seeded['patient']}" in ui.ids(), WAIT)
        await ui.fire(ui.by_id(f"patient-{seeded['patient']}"), "click")
        assert await ui.until(lambda: "profile" in ui.ids() and "reply" in ui.ids(), WAIT), ui.state.feedback.error
        assert ui.has_text("Acme Health") and ui.has_text("Syphilis EIA")
        assert f"release-{seeded['result']}" not in ui.ids()  # a PSR sees the result, no Release button

        # verify insurance from its button
        await ui.click("insurance-verify")
        assert await ui.until(lambda: feedback.toast == "Insurance marked verified.", WAIT), feedback.error
        patient = ui.state.api.get_patient(seeded["patient"])
        assert "verified" in str(patient), patient

        # send a reply from the composer
        await ui.type("reply", "Yes, a friend is welcome.")
        await ui.click("send-reply")
        assert await ui.until(lambda: ui.has_text("Yes, a friend is welcome."), WAIT), ui.state.feedback.error
        messages = ui.state.api.messages(seeded["patient"])
        assert any(m["body"] == "Yes, a friend is welcome." for m in messages)

        # Articles
        await _open(ui, "articles")
        assert {"article-title", "article-body", "publish-article"} <= ui.ids()
        await ui.type("article-body", "# Window periods")
        await ui.click("article-mode-yes")
        assert await ui.until(lambda: "article-preview" in ui.ids(), WAIT)
        assert ("nav-rail" in ui.ids(), "nav-bar" in ui.ids()) == (wide, not wide)

    drive(desk_view_state, scenario, desk=True, width=width)


def test_a_clinician_releases_a_result_and_an_admin_reads_the_audit(
        desk_server: ServerProcess, desk_factory: Callable[[ServerProcess], DeskState]) -> None:
    seeded = _seed(desk_server)
    held = desk_server.staff.add_result(seeded["patient"], test="HIV-1/2 Ag/Ab", interpretation="negative",
                                        sensitive=True)["id"]

    async def clinician(ui: ViewHarness) -> None:
        await _sign_in(ui, DESK_USERS["clinician"])
        ui.state.navigation.go("patient", seeded["patient"])  # the page a search row opens
        assert await ui.until(lambda: f"release-{held}" in ui.ids(), WAIT), ui.state.feedback.error
        await ui.click(f"release-{held}")
        assert await ui.until(lambda: ui.state.feedback.toast == "Result released to the patient's app.", WAIT), \
            ui.state.feedback.error
        assert await ui.until(lambda: f"release-{held}" not in ui.ids(), WAIT)

        results = ui.state.api.results(seeded["patient"])
        assert next(r for r in results if r["id"] == held)["released_at"]

    drive(desk_factory(desk_server), clinician, desk=True)

    async def admin(ui: ViewHarness) -> None:
        await _sign_in(ui, DESK_USERS["admin"])
        await _open(ui, "audit")
        assert await ui.until(lambda: "audit-list" in ui.ids() and bool(ui.state.audit.entries), WAIT)
        assert any("release" in str(e) for e in ui.state.audit.entries)

    drive(desk_factory(desk_server), admin, desk=True)


def test_every_screen_with_an_empty_clinic(server_factory: Any,
                                           desk_factory: Callable[[ServerProcess], DeskState]) -> None:
    server: ServerProcess = server_factory()
    add_desk_user(server, "Empty Desk", "psr")
    add_desk_user(server, "Empty Admin", "admin")

    async def psr(ui: ViewHarness) -> None:
        await _sign_in(ui, "Empty Desk")
        assert await ui.until(lambda: ui.has_text("No appointments today.") and ui.has_text("Nothing waiting."),
                              WAIT), ui.texts()
        assert "unread-messages" not in ui.ids()
        await _open(ui, "patients")
        await ui.type("patient-search", "nobody")
        await ui.click("search")
        assert await ui.until(lambda: ui.has_text("No patient matches."), WAIT)
        await _open(ui, "inbox")
        assert "inbox-list" in ui.ids() and ui.has_text("Nothing here.")
        if "articles" in {s.name for s in ui.state.session.screens()}:
            await _open(ui, "articles")
            assert {"article-title", "article-body", "publish-article"} <= ui.ids() and ui.has_text("None yet.")
        assert ui.state.feedback.error is None

    async def admin(ui: ViewHarness) -> None:
        await _sign_in(ui, "Empty Admin")
        screens = [s.name for s in ui.state.session.screens()]
        assert "audit" in screens
        for screen in screens:  # whatever an admin has, each renders on an empty clinic
            await _open(ui, screen)
            assert ui.state.feedback.error is None, (screen, ui.state.feedback.error)
        assert "audit-list" in ui.ids()
        assert await ui.until(lambda: bool(ui.state.audit.entries), WAIT)  # at least this sign-in
        assert ui.state.feedback.error is None

    drive(desk_factory(server), psr, desk=True)
    drive(desk_factory(server), admin, desk=True)


def test_the_bill_card_offers_what_the_plan_rule_allows(desk_server: ServerProcess, desk_view_state: DeskState) -> None:
    staff = desk_server.staff
    pid = staff.add_patient("Ari Plan")["id"]
    asked = staff.add_bill(pid, amount_cents=12000, description="Lab panel")["id"]
    plain = staff.add_bill(pid, amount_cents=3000, description="Visit")["id"]
    with desk_server.device_client(desk_server.pair_device(pid)["token"]) as http:
        answer = http.post("/v1/sync", json={"mutations": [
            mutation("bill.plan_request", bill_id=asked, installments=3, note="3 months please")]})
        assert answer.status_code == 200, answer.text

    async def psr(ui: ViewHarness) -> None:
        await _sign_in(ui, DESK_USERS["psr"])
        ui.state.navigation.go("patient", pid)
        assert await ui.until(lambda: f"plan-{asked}" in ui.ids(), WAIT), ui.state.feedback.error
        assert f"plan-decline-{asked}" in ui.ids()                           # an answer to the patient's request
        assert f"plan-{plain}" in ui.ids() and f"plan-decline-{plain}" not in ui.ids()
        await ui.type(f"plan-n-{asked}", "3")
        await ui.click(f"plan-{asked}")
        assert await ui.until(lambda: ui.state.feedback.toast == "Payment plan recorded.", WAIT), \
            ui.state.feedback.error
        # an active plan: the rule offers nothing more to record on that bill
        assert await ui.until(lambda: f"plan-{asked}" not in ui.ids(), WAIT)
        assert f"plan-decline-{asked}" not in ui.ids()
        assert ui.has_text("120.00 due")                                    # money through format_cents

    drive(desk_view_state, psr, desk=True)


def test_a_visit_booked_above_another_is_a_row_of_its_own(desk_server: ServerProcess,
                                                         desk_view_state: DeskState) -> None:
    """Rows follow their records: the controls that showed a visit (its row, Move, Cancel) still name that
    visit after a later one is booked above it. Matched by position, the old row became the new visit's
    and its buttons kept the old visit's identifiers in the browser (CI, 2026-12-03: two elements named
    cancel-<the 08:00 visit> once a 09:00 one was booked)."""
    staff = desk_server.staff
    pid = staff.add_patient("Kai Rowe")["id"]
    start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=14, minute=0, second=0, microsecond=0)
    earlier = staff.add_appointment(pid, start=start)["id"]

    def named(ui: ViewHarness) -> dict[int, str]:
        return {c._i: c.identifier for c in ui.controls() if isinstance(c, ft.Semantics)
                and c.identifier and c.identifier.endswith(earlier)}

    async def psr(ui: ViewHarness) -> None:
        await _sign_in(ui, DESK_USERS["psr"])
        ui.state.navigation.go("patient", pid)
        assert await ui.until(lambda: f"cancel-{earlier}" in ui.ids(), WAIT), ui.state.feedback.error
        before = named(ui)
        assert {f"appointment-{earlier}", f"cancel-{earlier}", f"move-date-{earlier}"} <= set(before.values())
        later = staff.add_appointment(pid, start=start + timedelta(hours=1))["id"]  # listed above it
        await ui.click("refresh-patient")
        assert await ui.until(lambda: f"cancel-{later}" in ui.ids(), WAIT), ui.state.feedback.error
        mounted = {c._i: c for c in ui.controls()}
        assert {i: mounted[i].identifier for i in before if i in mounted} == before  # nothing renamed
        assert named(ui) == before  # and nothing new stands for the 08:00 visit

    drive(desk_view_state, psr, desk=True)


def test_the_sign_in_note_is_news_after_signing_out_and_an_error_after_a_wrong_password_or_ended_session(
        desk_server: ServerProcess, desk_view_state: DeskState) -> None:
    def tone(ui: ViewHarness) -> tuple[str, Any, Any]:
        box = ui.by_id("signin-note")
        return box.content.value, box.bgcolor, box.content.color

    async def psr(ui: ViewHarness) -> None:
        await _sign_in(ui, DESK_USERS["psr"])
        await ui.click("sign-out")
        assert await ui.until(lambda: "signin-note" in ui.ids(), WAIT)
        assert tone(ui) == ("You signed out.", ft.Colors.BLUE_50, ft.Colors.BLUE_900)   # asked for: not an error

        await ui.type("signin-name", DESK_USERS["psr"])
        await ui.type("signin-password", "nope nope nope")
        await ui.click("sign-in")
        assert await ui.until(lambda: ui.has_text("Wrong name or password."), WAIT)
        assert tone(ui) == ("Wrong name or password.", ft.Colors.RED_50, ft.Colors.RED_900)

        await _sign_in(ui, DESK_USERS["psr"])
        other = DeskApi(desk_server.base_url)
        other.token = ui.state.api.token
        other.sign_out()                                                # the same session ended elsewhere
        other.close()
        ui.state.navigation.go("patients")                             # the next call answers 401
        assert await ui.until(lambda: "signin-note" in ui.ids(), WAIT)
        assert tone(ui) == ("You signed out: sign in again.", ft.Colors.RED_50, ft.Colors.RED_900)

    drive(desk_view_state, psr, desk=True)
