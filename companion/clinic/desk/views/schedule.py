"""Schedule: what patients can book in the app (services, their weekly hours per room or provider),
when not (blocks: holidays, someone away), and the partner notices' counts. Dates come from the
date picker, never typed."""

from __future__ import annotations

from typing import Any

import flet as ft

from ....core.clinic_profile import WEEKDAYS
from ..state import DeskState
from .common import (
    BODY,
    Choice,
    FeedbackStrip,
    beside,
    button,
    field,
    handler,
    muted,
    narrow,
    pill,
    screen,
    section,
    tid,
    title_row,
    use_observable,
)
from .pickers import date_button

__all__ = ["ScheduleScreen"]

DAY_LABELS = dict(zip(WEEKDAYS, ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), strict=True))
MINUTES = [("15", "15 min"), ("20", "20 min"), ("30", "30 min"), ("45", "45 min"), ("60", "60 min")]


def _days_text(days: list[str]) -> str:
    """``["mon", "tue", "wed", "fri"]`` -> ``"Mon–Wed, Fri"``; all seven -> ``"Every day"``."""
    order = sorted({WEEKDAYS.index(d) for d in days if d in WEEKDAYS})
    if len(order) == len(WEEKDAYS):
        return "Every day"
    runs: list[list[int]] = []
    for i in order:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    label = [DAY_LABELS[WEEKDAYS[i]] for i in range(len(WEEKDAYS))]
    return ", ".join(label[r[0]] if len(r) == 1 else f"{label[r[0]]}–{label[r[-1]]}" if len(r) > 2
                     else f"{label[r[0]]}, {label[r[1]]}" for r in runs)


def _hours_text(service: dict[str, Any]) -> str:
    spans: dict[tuple[str, str, str], list[str]] = {}
    for h in service["hours"]:
        spans.setdefault((h["opens"], h["closes"], h["resource"]), []).append(h["day"])
    return "; ".join(f"{_days_text(days)} {a}–{b} · {r}" for (a, b, r), days in spans.items()) or "No hours yet"


def _service_row(desk: DeskState, s: dict[str, Any]) -> ft.Control:
    board = desk.schedule
    toggle = button(f"service-{'pause' if s['active'] else 'resume'}-{s['id']}", "Pause" if s["active"] else "Resume",
                    handler(board.set_active, s["id"], not s["active"]), kind="outlined")
    edit = button(f"service-edit-{s['id']}", "Edit", handler(board.edit_service, s["id"]), kind="outlined")
    marks = [pill("Bookable" if s["active"] else "Paused", "ok" if s["active"] else "plain")]
    if s.get("fast_track"):
        marks.append(pill("Partner fast track", "info"))
    return tid(f"service-{s['id']}", beside(
        ft.Column([ft.Text(f"{s['name']} · {s['minutes']} min", size=BODY, weight=ft.FontWeight.W_600),
                   muted(_hours_text(s), 15)], spacing=2), [*marks, edit, toggle], narrow=narrow(desk), spacing=10))


@ft.component
def _DayChoice(desk: DeskState) -> ft.Control:
    drafts = desk.drafts
    _n, set_n = ft.use_state(0)
    chosen = [d for d in drafts.draft("service.days", "mon,tue,wed,thu,fri").split(",") if d]

    def flip(day: str) -> Any:
        def run(*_e: Any) -> None:
            now = [d for d in WEEKDAYS if (d in chosen) != (d == day)]
            drafts.set_draft("service.days", ",".join(now))
            set_n(lambda n: n + 1)
        return run

    return ft.Row([button(f"service-day-{d}", DAY_LABELS[d], flip(d), kind="tonal" if d in chosen else "outlined")
                   for d in WEEKDAYS], wrap=True, spacing=8, run_spacing=8)


