"""The desk books as a PSR expects, on a real server with a clinic profile (America/New_York, a place
and two providers): times in the clinic's zone (09:00 in winter is 14:00Z), place and provider
prefilled and in the patient's feed, the length as typed or refused (never a silent 30), Cancel
asks first, Today switches days, and a visit that has begun is marked attended or missed — which
the patient's app then says."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from companion.clinic.desk.state import DeskState
from companion.clinic.desk.state.patient_page import past_marks, visit_minutes
from companion.core.errors import StaffApiError
from companion.core.models import Appointment
from companion.views.common import visit_status
from tests.fixtures.desk import DESK_USERS, PASSWORD, add_desk_user, sign_in_view, signed_in
from tests.support.server_harness import ServerProcess, mutation, pull_all

NEW_YORK = ZoneInfo("America/New_York")
PROFILE = """
[clinic]
name = "Riverside Clinic"
timezone = "America/New_York"
[schedule]
opening = { mon = "08:00-18:00", tue = "08:00-18:00", wed = "08:00-18:00", thu = "08:00-18:00", fri = "08:00-18:00" }
place = "12 River Street, Suite 3"
providers = ["Nurse Alex Kim", "Dr Sam Patel"]
"""


@pytest.fixture(scope="module")
def clinic_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder: Path = tmp_path_factory.mktemp("clinic-profile-server")
    (folder / "clinic.toml").write_text(PROFILE, encoding="utf-8")
    server = ServerProcess(f"sqlite:///{folder / 'clinic.db'}", folder,
                           env={"COMPANION_CLINIC_PROFILE": str(folder / "clinic.toml")})
    add_desk_user(server, DESK_USERS["psr"], "psr")
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def desk(clinic_server: ServerProcess) -> Iterator[DeskState]:
    with signed_in(clinic_server, tz=None) as state:  # no zone given: the clinic's, from the server at sign-in
        yield state


def _winter_day() -> date:
    return date(datetime.now(UTC).year + 1, 1, 12)


def _feed(server: ServerProcess, token: str) -> dict[str, dict[str, object]]:
    with server.device_client(token) as http:
        changes, _ = pull_all(http)
    return {c["data"]["id"]: c["data"] for c in changes if c["kind"] == "appointment" and c.get("data")}


def test_booking_is_in_the_clinics_zone_with_place_and_provider_in_the_patients_feed(
        clinic_server: ServerProcess, desk: DeskState) -> None:
    assert desk.clock.tz == NEW_YORK and desk.clock.site.schedule.provider == "Nurse Alex Kim"
    pid = clinic_server.staff.add_patient("Jordan Rivers")["id"]
    token = clinic_server.pair_device(pid)["token"]
    desk.patient.open(pid)
    desk.patient.booking_defaults()
    drafts = desk.drafts
    assert drafts.draft("book.location") == "12 River Street, Suite 3"
    assert drafts.draft("book.provider") == "Nurse Alex Kim" and drafts.draft("book.minutes") == "30"
    drafts.set_draft("book.date", _winter_day().isoformat())  # as the date picker sets it
    drafts.set_draft("book.time", "09:00")                    # as the time picker sets it
    drafts.set_draft("book.provider", "Dr Sam Patel")         # the PSR picked the other provider
    drafts.set_draft("book.minutes", "45")
    desk.patient.book_appointment()
    assert desk.feedback.error is None, desk.feedback.error
    [made] = [a for a in clinic_server.staff.as_role("psr").appointments(pid)]
    assert made["start"] == f"{_winter_day().isoformat()}T14:00:00Z"  # 09:00 in New York in winter
    assert made["minutes"] == 45
    seen = _feed(clinic_server, token)[made["id"]]
    assert seen["location"] == "12 River Street, Suite 3" and seen["provider"] == "Dr Sam Patel"
    # the next booking form starts from the profile again
    desk.patient.booking_defaults()
    assert drafts.draft("book.provider") == "Nurse Alex Kim" and drafts.draft("book.time") == ""


def test_a_request_is_proposed_in_the_profiles_hours_and_booked_with_its_place_and_provider(
        clinic_server: ServerProcess, desk: DeskState) -> None:
    """The profile's opening hours (weekdays only, in New York) shape the free times proposed for a
    patient's request, and Accept books the visit where and with whom the profile says."""
    pid = clinic_server.staff.add_patient("Robin Request")["id"]
    token = clinic_server.pair_device(pid)["token"]
    wish = mutation("appointment.request", kind="HIV test", days=["sat", "mon"], times=["morning", "evening"])
    with clinic_server.device_client(token) as http:
        assert http.post("/v1/sync", json={"mutations": [wish]}).json()["results"][0]["status"] == "applied"
    desk.inbox.poll(background=False)
    [item] = [i for i in desk.inbox.waiting_requests() if i["patient_id"] == pid]
    slots = [s.astimezone(NEW_YORK) for s in desk.inbox.proposals(item["id"])]
    assert slots  # Saturday is closed in this profile, and evenings end at 18:00
    assert all(s.weekday() == 0 and time(8) <= s.time() < time(18) for s in slots), slots
    desk.inbox.pick_time(item["id"], slots[0])
    desk.inbox.accept_request(item["id"])
    assert desk.feedback.toast and desk.feedback.toast.startswith("Booked HIV test"), desk.feedback.error
    booked = [a for a in _feed(clinic_server, token).values() if a["status"] == "scheduled"]
    assert [(a["location"], a["provider"]) for a in booked] == [("12 River Street, Suite 3", "Nurse Alex Kim")]


