"""Pieces shared by several screens: prep checklist rows, urgent help, clinic contact, appointment summary."""

from __future__ import annotations

from datetime import timedelta

import flet as ft

from ..core.models import Appointment, PrepStep
from ..state import AppState
from ..state.formatting import before_text, countdown, day_and_time
from ..ui.kit import handler
from .common import card, muted, tid

__all__ = ["STATUS_LABELS", "appointment_summary", "clinic_contact", "prep_row", "urgent_help"]

STATUS_LABELS = {"requested": "Requested", "scheduled": "Please confirm", "confirmed": "Confirmed",
                 "checked_in": "Checked in", "completed": "Completed", "cancelled": "Cancelled",
                 "no_show": "Missed"}


def prep_row(state: AppState, step: PrepStep, appt: Appointment | None) -> ft.Control:
    """A tickable prep step with when it starts ("12 h before · from Mon 13 May, 22:00")."""
    when = before_text(step.before_minutes)
    if appt is not None and step.before_minutes > 0:
        starts = appt.start - timedelta(minutes=step.before_minutes)
        when += f" · from {day_and_time(starts, state.services.tz, state.now())}"
    done = step.done_at is not None
    box = ft.Checkbox(value=done, on_change=handler(state.prep.tick, step.id, not done))
    text = ft.Column([
        ft.Text(step.title, size=16, weight=ft.FontWeight.W_500,
                style=ft.TextStyle(decoration=ft.TextDecoration.LINE_THROUGH) if done else None),
        muted(when, 13),
        *([ft.Text(step.body, size=14)] if step.body.strip() else []),
    ], spacing=2, expand=True)
    return tid(f"prep-{step.id}", ft.Row([box, text], vertical_alignment=ft.CrossAxisAlignment.START),
               label=f"{step.title}, {'done' if done else 'not done'}")


def appointment_summary(state: AppState, appt: Appointment, *, identifier: str) -> ft.Control:
    now = state.now()
    lines: list[ft.Control] = [
        ft.Row([ft.Text(appt.visit_kind, size=18, weight=ft.FontWeight.W_600, expand=True),
                ft.Container(ft.Text(STATUS_LABELS.get(appt.status, appt.status), size=12),
                             bgcolor=ft.Colors.SURFACE_CONTAINER_HIGHEST, border_radius=10,
                             padding=ft.Padding.symmetric(horizontal=8, vertical=3))]),
        ft.Text(f"{day_and_time(appt.start, state.services.tz, now)} · {countdown(appt.start, now)}", size=15),
    ]
    if appt.location:
        lines.append(muted(appt.location))
    return card(lines, identifier=identifier, on_click=lambda: state.nav.go("appointment", appt.id))


def urgent_help(state: AppState) -> ft.Control:
    p = state.services.profile
    rows: list[ft.Control] = [
        ft.Row([ft.Icon(ft.Icons.EMERGENCY_OUTLINED, color=ft.Colors.ON_ERROR_CONTAINER),
                ft.Text("Urgent help", weight=ft.FontWeight.W_600, color=ft.Colors.ON_ERROR_CONTAINER)]),
        ft.Text(f"In an emergency call {p.emergency_number}. Messages in this app are not for emergencies — "
                "the clinic may not read them straight away.", color=ft.Colors.ON_ERROR_CONTAINER),
    ]
    if p.crisis_line:
        rows.append(ft.Text(f"Need to talk to someone now? Call or text {p.crisis_line}, any time.",
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