def _service_form(desk: DeskState) -> ft.Control:
    d, board = desk.drafts, desk.schedule
    edited = board.edited
    if edited is None:
        heading, note = "New bookable service", []
        actions = [button("add-service", "Add service", handler(board.add_service), icon=ft.Icons.ADD)]
    else:
        heading = f"Edit {edited['name']}"
        note = [muted("Saving replaces its weekly hours with the days and hours below; visits already booked stay.",
                      15)]
        actions = [button("save-service", "Save changes", handler(board.add_service), icon=ft.Icons.SAVE),
                   button("cancel-edit", "Cancel", handler(board.stop_editing), kind="outlined")]
    return section(heading, [*note,
        field(d, "service.name", "Name (as patients see it)", identifier="service-name"),
        Choice(d, "service.minutes", MINUTES, "15", "service-minutes"),
        muted("Days", 15), _DayChoice(desk),
        *_hours_fields(desk),
        Choice(d, "service.fast_track", [("no", "Not on partner notices"), ("yes", "Offer on partner notices")], "no",
               "service-fast-track"),
        ft.Row(actions, spacing=8, wrap=True, run_spacing=8)], identifier="service-form", narrow=narrow(desk))


def _hours_fields(desk: DeskState) -> list[ft.Control]:
    """Opens, closes, room: in one row on a desktop; on a phone the times side by side, the room under them."""
    d = desk.drafts
    opens = field(d, "service.opens", "Opens (HH:MM)", identifier="service-opens")
    closes = field(d, "service.closes", "Closes (HH:MM)", identifier="service-closes")
    room = field(d, "service.resource", "Room or provider", identifier="service-resource")
    if narrow(desk):
        return [ft.Row([ft.Container(opens, expand=True), ft.Container(closes, expand=True)], spacing=12), room]
    return [ft.Row([ft.Container(opens, width=170), ft.Container(closes, width=170),
                    ft.Container(room, expand=True)], spacing=12)]


def _blocks(desk: DeskState) -> ft.Control:
    board, today = desk.schedule, desk.clock.today()
    rows: list[ft.Control] = []
    for b in board.blocks:
        starts = b["starts_at"][:10]
        who = b["resource"] or "Whole clinic"
        rows.append(tid(f"block-{b['id']}", beside(
            ft.Text(f"{who} · from {starts} · {b['reason'] or 'closed'}", size=BODY),
            [button(f"block-remove-{b['id']}", "Remove", handler(board.remove_block, b["id"]), kind="outlined")],
            narrow=narrow(desk), spacing=10)))
    first, last = board.block_from, board.block_to
    rows += [
        ft.Row([date_button("block-from", f"From {first:%a %d %b}" if first else "First day…", first or today,
                            lambda day: board.pick_block_day("from", day), first=today),
                date_button("block-to", f"To {last:%a %d %b}" if last else "Last day…", last or first or today,
                            lambda day: board.pick_block_day("to", day), first=first or today)], spacing=8,
               wrap=True, run_spacing=8),
        *_block_fields(desk),
        button("add-block", "Block these days", handler(board.add_block), icon=ft.Icons.BLOCK)]
    return section(f"Blocks ({len(board.blocks)})", rows, identifier="blocks", narrow=narrow(desk))


def _block_fields(desk: DeskState) -> list[ft.Control]:
    resource = field(desk.drafts, "block.resource", "Room or provider (empty: whole clinic)",
                     identifier="block-resource")
    reason = field(desk.drafts, "block.reason", "Reason (staff only)", identifier="block-reason")
    if narrow(desk):
        return [resource, reason]
    return [ft.Row([ft.Container(resource, expand=True), ft.Container(reason, expand=True)], spacing=12)]


def _counts(desk: DeskState) -> ft.Control:
    c = desk.schedule.counts
    text = (f"{c.get('made', 0)} links made · {c.get('opened', 0)} opened · {c.get('booked', 0)} booked a visit · "
            f"{c.get('reported', 0)} reported") if c else "No partner notices yet."
    return section("Partner notices", [ft.Text(text, size=BODY),
                                      muted("Totals only: the clinic never learns who told whom.", 15)],
                   identifier="notice-counts", narrow=narrow(desk))


@ft.component
def ScheduleScreen(desk: DeskState) -> ft.Control:
    board = desk.schedule
    use_observable(board)
    services = [_service_row(desk, s) for s in board.services]
    phone = narrow(desk)
    return screen([
        title_row(desk.clock, "Schedule", narrow=phone),
        muted("What patients can book in the app, and when. Changes reach their apps at the next sync.", 15),
        FeedbackStrip(desk.feedback),
        section(f"Bookable services ({len(services)})", services or [muted("None yet.", BODY)],
                identifier="services", narrow=phone),
        _service_form(desk), _blocks(desk), _counts(desk)], narrow=phone)