def test_the_length_is_booked_as_typed_or_refused_never_a_silent_30(clinic_server: ServerProcess,
                                                                      desk: DeskState) -> None:
    assert visit_minutes("45") == 45 and visit_minutes("45 min") == 45 and visit_minutes(" 60 minutes ") == 60
    for bad in ("soon", "0", "45h", "999", ""):
        with pytest.raises(StaffApiError, match="Minutes: type how long the visit takes"):
            visit_minutes(bad)
    pid = clinic_server.staff.add_patient("Casey Long")["id"]
    desk.patient.open(pid)
    for typed in ("45 min", "an hour"):
        desk.drafts.set_draft("book.date", _winter_day().isoformat())
        desk.drafts.set_draft("book.time", "10:30")
        desk.drafts.set_draft("book.minutes", typed)
        desk.patient.book_appointment()
    assert desk.feedback.error == "Minutes: type how long the visit takes, from 5 to 480, for example 45."
    booked = clinic_server.staff.as_role("psr").appointments(pid)
    assert [a["minutes"] for a in booked] == [45]  # "an hour" booked nothing


def test_cancel_asks_first_and_keep_it_cancels_nothing(clinic_server: ServerProcess, desk: DeskState) -> None:
    staff = clinic_server.staff
    pid = staff.add_patient("Morgan Keep")["id"]
    appt = staff.add_appointment(pid, start=datetime.now(UTC) + timedelta(days=5))["id"]
    desk.patient.open(pid)

    def status() -> str:
        answer: str = staff.request("GET", f"/v1/staff/appointments/{appt}").json()["status"]
        return answer

    desk.patient.cancel_appointment(appt)  # the first tap only asks
    assert desk.patient.confirming == appt and status() == "scheduled"
    desk.patient.keep_appointment()
    assert desk.patient.confirming is None and status() == "scheduled"
    desk.patient.cancel_appointment(appt)
    desk.patient.cancel_appointment(appt)  # "Yes, cancel it"
    assert status() == "cancelled" and desk.patient.confirming is None
    assert desk.feedback.toast == "Appointment cancelled."


