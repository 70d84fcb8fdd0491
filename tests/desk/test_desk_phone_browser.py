"""The desk on a phone (390x844) in headless Chromium against a real server process: a PSR with a long
name signs in and walks Today, Patients, a patient's page, Inbox, Articles and Schedule with
real-length text (a 600-character message, "Maria-Fernanda Castellanos-Oyelaran"); widened to 1280 the
rail comes back with the long name inside it; an admin (one screen) reads Audit. On every screen the
top bar and the bottom NavigationBar are there (no rail; an admin has no bar), nothing is drawn
past the window's right edge, and each row has the window's width to itself (the rail once left rows
~190 px and broke names mid-word). Screenshots: build/screenshots/desk-phone-*.png."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from companion.core.protocol import bill_thread
from tests.fixtures.browser import by_id, enable_semantics, fill, painted, seen, shoot
from tests.fixtures.desk import PASSWORD, add_desk_user
from tests.support.server_harness import ServerProcess, mutation

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 390, 844
LONG_NAME = "Maria-Fernanda Castellanos-Oyelaran"
STAFF_NAME = "Bartholomew Okonkwo-Fitzgerald"
ADMIN_NAME = "Alexandrina Wojciechowska-Nakamura"
SENTENCE = "Hola, quería preguntar sobre mi cita del jueves y si puedo traer a mi pareja conmigo. "
LONG_MESSAGE = (SENTENCE * 8)[:600]
QUESTION = "Why is the lab fee not covered by my insurance when the visit itself was? I was told it would be."
# a row's id: what it shows and its record's id (today-apt_…, inbox-…, msg-msg_…), or a More entry
ROWS = r"^((inbox|today|checkin|patient|msg|result|bill|service|appointment|block)-[a-z]{2,5}_|more-)"
MIN_ROW = 300  # px: a row has the window to itself, less the screen's and its section's padding

SIDEWAYS = "[flt-semantics-identifier='inbox-filters']"  # a row that scrolls sideways on a phone, on purpose

# Every semantics node drawn past the window's right edge (but inside a sideways scroller, whose own
# box must fit), and every row narrower than MIN_ROW (by id).
LAYOUT = """([minRow, rows, sideways]) => {
  const out = {overflow: [], narrow: []};
  const width = window.innerWidth;
  for (const n of document.querySelectorAll('flt-semantics')) {
    const r = n.getBoundingClientRect();
    if (r.width <= 0 || r.height <= 0 || r.bottom < 0 || r.top > window.innerHeight) continue;
    const scroller = n.parentElement && n.parentElement.closest(sideways);
    if (scroller && scroller !== n) continue;
    const id = n.getAttribute('flt-semantics-identifier') || '';
    const what = id || n.getAttribute('aria-label') || n.textContent.slice(0, 40);
    if (r.right > width + 1) out.overflow.push(`${what}: right ${Math.round(r.right)}`);
    if (new RegExp(rows).test(id) && r.width < minRow)
      out.narrow.push(`${id}: ${Math.round(r.width)} px`);
  }
  return out;
}"""


def _fits(page: Any, where: str, *, bar: bool = True) -> None:
    """The phone layout, on the part of the screen in view: the top bar, the bottom bar (if the role has
    more than one screen), no rail, nothing off the right edge, no row squeezed."""
    painted(page)
    assert by_id(page, "desk-top-bar").count() == 1 and by_id(page, "nav-rail").count() == 0, where
    assert by_id(page, "nav-bar").count() == (1 if bar else 0), where
    found = page.evaluate(LAYOUT, [MIN_ROW, ROWS, SIDEWAYS])
    assert not found["overflow"], f"{where}: drawn past the right edge: {found['overflow']}"
    assert not found["narrow"], f"{where}: rows squeezed: {found['narrow']}"


def _walk(page: Any, where: str, steps: int = 6, *, bar: bool = True, shots: str = "") -> None:
    """Check the screen as it scrolls by, top to bottom (semantics exist for what is near the view);
    ``shots``: a screenshot per step, ``build/screenshots/desk-phone-<shots>-<step>.png`` (to look at
    a whole screen while changing it; ``make screenshots`` would copy them all into docs)."""
    page.mouse.move(WIDTH // 2, HEIGHT // 2)
    for step in range(steps):
        _fits(page, f"{where} (scrolled {step})", bar=bar)
        if shots and step:
            shoot(page, f"desk-phone-{shots}-{step}")
        page.mouse.wheel(0, 600)
    page.mouse.wheel(0, -600 * steps)
    painted(page)


def _go(page: Any, label: str) -> None:
    """Tap a bottom-bar destination (its name may carry a count: "Inbox (2)"), else an entry of More."""
    name = re.compile("^" + re.escape(label))
    painted(page)
    page.get_by_role("tab", name=name).or_(page.get_by_role("button", name=name)).or_(
        page.get_by_text(name)).first.click()


def _sign_in(page: Any, server: ServerProcess, name: str, *, bar: bool = True) -> None:
    page.goto(server.url("/"))
    enable_semantics(page)
    page.wait_for_function("document.title === 'Clinic desk'", timeout=15_000)
    fill(page, "signin-name", name)
    fill(page, "signin-password", PASSWORD)
    by_id(page, "sign-in").click()
    by_id(page, "nav-bar" if bar else "desk-top-bar").wait_for(timeout=15_000)


def _seed(server: ServerProcess) -> dict[str, str]:
    staff = server.staff
    soon = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=40)
    pid = staff.add_patient(LONG_NAME, phone="+1 555 0142", email="maria.fernanda.castellanos@example.org",
                            insurance={"payer": "Acme Health Preferred Plus", "member_id": "AC-77812-0091"})["id"]
    staff.add_appointment(pid, start=soon, kind="STI screening and PrEP follow-up", provider="Nurse Practitioner "
                          "Oluwaseun Adeyemi-Whitfield", location="Riverside Clinic, Room 4")
    bill = staff.add_bill(pid, amount_cents=4500, description="Clinic visit and lab tests")
    staff.add_result(pid, test="Chlamydia/gonorrhoea NAAT (urine and throat swab)", interpretation="negative")
    staff.send_message(pid, "Your test kit is ready at the front desk; bring your photo ID and insurance card.")
    staff.add_article(title="What to expect at your first sexual-health visit, and how to prepare for it",
                      body="# Before you come\n\nBring your photo ID.")
    hours = [{"day": day, "opens": "09:00", "closes": "17:30", "resource": "Nurse Practitioner Adeyemi-Whitfield"}
             for day in ("mon", "tue", "wed", "fri")]
    staff.as_role().save_service({"name": "Walk-in STI screening and PrEP follow-up", "minutes": 20, "hours": hours,
                                  "fast_track": True})
    staff.as_role().add_block(soon + timedelta(days=7), soon + timedelta(days=9), "Riverside Clinic, Room 4",
                              "Team training day and the building's fire inspection")
    wish = (soon + timedelta(days=2)).replace(hour=15, minute=0)
    with server.device_client(server.pair_device(pid, "Maria's phone with a rather long device name")["token"]) as http:
        answer = http.post("/v1/sync", json={"mutations": [
            mutation("message.send", body=LONG_MESSAGE),
            mutation("message.send", body=QUESTION, thread=bill_thread(bill["id"])),
            mutation("appointment.request", kind="PrEP review", preferred=[wish.isoformat()],
                     note="After work if possible, I finish at five and the bus takes forty minutes.")]})
        assert answer.status_code == 200, answer.text
    return {"patient": pid}


def test_the_desk_on_a_phone_every_screen_fits_with_long_text(
        new_page: Callable[..., Any], desk_server: ServerProcess) -> None:
    add_desk_user(desk_server, STAFF_NAME, "psr")
    add_desk_user(desk_server, ADMIN_NAME, "admin")
    seeded = _seed(desk_server)
    page = new_page(WIDTH, HEIGHT)
    _sign_in(page, desk_server, STAFF_NAME)

    by_id(page, "today-list").wait_for(timeout=15_000)
    seen(page, "Wants: PrEP review · asked for ")  # the time the patient named, said as such
    seen(page, LONG_MESSAGE[:40])
    _fits(page, "Today")
    shoot(page, "desk-phone-today")
    _walk(page, "Today")

    _go(page, "Patients")
    by_id(page, f"patient-{seeded['patient']}").wait_for(timeout=15_000)
    _fits(page, "Patients")
    shoot(page, "desk-phone-patients")
    by_id(page, f"patient-{seeded['patient']}").click()
    by_id(page, "profile").wait_for(timeout=15_000)
    _fits(page, "Patient page")
    shoot(page, "desk-phone-patient")
    by_id(page, "pair-device").click()  # the code and its square, at the top where the patient sees them
    by_id(page, "pairing-code").wait_for(timeout=15_000)
    page.mouse.move(WIDTH // 2, HEIGHT // 2)
    page.mouse.wheel(0, -5000)
    _fits(page, "Patient page, pairing")
    shoot(page, "desk-phone-pairing")
    _walk(page, "Patient page", steps=10)

    _go(page, "Inbox")
    by_id(page, "inbox-list").wait_for(timeout=15_000)
    _fits(page, "Inbox")
    filters = by_id(page, "inbox-filters").bounding_box()  # one line that scrolls sideways, inside the window
    assert filters is not None and filters["x"] + filters["width"] <= WIDTH + 1 and filters["height"] < 80, filters
    shoot(page, "desk-phone-inbox")
    _walk(page, "Inbox")

    _go(page, "Articles")
    by_id(page, "article-title").wait_for(timeout=15_000)
    _fits(page, "Articles")
    _walk(page, "Articles")
    shoot(page, "desk-phone-articles")

    _go(page, "Schedule")
    by_id(page, "services").wait_for(timeout=15_000)
    seen(page, "Walk-in STI screening")
    _fits(page, "Schedule")
    _walk(page, "Schedule")
    shoot(page, "desk-phone-schedule")

    # the same sign-in at desktop width: the rail is back, the long name inside it
    page.set_viewport_size({"width": 1280, "height": 800})
    by_id(page, "nav-rail").wait_for(timeout=15_000)
    painted(page)
    assert by_id(page, "nav-bar").count() == 0 and by_id(page, "desk-top-bar").count() == 0
    rail, name = by_id(page, "nav-rail").bounding_box(), page.get_by_text(STAFF_NAME).first.bounding_box()
    assert rail and name and name["x"] >= rail["x"] and name["x"] + name["width"] <= rail["x"] + rail["width"] + 1, (
        rail, name)
    shoot(page, "desk-phone-then-desktop")
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    by_id(page, "nav-bar").wait_for(timeout=15_000)

    by_id(page, "sign-out").click()
    by_id(page, "sign-in").wait_for(timeout=15_000)
    painted(page)
    shoot(page, "desk-phone-signin")

    # an admin has one screen, Audit: the top bar and the audit, no bar to pick from
    page = new_page(WIDTH, HEIGHT)
    _sign_in(page, desk_server, ADMIN_NAME, bar=False)
    by_id(page, "audit-list").wait_for(timeout=15_000)
    seen(page, "Who did what, when.")
    _fits(page, "Audit", bar=False)
    _walk(page, "Audit", bar=False)
    shoot(page, "desk-phone-audit")
