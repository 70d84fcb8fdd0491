"""On a patient's page: book one of the clinic's open times for them (the self-booking rule: the
time is held on its room or provider, the service's prep checklist comes with it)."""

from __future__ import annotations

import flet as ft

from ..state import DeskState
from .common import BODY, button, handler, muted, tid, use_observable

__all__ = ["OpenTimeBooking"]

SHOWN = 8


@ft.component
def OpenTimeBooking(desk: DeskState, patient_id: str) -> ft.Control:
    board = desk.schedule
    use_observable(board)
    chosen, set_chosen = ft.use_state("")
    ft.use_effect(lambda: None if board.services else ft.context.page.run_thread(board.load_services_quietly), [])
    bookable = [s for s in board.services if s["active"]]
    if not bookable:
        return muted("No bookable services yet (Schedule).", 14)

    def pick(service_id: str) -> None:
        set_chosen(service_id)
        ft.context.page.run_thread(board.load_open_times, service_id)

    rows: list[ft.Control] = [
        ft.Text("Book an open time", size=17, weight=ft.FontWeight.W_700),
        ft.Row([button(f"open-service-{s['id']}", f"{s['name']} · {s['minutes']} min",
                       lambda *_e, sid=s["id"]: pick(sid), kind="tonal" if s["id"] == chosen else "outlined")
                for s in bookable], wrap=True, spacing=8, run_spacing=8)]
    if chosen:
        tz, today = desk.clock.tz, desk.clock.today()
        times = board.open_times.get(chosen, [])[:SHOWN]
        rows.append(ft.Row([
            button(f"open-time-{i}", (f"{t.astimezone(tz):%H:%M}" if t.astimezone(tz).date() == today
                                      else f"{t.astimezone(tz):%a %d %b %H:%M}"),
                   handler(board.book_for, patient_id, chosen, t, lambda: desk.patient.open(patient_id)),
                   kind="outlined") for i, t in enumerate(times)] or [muted("No open times in the next weeks.", BODY)],
            wrap=True, spacing=8, run_spacing=8))
    return tid("open-time-booking", ft.Column(rows, spacing=10))
