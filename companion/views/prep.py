"""Prep: a checklist per upcoming appointment, with when each step starts; ticking works offline."""

from __future__ import annotations

import flet as ft

from ..state import AppState, Route
from ..state.formatting import day_and_time
from ..ui.kit import use_observable
from .common import card, empty_note, feedback, header, muted, screen
from .widgets import prep_row

__all__ = ["PrepScreen"]


@ft.component
def PrepScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    use_observable(state.records)
    snap = state.records.snapshot
    items: list[ft.Control] = [header(state, "Preparation"), *feedback(state),
                               muted("Tick each step when it is done. It is saved on this device straight away "
                                     "and shared with the clinic when you are online.")]
    shown = 0
    for appt in snap.upcoming:
        steps = snap.prep_for(appt.id)
        if not steps:
            continue
        shown += 1
        when = day_and_time(appt.start, state.services.tz, state.now())
        items.append(card([ft.Text(f"{appt.visit_kind} · {when}", size=16, weight=ft.FontWeight.W_600),
                           *[prep_row(state, s, appt) for s in steps]], identifier=f"prep-card-{appt.id}"))
    if not shown:
        items.append(empty_note("Nothing to prepare right now. Steps from the clinic appear here before a visit.",
                                "no-prep"))
    return screen(state, items)
