"""The desk's sizes and its own blocks (pills, choices, sections, the feedback strip) over the shared kit.

Sized for a person who looks at it all day from arm's length: body text 16 px, titles 26 px,
buttons 44 px high. Ids, fields, feedback and handlers have one meaning in both apps
(:mod:`companion.ui.kit`); what the kit lacks and only the desk needs is here:

- :func:`FeedbackStrip` — the kit's feedback strip at the desk's text size.
- :func:`Choice` — a row of buttons picking one value into a draft; picking redraws the row only
  (``on_pick`` tells a screen that shows something else for each value).
- :func:`narrow` — whether the desk has a phone's width (``desk.navigation.wide`` is false): rows
  then put their actions under their text (:func:`beside`), screens and headings take less room.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import flet as ft

from ....ui import kit
from ....ui.kit import act, handler, muted, shown_text, tid, title, use_observable
from ..state import DeskClock, DeskState, Drafts, Feedback
from ..state.timefmt import zone_name

__all__ = ["APPOINTMENT_STATUS", "BODY", "Choice", "FeedbackStrip", "act", "beside", "button", "field", "handler",
           "heading", "muted", "narrow", "note", "pill", "screen", "section", "shown_text", "tid", "title_row",
           "use_observable"]

BODY = 16
BUTTON_HEIGHT = 44

APPOINTMENT_STATUS = {
    "checked_in": ("Checked in", "ok"), "confirmed": ("Confirmed", "info"), "scheduled": ("Booked", "plain"),
    "requested": ("Requested", "warn"), "cancelled": ("Cancelled", "bad"), "completed": ("Attended", "ok"),
    "no_show": ("Missed", "bad")}


def narrow(desk: DeskState) -> bool:
    """The phone layout: the window is narrower than the apps' one width rule (:mod:`companion.core.layout`)."""
    return not desk.navigation.wide


def heading(text: str, size: int = 26) -> ft.Text:
    return title(text, size, ft.FontWeight.W_700)


def title_row(clock: DeskClock, text: str, *actions: ft.Control, narrow: bool = False) -> ft.Control:
    """A screen's heading, naming the zone its times are in (on a phone, the zone and actions under it)."""
    zone = muted(f"Times in {zone_name(clock.tz, clock.now())}", 14)
    if narrow:
        return ft.Column([heading(text, 22), ft.Row([zone, *actions], wrap=True, spacing=12, run_spacing=8,
                                                    vertical_alignment=ft.CrossAxisAlignment.CENTER)], spacing=6)
    return ft.Row([heading(text), ft.Container(expand=True), zone, *actions],
                  vertical_alignment=ft.CrossAxisAlignment.CENTER, spacing=16)


def beside(text: ft.Control, actions: Sequence[ft.Control], *, narrow: bool, lead: Sequence[ft.Control] = (),
           spacing: int = 12) -> ft.Control:
    """A row's text (taking the room left) with ``actions`` at its end; on a phone the actions go under the text.

    ``lead`` (a dot, a time) stays before the text in both layouts."""
    if not narrow:
        return ft.Row([*lead, ft.Container(text, expand=True), *actions],
                      vertical_alignment=ft.CrossAxisAlignment.CENTER, spacing=spacing)
    top = ft.Row([*lead, ft.Container(text, expand=True)], vertical_alignment=ft.CrossAxisAlignment.START,
                 spacing=spacing) if lead else text
    if not actions:
        return top
    return ft.Column([top, ft.Row(list(actions), wrap=True, spacing=8, run_spacing=8,
                                  vertical_alignment=ft.CrossAxisAlignment.CENTER)], spacing=8, tight=True)


