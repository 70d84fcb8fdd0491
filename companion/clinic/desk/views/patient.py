"""Patient search and the patient page (profile, insurance, devices; care sections in :mod:`.care`).

The pairing code is shown large, in groups a patient can read out, next to a QR code the app
scans; it is the only secret on screen and is gone once the page is left.
"""

from __future__ import annotations

from typing import Any

import flet as ft

from ..state import DeskState
from ..state.timefmt import when
from .care import appointments_section, bills_section, messages_section, results_section
from .common import BODY, button, feedback, field, handler, heading, muted, pill, screen, section, tid
from .qr import qr_png

__all__ = ["patient_screen", "patients_screen"]

INSURANCE = {"verified": ("Verified", "ok"), "rejected": ("Rejected", "bad"), "submitted": ("To check", "warn"),
             "none": ("None given", "plain")}


def patients_screen(state: DeskState) -> ft.Control:
    search = handler(state.search)
    rows: list[ft.Control] = []
    for p in state.search_results:
        facts = " · ".join(x for x in (p.get("dob") and f"born {p['dob']}", p.get("phone"), p.get("email")) if x)
        rows.append(tid(f"patient-{p['id']}", ft.Container(
            ft.Row([ft.Text(p["name"], size=18, weight=ft.FontWeight.W_600, width=280), muted(facts, 15)]),
            padding=ft.Padding.symmetric(horizontal=12, vertical=10), border_radius=10, ink=True,
            on_click=handler(state.open_patient, p["id"])), label=p["name"]))
    items: list[ft.Control] = [
        heading("Patients"),
        ft.Row([field(state, "search", "Name, phone, email or id", identifier="patient-search", on_submit=search,
                      expand=True, autofocus=True),
                button("search", "Search", search, icon=ft.Icons.SEARCH)]),
        *feedback(state),
        section(f"Found ({len(rows)})" if state.draft("search") else "Recent patients",
                rows or [muted("No patient matches. Check the spelling, or add the patient below.", BODY)],
                identifier="search-results")]
    if state.can("patients.write"):
        items.append(section("Add a patient", [
            ft.Row([field(state, "new.name", "Full name", width=300), field(state, "new.dob", "Born (YYYY-MM-DD)",
                                                                            width=200),
                    field(state, "new.phone", "Phone", width=200), field(state, "new.email", "Email", width=260)],
                   wrap=True),
            ft.Row([button("add-patient", "Add patient", handler(state.add_patient), kind="tonal",
                           icon=ft.Icons.PERSON_ADD)])]))
    return screen(items)


def _profile(state: DeskState, p: dict[str, Any]) -> ft.Control:
    ins = p.get("insurance") or {}
    label, tone = INSURANCE.get(str(ins.get("status") or "none"), (str(ins.get("status")), "plain"))
    facts: list[ft.Control] = [ft.Text(f"Born {p['dob']}" if p.get("dob") else "Date of birth not given", size=BODY),
             ft.Text(p.get("phone") or "No phone", size=BODY), ft.Text(p.get("email") or "No email", size=BODY)]
    insurance: list[ft.Control] = [
        ft.Row([ft.Text("Insurance", size=BODY, weight=ft.FontWeight.W_600), pill(label, tone)]),
        ft.Text(" · ".join(x for x in (ins.get("payer"), ins.get("member_id") and f"member {ins['member_id']}",
                                       ins.get("group") and f"group {ins['group']}") if x) or "No insurance details",
                size=BODY)]
    if ins.get("note"):
        insurance.append(muted(f"Note: {ins['note']}", 14))
    if state.can("patients.write") and ins.get("payer"):
        insurance.append(ft.Row([
            field(state, "insurance.note", "Note (optional)", width=260),
            button("insurance-verify", "Verified", handler(state.verify_insurance, "verified"), kind="tonal",
                   icon=ft.Icons.VERIFIED_OUTLINED),
            button("insurance-reject", "Reject", handler(state.verify_insurance, "rejected"), kind="outlined")],
            wrap=True))
    return section("Profile", [ft.Row([ft.Column(facts, spacing=4, width=320),
                                       ft.Column(insurance, spacing=6, expand=True)],
                                      vertical_alignment=ft.CrossAxisAlignment.START)], identifier="profile")


def _devices(state: DeskState) -> ft.Control:
    page = state.patient
    assert page is not None
    rows: list[ft.Control] = []
    for d in page.devices:
        seen = when(d.get("last_seen_at"), state.tz, state.now()) or "never"
        state_pill = pill("Revoked", "bad") if d["revoked"] else pill("Active", "ok")
        actions = [] if d["revoked"] else [button(f"revoke-{d['id']}", "Revoke", handler(state.revoke_device, d["id"]),
                                                  kind="outlined", icon=ft.Icons.BLOCK)]
        rows.append(ft.Row([ft.Text(d["name"], size=BODY, weight=ft.FontWeight.W_600, width=220), state_pill,
                            muted(f"last synced {seen}", 14), ft.Container(expand=True), *actions],
                           vertical_alignment=ft.CrossAxisAlignment.CENTER))
    if not rows:
        rows.append(muted("No phone paired yet.", BODY))
    actions = [button("pair-device", "Pair a phone", handler(state.new_pairing_code), kind="tonal",
                      icon=ft.Icons.QR_CODE_2)] if state.can("patients.write") else []
    return section("Phones", rows, identifier="devices", actions=actions)


def _pairing(state: DeskState) -> list[ft.Control]:
    """The code just issued, at the top of the page where the patient at the counter can see it."""
    page = state.patient
    if page is None or not page.pairing:
        return []
    rows: list[ft.Control] = []
    code = str(page.pairing["code"])
    expires = when(page.pairing.get("expires_at"), state.tz, state.now())
    rows.append(tid("pairing-code", ft.Container(ft.Row([
        ft.Image(src=qr_png(code), width=180, height=180),
        ft.Column([muted("Pairing code: the patient types it in the app, or scans the square", 15),
                   ft.Text(code, size=48, weight=ft.FontWeight.W_800, font_family="monospace", selectable=True),
                   muted(f"Works once, until {expires}.", 15)], spacing=6)], spacing=24),
        padding=16, border_radius=12, bgcolor=ft.Colors.BLUE_50), label=f"Pairing code {code}"))
    return rows


def patient_screen(state: DeskState) -> ft.Control:
    page = state.patient
    if page is None:
        return screen([heading("Patient"), *feedback(state), muted("Pick a patient from the search.", BODY)])
    p = page.profile
    back = tid("back", ft.IconButton(ft.Icons.ARROW_BACK, tooltip="Back to patients",
                                     on_click=handler(state.go, "patients")))
    items: list[ft.Control] = [
        ft.Row([back, heading(p["name"]), muted(p["id"], 14), ft.Container(expand=True),
                button("refresh-patient", "Refresh", handler(state.open_patient, page.id), kind="outlined",
                       icon=ft.Icons.REFRESH)], vertical_alignment=ft.CrossAxisAlignment.CENTER),
        *feedback(state), *_pairing(state), _profile(state, p)]
    left: list[ft.Control] = [appointments_section(state, page)]
    if state.can("devices"):
        left.append(_devices(state))
    left.append(bills_section(state, page))
    right: list[ft.Control] = [messages_section(state, page), results_section(state, page)]
    items.append(ft.Row([ft.Column(left, spacing=16, expand=3), ft.Column(right, spacing=16, expand=2)],
                        vertical_alignment=ft.CrossAxisAlignment.START, spacing=16))
    return screen(items)
