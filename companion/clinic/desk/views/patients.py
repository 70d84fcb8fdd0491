"""The Patients screen: search by name, phone, email or id, and add a patient (which opens their page)."""

from __future__ import annotations

import flet as ft

from ....ui.kit import use_observable
from ..state import DeskState
from .common import BODY, FeedbackStrip, button, field, handler, heading, muted, screen, section, tid

__all__ = ["PatientsScreen"]


def _found(desk: DeskState) -> list[ft.Control]:
    rows: list[ft.Control] = []
    for p in desk.search.results:
        facts = " · ".join(x for x in (p.get("dob") and f"born {p['dob']}", p.get("phone"), p.get("email")) if x)
        rows.append(tid(f"patient-{p['id']}", ft.Container(
            ft.Row([ft.Text(p["name"], size=18, weight=ft.FontWeight.W_600, width=280), muted(facts, 15)]),
            padding=ft.Padding.symmetric(horizontal=12, vertical=10), border_radius=10, ink=True,
            on_click=handler(desk.patient.open, p["id"])), label=p["name"]))
    return rows


@ft.component
def PatientsScreen(desk: DeskState) -> ft.Control:
    search, drafts = desk.search, desk.drafts
    use_observable(search)
    run_search = handler(search.search)
    rows = _found(desk)
    items: list[ft.Control] = [
        heading("Patients"),
        ft.Row([field(drafts, "search", "Name, phone, email or id", identifier="patient-search",
                      on_submit=run_search, expand=True, autofocus=True),
                button("search", "Search", run_search, icon=ft.Icons.SEARCH)]),
        FeedbackStrip(desk.feedback),
        section(f"Found ({len(rows)})" if drafts.draft("search") else "Recent patients",
                rows or [muted("No patient matches. Check the spelling, or add the patient below.", BODY)],
                identifier="search-results")]
    if desk.session.can("patients.write"):
        items.append(section("Add a patient", [
            ft.Row([field(drafts, "new.name", "Full name", width=300),
                    field(drafts, "new.dob", "Born (YYYY-MM-DD)", width=200),
                    field(drafts, "new.phone", "Phone", width=200), field(drafts, "new.email", "Email", width=260)],
                   wrap=True),
            ft.Row([button("add-patient", "Add patient", handler(search.add_patient), kind="tonal",
                           icon=ft.Icons.PERSON_ADD)])]))
    return screen(items)
