"""The patient app's own blocks over the shared kit: headers, cards, empty states, the screen body,
and the pieces several screens show (prep checklist rows, urgent help, clinic contact, an
appointment's summary).

Fields, buttons, ids, text and feedback come from :mod:`companion.ui.kit` (shared with the desk)
and are re-exported here for the screens; :func:`field` and :func:`shown_text` keep their text in
the session's drafts (``state.drafts``). :func:`feedback` is the feedback strip, a component of
its own that alone listens to ``state.feedback``. Buttons are at least 48 px high.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import flet as ft

from ..core.models import Appointment, PrepStep
from ..core.open_times import is_booking
from ..i18n import N_, _
from ..state import AppState, kind_text
from ..state.formatting import before_text, countdown, day_and_time
from ..ui import kit
from ..ui.kit import button, handler, muted, tid, title, typed_text

__all__ = [
    "STATUS_LABELS",
    "appointment_summary",
    "body_width",
    "button",
    "clinic_contact",
    "card",
    "empty_note",
    "feedback",
    "field",
    "header",
    "icon",
    "is_past",
    "muted",
    "prep_row",
    "save_export",
    "screen",
    "shown_text",
    "tid",
    "title",
    "typed_text",
    "urgent_help",
    "visit_status",
]


def icon(name: str) -> Any:
    return getattr(ft.Icons, name, ft.Icons.CIRCLE)


def field(state: AppState, key: str, label: str, **options: Any) -> ft.Control:
    """:func:`companion.ui.kit.field` over this session's drafts (same options)."""
    return kit.field(state.drafts, key, label, **options)


def shown_text(state: AppState, key: str) -> str:
    """The text field ``key`` shows now (see :func:`companion.ui.kit.shown_text`)."""
    return kit.shown_text(state.drafts, key)


def feedback(state: AppState) -> list[ft.Control]:
    """The feedback strip's one slot (:func:`companion.ui.kit.FeedbackStrip`), for a screen's list of controls."""
    return [kit.FeedbackStrip(state.feedback, dismiss=_("Dismiss"))]


def header(state: AppState, text: str, *, back: bool = False, actions: Sequence[ft.Control] = ()) -> ft.Control:
    """Screen title row; ``back`` adds a labelled back button to the parent list."""
    items: list[ft.Control] = []
    if back:
        items.append(tid("back", ft.IconButton(ft.Icons.ARROW_BACK, tooltip=_("Back"),
                                               on_click=lambda: state.nav.back())))
    items.append(ft.Container(title(text), expand=True))
    items.extend(actions)
    return ft.Row(items, vertical_alignment=ft.CrossAxisAlignment.CENTER)


def card(controls: Sequence[ft.Control], *, identifier: str | None = None,
         on_click: Callable[..., Any] | None = None, tone: str | None = None) -> ft.Control:
    """A rounded section; ``tone`` ``warn`` or ``calm`` tints it."""
    bg = {"warn": ft.Colors.ERROR_CONTAINER, "calm": ft.Colors.SECONDARY_CONTAINER,
          "info": ft.Colors.PRIMARY_CONTAINER}.get(tone or "", ft.Colors.SURFACE_CONTAINER_LOW)
    box = ft.Container(
        ft.Column(list(controls), spacing=8, tight=True, horizontal_alignment=ft.CrossAxisAlignment.STRETCH),
        padding=16, border_radius=16, bgcolor=bg, on_click=on_click, ink=on_click is not None,
    )
    return tid(identifier, box) if identifier else box


def empty_note(text: str, identifier: str = "empty") -> ft.Control:
    return tid(identifier, ft.Container(muted(text, 15), padding=ft.Padding.symmetric(vertical=24, horizontal=4)))


def body_width(state: AppState, max_width: int = 760) -> float | None:
    """A screen body's width on desktops (capped, beside the rail); ``None`` on a phone (the full width)."""
    nav = state.nav
    return min(float(max_width), nav.page_width - 140) if nav.wide else None


def screen(state: AppState, controls: Sequence[ft.Control], *, max_width: int = 760) -> ft.Control:
    """A scrolling screen body, centred and width-capped on desktops."""
    return kit.screen(controls, width=body_width(state, max_width), center=True)


STATUS_LABELS = {"requested": N_("Requested"), "scheduled": N_("Please confirm"), "confirmed": N_("Confirmed"),
                 "checked_in": N_("Checked in"), "completed": N_("Attended"), "cancelled": N_("Cancelled"),
                 "no_show": N_("Missed")}


BOOKING_LABEL = N_("Booking…")


def is_booking_pending(appt: Appointment) -> bool:
    """A booking of an open time the clinic has not answered yet (this device's own copy)."""
    return appt.status == "requested" and is_booking(appt.id)


def is_past(appt: Appointment, now: datetime) -> bool:
    """Over by the clock (a request has no time yet: never past)."""
    return appt.status != "requested" and now >= appt.end


