"""The Patients screen (search, add a patient) and the patient page: profile, insurance, phones and the
pairing code; the page's care sections are in :mod:`.care`.

The pairing code is shown large, in groups a patient can read out, next to a QR code the app
scans; it is the only secret on screen and is gone once the page is left.

The page subscribes to the open patient only: the inbox poll never redraws it, so nothing a PSR
is typing here is touched by it (and the fields keep typed text over any re-render anyway).
"""

from __future__ import annotations

from typing import Any

import flet as ft

from ..state import DeskState, PatientPage
from ..state.timefmt import born, day_text, reads, when
from .care import appointments_section, bills_section, messages_section, results_section
from .common import (
    BODY,
    FeedbackStrip,
    beside,
    button,
    field,
    handler,
    heading,
    muted,
    narrow,
    pill,
    screen,
    section,
    tid,
    use_observable,
)
from .qr import qr_png

__all__ = ["PatientScreen", "PatientsScreen"]

INSURANCE = {"verified": ("Verified", "ok"), "rejected": ("Rejected", "bad"), "submitted": ("To check", "warn"),
             "none": ("None given", "plain")}


def _found(desk: DeskState) -> list[ft.Control]:
    rows: list[ft.Control] = []
    phone = narrow(desk)
    for p in desk.search.results:
        facts = " · ".join(x for x in (born(p.get("dob")), p.get("phone"), p.get("email"), reads(p.get("language")))
                           if x)
        name = ft.Text(p["name"], size=18, weight=ft.FontWeight.W_600, width=None if phone else 280)
        line: ft.Control = (ft.Column([name, muted(facts, 15)], spacing=2) if phone  # on a phone facts under the name
                            else ft.Row([name, muted(facts, 15)]))
        rows.append(tid(f"patient-{p['id']}", ft.Container(
            line,
            padding=ft.Padding.symmetric(horizontal=12, vertical=10), border_radius=10, ink=True,
            on_click=handler(desk.patient.open, p["id"])), label=p["name"]))
    return rows


@ft.component
def PatientsScreen(desk: DeskState) -> ft.Control:
    search, drafts = desk.search, desk.drafts
    use_observable(search)
    run_search = handler(search.search)
    rows = _found(desk)
    phone = narrow(desk)
    items: list[ft.Control] = [
        heading("Patients", 22 if phone else 26),
        # The field is a component: the room it takes is its container's (an expand on the component's
        # own field left the row unbounded, and Flutter drew neither the outline nor the button).
        ft.Row([ft.Container(field(drafts, "search", "Name, phone, email or id", identifier="patient-search",
                                   on_submit=run_search, autofocus=True), expand=True),
                button("search", "Search", run_search, icon=ft.Icons.SEARCH)],
               vertical_alignment=ft.CrossAxisAlignment.CENTER),
        FeedbackStrip(desk.feedback),
        section(f"Found ({len(rows)})" if drafts.draft("search") else "Recent patients",
                rows or [muted("No patient matches. Check the spelling, or add the patient below.", BODY)],
                identifier="search-results", narrow=phone)]
    if desk.session.can("patients.write"):
        items.append(section("Add a patient", [
            ft.Row([field(drafts, "new.name", "Full name", width=None if phone else 300),
                    field(drafts, "new.dob", "Born (YYYY-MM-DD)", width=200),
                    field(drafts, "new.phone", "Phone", width=200), field(drafts, "new.email", "Email", width=260)],
                   wrap=True),
            ft.Row([button("add-patient", "Add patient", handler(search.add_patient), kind="tonal",
                           icon=ft.Icons.PERSON_ADD)])], narrow=phone))
    return screen(items, narrow=phone)