def pill(text: str, tone: str = "plain") -> ft.Control:
    """A short status word in a coloured capsule (``ok``, ``warn``, ``info``, ``bad``, ``plain``)."""
    bg, fg = {"ok": (ft.Colors.GREEN_100, ft.Colors.GREEN_900), "warn": (ft.Colors.AMBER_100, ft.Colors.BROWN_900),
              "info": (ft.Colors.BLUE_100, ft.Colors.BLUE_900), "bad": (ft.Colors.RED_100, ft.Colors.RED_900)}.get(
        tone, (ft.Colors.SURFACE_CONTAINER_HIGHEST, ft.Colors.ON_SURFACE))
    return ft.Container(ft.Text(text, size=14, weight=ft.FontWeight.W_600, color=fg), bgcolor=bg, border_radius=14,
                        padding=ft.Padding.symmetric(horizontal=10, vertical=3))


def note(identifier: str, text: str, tone: str = "info") -> ft.Control:
    """A sentence in a tinted box: ``bad`` (red, something went wrong), ``warn`` (amber), else ``info`` (blue)."""
    bg, fg = {"bad": (ft.Colors.RED_50, ft.Colors.RED_900), "warn": (ft.Colors.AMBER_50, ft.Colors.BROWN_900)}.get(
        tone, (ft.Colors.BLUE_50, ft.Colors.BLUE_900))
    return tid(identifier, ft.Container(ft.Text(text, size=BODY, color=fg), bgcolor=bg, padding=12, border_radius=10))


def button(identifier: str, text: str, on_click: Callable[..., Any] | None, *, kind: str = "filled",
           icon: Any = None) -> ft.Control:
    return kit.button(identifier, text, on_click, kind=kind, icon=icon, height=BUTTON_HEIGHT)


@ft.component
def Choice(drafts: Drafts, key: str, options: Sequence[tuple[str, str]], default: str, prefix: str,
           on_pick: Callable[[str], None] | None = None) -> ft.Control:
    """A row of buttons picking one value into ``drafts[key]`` (the picked one is filled)."""
    _picks, set_picks = ft.use_state(0)
    picked = drafts.draft(key, default)

    def pick(value: str) -> Callable[..., None]:
        def run(*_e: Any) -> None:
            drafts.set_draft(key, value)
            set_picks(lambda n: n + 1)
            if on_pick is not None:
                on_pick(value)

        return run

    return ft.Row([button(f"{prefix}-{value}", label, pick(value), kind="tonal" if value == picked else "outlined")
                   for value, label in options], wrap=True, spacing=8, run_spacing=8)


def field(drafts: Drafts, key: str, label: str, **options: Any) -> ft.Control:
    """:func:`companion.ui.kit.field` at the desk's text size."""
    return kit.field(drafts, key, label, text_size=BODY, max_lines=12, **options)


def section(title: str, controls: Sequence[ft.Control], *, identifier: str | None = None,
            actions: Sequence[ft.Control] = (), tone: str | None = None, narrow: bool = False) -> ft.Control:
    bg = {"warn": ft.Colors.AMBER_50, "info": ft.Colors.BLUE_50}.get(tone or "", ft.Colors.SURFACE_CONTAINER_LOWEST)
    head = ft.Row([ft.Text(title, size=19, weight=ft.FontWeight.W_700, expand=True), *actions],
                  vertical_alignment=ft.CrossAxisAlignment.CENTER)
    # on a phone each row takes the section's width (a card as wide as its text looks broken beside a wider one)
    body = ft.Column([head, *controls], spacing=10, tight=True,
                     horizontal_alignment=ft.CrossAxisAlignment.STRETCH if narrow else ft.CrossAxisAlignment.START)
    box = ft.Container(body, padding=12 if narrow else 18,
                       border_radius=14,
                       bgcolor=bg, border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT))
    return tid(identifier, box) if identifier else box


def FeedbackStrip(feedback: Feedback) -> ft.Control:
    """The open screen's progress / error / good news at the desk's size (:func:`companion.ui.kit.FeedbackStrip`)."""
    return kit.FeedbackStrip(feedback, text_size=BODY)


def screen(controls: Sequence[ft.Control], *, narrow: bool = False) -> ft.Control:
    """A scrolling screen body; on a phone with less padding (every pixel of 390 is the text's)."""
    return kit.screen(controls, padding=12 if narrow else 24, spacing=12 if narrow else 16, stretch=narrow)