def test_today_switches_to_tomorrow_and_any_date_in_the_clinics_zone(clinic_server: ServerProcess,
                                                                      desk: DeskState) -> None:
    staff = clinic_server.staff
    pid = staff.add_patient("Taylor Morrow")["id"]
    tomorrow = desk.clock.today() + timedelta(days=1)
    late = datetime.combine(tomorrow, datetime.min.time(), NEW_YORK).replace(hour=23, minute=30)  # 04:30Z after
    appt = staff.add_appointment(pid, start=late.astimezone(UTC))["id"]
    today = desk.today
    today.refresh()
    assert today.title().startswith("Today, ") and appt not in {a["id"] for a in today.appointments}
    today.show_tomorrow()
    assert today.day == tomorrow and today.title() == f"Tomorrow, {tomorrow:%A} {tomorrow.day} {tomorrow:%B}"
    assert appt in {a["id"] for a in today.appointments}  # 23:30 in New York is the next day in UTC
    later = tomorrow + timedelta(days=6)
    today.show_day(later)
    assert today.day == later and appt not in {a["id"] for a in today.appointments}
    today.show_day(None)
    assert today.day == desk.clock.today() and today.picked is None


def test_a_visit_that_began_is_marked_attended_or_missed_and_the_app_says_so(clinic_server: ServerProcess,
                                                                             desk: DeskState) -> None:
    staff = clinic_server.staff
    pid = staff.add_patient("Avery Past")["id"]
    token = clinic_server.pair_device(pid)["token"]
    now = datetime.now(UTC).replace(microsecond=0)
    came = staff.add_appointment(pid, start=now - timedelta(hours=3))["id"]
    missed = staff.add_appointment(pid, start=now - timedelta(hours=2))["id"]
    unmarked = staff.add_appointment(pid, start=now - timedelta(hours=1))["id"]
    ahead = staff.add_appointment(pid, start=now + timedelta(days=1))["id"]
    desk.patient.open(pid)
    page = desk.patient.page
    assert page is not None
    marks = {a["id"]: past_marks(a, desk.clock.now()) for a in page.appointments}
    assert marks[came] == ["completed", "no_show"] and marks[ahead] == []
    desk.patient.mark_visit(came, "completed")
    assert desk.feedback.toast == "Marked attended. The patient's app shows it at the next sync."
    desk.patient.mark_visit(missed, "no_show")
    page = desk.patient.page
    assert page is not None
    assert {a["id"]: a["status"] for a in page.appointments}[came] == "completed"
    assert past_marks(next(a for a in page.appointments if a["id"] == came), desk.clock.now()) == []
    # from Today too, on the day the visit was (in the clinic's zone)
    began = now - timedelta(minutes=90)
    late = staff.add_appointment(pid, start=began)["id"]
    desk.today.show_day(began.astimezone(NEW_YORK).date())
    row = next(a for a in desk.today.appointments if a["id"] == late)
    assert past_marks(row, desk.clock.now()) == ["completed", "no_show"]
    desk.today.mark_visit(late, "no_show")
    assert next(a for a in desk.today.appointments if a["id"] == late)["status"] == "no_show"
    entries = staff.as_role("admin").audit(patient_id=pid, action="appointment.update")
    assert len(entries) >= 3  # audited like every staff write
    feed = _feed(clinic_server, token)
    words = {aid: visit_status(Appointment.from_dict(feed[aid]), datetime.now(UTC))
             for aid in (came, missed, unmarked, ahead, late)}
    assert words == {came: "Attended", missed: "Missed", unmarked: "Past", ahead: "Please confirm", late: "Missed"}