def _profile(desk: DeskState, p: dict[str, Any]) -> ft.Control:
    ins = p.get("insurance") or {}
    label, tone = INSURANCE.get(str(ins.get("status") or "none"), (str(ins.get("status")), "plain"))
    birth = f"Born {day_text(p['dob'])}" if p.get("dob") else "Date of birth not given"
    facts: list[ft.Control] = [ft.Text(birth, size=BODY),
                               ft.Text(p.get("phone") or "No phone", size=BODY),
                               ft.Text(p.get("email") or "No email", size=BODY)]
    insurance: list[ft.Control] = [
        ft.Row([ft.Text("Insurance", size=BODY, weight=ft.FontWeight.W_600), pill(label, tone)]),
        ft.Text(" · ".join(x for x in (ins.get("payer"), ins.get("member_id") and f"member {ins['member_id']}",
                                       ins.get("group") and f"group {ins['group']}") if x) or "No insurance details",
                size=BODY)]
    if ins.get("note"):
        insurance.append(muted(f"Note: {ins['note']}", 14))
    if desk.session.can("patients.write") and ins.get("payer"):
        verify = desk.patient.verify_insurance
        insurance.append(ft.Row([
            field(desk.drafts, "insurance.note", "Note (optional)", width=260),
            button("insurance-verify", "Verified", handler(verify, "verified"), kind="tonal",
                   icon=ft.Icons.VERIFIED_OUTLINED),
            button("insurance-reject", "Reject", handler(verify, "rejected"), kind="outlined")],
            wrap=True))
    phone = narrow(desk)
    both = (ft.Column([ft.Column(facts, spacing=4), ft.Column(insurance, spacing=6)], spacing=12) if phone
            else ft.Row([ft.Column(facts, spacing=4, width=320), ft.Column(insurance, spacing=6, expand=True)],
                        vertical_alignment=ft.CrossAxisAlignment.START))
    return section("Profile", [both, _prep_test(desk, p)], identifier="profile", narrow=phone)


def _prep_test(desk: DeskState, p: dict[str, Any]) -> ft.Control:
    """The next PrEP test: the patient's app reminds them a week before and on the day."""
    due = p.get("prep_test_due")
    shown = f"Next PrEP test due {day_text(due)}" if due else "No PrEP test date set"
    row: list[ft.Control] = [ft.Text(shown, size=BODY, weight=ft.FontWeight.W_600, width=None if narrow(desk) else 320)]
    if desk.session.can("patients.write"):
        row += [field(desk.drafts, "prep.test_due", "Next PrEP test (YYYY-MM-DD)", width=260),
                button("prep-test-save", "Save date", handler(desk.patient.set_prep_test_due), kind="tonal",
                       icon=ft.Icons.EVENT_OUTLINED),
                button("prep-test-3m", "In 3 months", handler(desk.patient.set_prep_test_due, False, 91),
                       kind="outlined")]
        if due:
            row.append(button("prep-test-clear", "Clear", handler(desk.patient.set_prep_test_due, True),
                              kind="outlined"))
    return tid("prep-test-due", ft.Row(row, wrap=True, vertical_alignment=ft.CrossAxisAlignment.CENTER))


def _devices(desk: DeskState, page: PatientPage) -> ft.Control:
    tz, now = desk.clock.tz, desk.clock.now()
    rows: list[ft.Control] = []
    for d in page.devices:
        seen = when(d.get("last_seen_at"), tz, now) or "never"
        state_pill = pill("Revoked", "bad") if d["revoked"] else pill("Active", "ok")
        actions = [] if d["revoked"] else [button(f"revoke-{d['id']}", "Revoke",
                                                  handler(desk.patient.revoke_device, d["id"]),
                                                  kind="outlined", icon=ft.Icons.BLOCK)]
        if narrow(desk):
            rows.append(beside(ft.Column([ft.Text(d["name"], size=BODY, weight=ft.FontWeight.W_600),
                                          muted(f"last synced {seen}", 14)], spacing=2),
                               [state_pill, *actions], narrow=True))
            continue
        rows.append(ft.Row([ft.Text(d["name"], size=BODY, weight=ft.FontWeight.W_600, width=220), state_pill,
                            muted(f"last synced {seen}", 14), ft.Container(expand=True), *actions],
                           vertical_alignment=ft.CrossAxisAlignment.CENTER))
    if not rows:
        rows.append(muted("No phone paired yet.", BODY))
    actions = [button("pair-device", "Pair a phone", handler(desk.patient.new_pairing_code), kind="tonal",
                      icon=ft.Icons.QR_CODE_2)] if desk.session.can("patients.write") else []
    return section("Phones", rows, identifier="devices", actions=actions, narrow=narrow(desk))