def visit_status(appt: Appointment, now: datetime) -> str:
    """What the patient reads about a visit: a visit that is over says "Attended", "Missed" or "Past",
    never "Please confirm"."""
    if is_past(appt, now) and appt.status in ("scheduled", "confirmed", "checked_in"):
        return _("Past")
    if is_booking_pending(appt):
        return _(BOOKING_LABEL)
    return _(STATUS_LABELS[appt.status]) if appt.status in STATUS_LABELS else appt.status


def prep_row(state: AppState, step: PrepStep, appt: Appointment | None) -> ft.Control:
    """A tickable prep step with when it starts ("12 h before · from Mon 13 May, 22:00")."""
    when = before_text(step.before_minutes)
    if appt is not None and step.before_minutes > 0:
        starts = appt.start - timedelta(minutes=step.before_minutes)
        when += " · " + _("from %(when)s") % {"when": day_and_time(starts, state.services.tz, state.now())}
    done = step.done_at is not None
    box = ft.Checkbox(value=done, on_change=handler(state.prep.tick, step.id, not done))
    text = ft.Column([
        ft.Text(step.title, size=16, weight=ft.FontWeight.W_500,
                style=ft.TextStyle(decoration=ft.TextDecoration.LINE_THROUGH) if done else None),
        muted(when, 13),
        *([ft.Text(step.body, size=14)] if step.body.strip() else []),
    ], spacing=2, expand=True)
    return tid(f"prep-{step.id}", ft.Row([box, text], vertical_alignment=ft.CrossAxisAlignment.START),
               label=", ".join((step.title, _("done") if done else _("not done"))))


def appointment_summary(state: AppState, appt: Appointment, *, identifier: str) -> ft.Control:
    now = state.now()
    lines: list[ft.Control] = [
        ft.Row([ft.Text(kind_text(appt.visit_kind), size=18, weight=ft.FontWeight.W_600, expand=True),
                ft.Container(ft.Text(visit_status(appt, now), size=12),
                             bgcolor=ft.Colors.SURFACE_CONTAINER_HIGHEST, border_radius=10,
                             padding=ft.Padding.symmetric(horizontal=8, vertical=3))]),
        ft.Text(_("Waiting for the clinic to offer you a time") if appt.status == "requested"
                and not is_booking_pending(appt) else
                f"{day_and_time(appt.start, state.services.tz, now)} · {countdown(appt.start, now)}", size=15),
    ]
    if appt.location:
        lines.append(muted(appt.location))
    return card(lines, identifier=identifier, on_click=lambda: state.nav.go("appointment", appt.id))


def save_export(state: AppState, fmt: str, appointment_id: str | None = None) -> Callable[..., Any]:
    """An ``on_click`` that hands an export to Flet's save dialog (the browser downloads it; a
    desktop asks where) and says where it went — never a path on the app's own server."""

    async def save(*_e: Any) -> None:
        page = ft.context.page
        made = await asyncio.to_thread(state.prefs.export_file, fmt, appointment_id)
        if made is None:  # the intent said why on the feedback strip
            return
        name, data = made
        where = await ft.FilePicker().save_file(
            dialog_title=_("Save to calendar") if fmt == "ics" else _("Save your records"), file_name=name,
            src_bytes=data, file_type=ft.FilePickerFileType.CUSTOM, allowed_extensions=[name.rsplit(".", 1)[-1]])
        state.prefs.export_saved(name, where, browser=bool(page.web))

    return save


def urgent_help(state: AppState) -> ft.Control:
    p = state.services.profile
    rows: list[ft.Control] = [
        ft.Row([ft.Icon(ft.Icons.EMERGENCY_OUTLINED, color=ft.Colors.ON_ERROR_CONTAINER),
                ft.Text(_("Urgent help"), weight=ft.FontWeight.W_600, color=ft.Colors.ON_ERROR_CONTAINER)]),
        ft.Text(_("In an emergency call %(number)s. Messages in this app are not for emergencies — "
                  "the clinic may not read them straight away.") % {"number": p.emergency_number},
                color=ft.Colors.ON_ERROR_CONTAINER),
    ]
    if p.crisis_line:
        rows.append(ft.Text(_("Need to talk to someone now? Call or text %(number)s, any time.")
                            % {"number": p.crisis_line},
                            color=ft.Colors.ON_ERROR_CONTAINER))
    return card(rows, identifier="urgent-help", tone="warn")


def clinic_contact(state: AppState) -> ft.Control:
    p = state.services.profile
    rows: list[ft.Control] = [ft.Text(p.name, weight=ft.FontWeight.W_600)]
    for glyph, value in ((ft.Icons.PHONE_OUTLINED, p.phone), (ft.Icons.SCHEDULE, p.hours),
                         (ft.Icons.PLACE_OUTLINED, p.address), (ft.Icons.MAIL_OUTLINE, p.email)):
        if value:
            rows.append(ft.Row([ft.Icon(glyph, size=18), ft.Text(value, expand=True)]))
    return card(rows, identifier="clinic-contact")