def test_the_patient_page_books_with_the_pickers_and_cancels_after_asking(
        clinic_server: ServerProcess, desk_factory: Callable[[ServerProcess], DeskState]) -> None:
    """Through the desk's controls (in-process Flet session): Today → Tomorrow, the booking form's
    time picker and length, place and provider prefilled, Cancel visit → "Cancel this visit?" → Yes."""
    import flet as ft

    from tests.fixtures.flet_session import ViewHarness, drive

    staff = clinic_server.staff
    pid = staff.add_patient("Riley Pick")["id"]
    state = desk_factory(clinic_server)
    api = state.api
    tomorrow_noon = datetime.combine(datetime.now(NEW_YORK).date() + timedelta(days=1), datetime.min.time(),
                                     NEW_YORK).replace(hour=12)
    soon = staff.add_appointment(pid, start=tomorrow_noon.astimezone(UTC), kind="PrEP review")["id"]
    wait = 15.0

    def picker(kind: type[ft.Control]) -> ft.Control:
        found = [c for c in ui_ref[0].controls() if isinstance(c, kind)]
        assert found, f"no {kind.__name__} open"
        return found[-1]

    ui_ref: list[ViewHarness] = []

    async def scenario(ui: ViewHarness) -> None:
        ui_ref.append(ui)
        await sign_in_view(ui, DESK_USERS["psr"], landmark="day-tomorrow")
        zone = datetime.now(NEW_YORK).tzname()
        assert await ui.until(lambda: ui.has_text("Today, ") and ui.has_text(f"Times in {zone}"), wait)
        await ui.click("day-tomorrow")
        assert await ui.until(lambda: f"today-{soon}" in ui.ids() and ui.has_text("Tomorrow, "), wait)

        await ui.fire(ui.by_id(f"today-{soon}"), "click")  # opens the patient's page
        assert await ui.until(lambda: "book-time" in ui.ids() and f"cancel-{soon}" in ui.ids(), wait)
        assert {"book-date", "book-minutes-15", "book-minutes-45", "book-location"} <= ui.ids()
        assert ui.by_id("book-location").value == "12 River Street, Suite 3"
        await ui.click("book-time")  # Flet's TimePicker, as the request loop uses
        time_picker = picker(ft.TimePicker)
        ui.session.apply_patch(time_picker._i, {"value": time(14, 30)})  # what the client's answer decodes to
        await ui.fire(time_picker, "change", None)
        assert await ui.until(lambda: state.drafts.draft("book.time") == "14:30", wait)
        await ui.click("book-minutes-45")
        await ui.click("book")
        assert await ui.until(lambda: state.feedback.toast is not None and state.feedback.toast.startswith(
            "Appointment booked"), wait), state.feedback.error
        made = [a for a in api.appointments(pid) if a["id"] != soon]
        assert len(made) == 1 and made[0]["minutes"] == 45 and made[0]["provider"] == "Nurse Alex Kim"
        assert datetime.fromisoformat(made[0]["start"]).astimezone(NEW_YORK).strftime("%H:%M") == "14:30"

        await ui.click(f"cancel-{soon}")
        assert await ui.until(lambda: f"cancel-yes-{soon}" in ui.ids() and ui.has_text("Cancel this visit?"), wait)
        assert api.get_appointment(soon)["status"] == "scheduled"  # asked, nothing cancelled yet
        await ui.click(f"cancel-yes-{soon}")
        assert await ui.until(lambda: state.feedback.toast == "Appointment cancelled.", wait), state.feedback.error
        assert api.get_appointment(soon)["status"] == "cancelled"

    drive(state, scenario, desk=True)


def test_the_desk_shows_itself_signed_in_only_once_it_knows_the_clinic(
        clinic_server: ServerProcess, desk_factory: Callable[[ServerProcess], DeskState]) -> None:
    """When the desk first says it is signed in, the clinic's zone is known and the first screen is
    open: a screen the PSR opens at once is never replaced by the first one (nor is a time shown in UTC)."""
    state = desk_factory(clinic_server)
    seen: list[tuple[object, str]] = []
    state.session.subscribe(lambda: seen.append((state.clock.tz, state.navigation.route.name))
                            if state.session.signed_in and not seen else None)
    state.drafts.set_draft("signin.name", DESK_USERS["psr"])
    state.drafts.set_draft("signin.password", PASSWORD)
    state.session.sign_in()
    assert seen == [(NEW_YORK, state.session.first_screen())]