def _pairing(desk: DeskState, page: PatientPage) -> list[ft.Control]:
    """The code just issued, at the top of the page where the patient at the counter can see it."""
    if not page.pairing:
        return []
    code = str(page.pairing["code"])
    expires = when(page.pairing.get("expires_at"), desk.clock.tz, desk.clock.now())
    words = ft.Column([muted("Pairing code: the patient types it in the app, or scans the square", 15),
                       ft.Text(code, size=40 if narrow(desk) else 48, weight=ft.FontWeight.W_800,
                               font_family="monospace", selectable=True),
                       muted(f"Works once, until {expires}.", 15)], spacing=6)
    square = ft.Image(src=qr_png(code), width=180, height=180)
    both = (ft.Column([ft.Row([square], alignment=ft.MainAxisAlignment.CENTER), words], spacing=12) if narrow(desk)
            else ft.Row([square, words], spacing=24))
    return [tid("pairing-code", ft.Container(both,
        padding=16, border_radius=12, bgcolor=ft.Colors.BLUE_50), label=f"Pairing code {code}")]


@ft.component
def PatientScreen(desk: DeskState) -> ft.Control:
    use_observable(desk.patient)
    page = desk.patient.page
    if page is None:
        return screen([heading("Patient"), FeedbackStrip(desk.feedback),
                       muted("Pick a patient from the search.", BODY)])
    p = page.profile
    phone = narrow(desk)
    back = tid("back", ft.IconButton(ft.Icons.ARROW_BACK, tooltip="Back to patients",
                                     on_click=handler(desk.navigation.go, "patients")))
    language = [tid("patient-language", muted(reads(p["language"]), 15))] if p.get("language") else []
    refresh = button("refresh-patient", "Refresh", handler(desk.patient.open, page.id), kind="outlined",
                     icon=ft.Icons.REFRESH)
    head: ft.Control = ft.Row([back, heading(p["name"]), *language, muted(p["id"], 14), ft.Container(expand=True),
                               refresh], vertical_alignment=ft.CrossAxisAlignment.CENTER)
    if phone:  # a long name wraps beside the back arrow; the rest under it
        head = ft.Column([ft.Row([back, ft.Container(heading(p["name"], 22), expand=True)],
                                 vertical_alignment=ft.CrossAxisAlignment.CENTER),
                          ft.Row([*language, muted(p["id"], 14), refresh], wrap=True, spacing=12, run_spacing=4,
                                 vertical_alignment=ft.CrossAxisAlignment.CENTER)], spacing=4)
    items: list[ft.Control] = [head, FeedbackStrip(desk.feedback), *_pairing(desk, page), _profile(desk, p)]
    left: list[ft.Control] = [appointments_section(desk, page)]
    if desk.session.can("devices"):
        left.append(_devices(desk, page))
    left.append(bills_section(desk, page))
    right: list[ft.Control] = [messages_section(desk, page), results_section(desk, page)]
    if phone:  # one column, in the desktop's reading order
        items += [*left, *right]
    else:
        items.append(ft.Row([ft.Column(left, spacing=16, expand=3), ft.Column(right, spacing=16, expand=2)],
                            vertical_alignment=ft.CrossAxisAlignment.START, spacing=16))
    return screen(items, narrow=phone)
