"""Building blocks of the desk's screens: test ids, large text, buttons, fields, sections, feedback.

Sized for a person who looks at it all day from arm's length: body text 16 px, titles 26 px,
buttons 44 px high. Every control someone acts on has a semantics identifier (``tid``), which
browser tests use, and a visible label. Fields keep their text in ``state.drafts`` so a re-render
(the inbox poll re-renders every few seconds) never loses what someone is typing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import flet as ft

from ...ui.field_text import mounted_text, note_typed, remember_field, render_text
from ..state import DeskState

__all__ = ["BODY", "act", "button", "choice", "field", "feedback", "heading", "muted", "pill", "screen", "section",
           "shown_text", "tid"]

BODY = 16
BUTTON_HEIGHT = 44


def tid(identifier: str, control: ft.Control, label: str | None = None) -> ft.Control:
    return ft.Semantics(identifier=identifier, label=label, content=control)


def act(fn: Callable[..., Any], *args: Any) -> Callable[..., None]:
    """An event handler running intent ``fn(*args)`` off the UI loop (intents wait on HTTP)."""

    def run(*_e: Any) -> None:
        ft.context.page.run_thread(fn, *args)

    return run


def heading(text: str, size: int = 26) -> ft.Text:
    return ft.Text(text, size=size, weight=ft.FontWeight.W_700)


def muted(text: str, size: int = 14) -> ft.Text:
    return ft.Text(text, size=size, color=ft.Colors.ON_SURFACE_VARIANT)


def pill(text: str, tone: str = "plain") -> ft.Control:
    """A short status word in a coloured capsule (``ok``, ``warn``, ``info``, ``plain``)."""
    bg, fg = {"ok": (ft.Colors.GREEN_100, ft.Colors.GREEN_900), "warn": (ft.Colors.AMBER_100, ft.Colors.BROWN_900),
              "info": (ft.Colors.BLUE_100, ft.Colors.BLUE_900), "bad": (ft.Colors.RED_100, ft.Colors.RED_900)}.get(
        tone, (ft.Colors.SURFACE_CONTAINER_HIGHEST, ft.Colors.ON_SURFACE))
    return ft.Container(ft.Text(text, size=14, weight=ft.FontWeight.W_600, color=fg), bgcolor=bg, border_radius=14,
                        padding=ft.Padding.symmetric(horizontal=10, vertical=3))


def button(identifier: str, text: str, on_click: Callable[..., Any] | None, *, kind: str = "filled",
           icon: Any = None) -> ft.Control:
    cls = {"filled": ft.FilledButton, "tonal": ft.FilledTonalButton, "outlined": ft.OutlinedButton,
           "text": ft.TextButton}[kind]
    return tid(identifier, cls(text, icon=icon, on_click=on_click, height=BUTTON_HEIGHT))


def choice(state: DeskState, key: str, options: Sequence[tuple[str, str]], default: str, prefix: str) -> ft.Control:
    """A row of buttons picking one value into ``state.drafts[key]`` (the picked one is filled)."""
    picked = state.draft(key, default)

    def pick(value: str) -> Callable[..., None]:
        def run(*_e: Any) -> None:
            state.set_draft(key, value)
            state.notify()

        return run

    return ft.Row([button(f"{prefix}-{value}", label, pick(value), kind="tonal" if value == picked else "outlined")
                   for value, label in options], wrap=True, spacing=8, run_spacing=8)


def field(state: DeskState, key: str, label: str, *, password: bool = False, multiline: bool = False,
          hint: str | None = None, width: float | None = None, on_submit: Callable[..., Any] | None = None,
          identifier: str | None = None, expand: bool = False, autofocus: bool = False) -> ft.Control:
    def changed(e: Any) -> None:
        data = getattr(e, "data", None)
        note_typed(state, key, data if isinstance(data, str) else str(getattr(e.control, "value", "") or ""))

    def submitted(e: Any) -> None:
        changed(e)  # the submit event carries the browser's own copy of the text
        if on_submit is not None:
            on_submit(e)

    # a re-render never puts back an older text over what the browser has (companion.views.field_text)
    tf = ft.TextField(label=label, value=render_text(state, key), password=password, can_reveal_password=password,
                      multiline=multiline, min_lines=3 if multiline else None, max_lines=12 if multiline else 1,
                      hint_text=hint, on_change=changed, on_submit=submitted if on_submit is not None else None,
                      width=width, expand=expand,
                      text_size=BODY, autofocus=autofocus, shift_enter=multiline)
    remember_field(state, key, tf)
    return tid(identifier or f"field-{key}", tf)


def shown_text(state: DeskState, key: str, wrapped: ft.Control) -> str:
    """The text the :func:`field` ``wrapped`` shows now, also kept as ``state.drafts[key]``.

    The browser patches a field's ``value`` as soon as it is edited and sends a ``change`` event
    handled later as its own task: a click may be handled first, so a button reads the patched value.
    """
    live = mounted_text(getattr(wrapped, "content", wrapped))
    if live is not None:
        note_typed(state, key, live)
    return state.draft(key)


def section(title: str, controls: Sequence[ft.Control], *, identifier: str | None = None,
            actions: Sequence[ft.Control] = (), tone: str | None = None) -> ft.Control:
    bg = {"warn": ft.Colors.AMBER_50, "info": ft.Colors.BLUE_50}.get(tone or "", ft.Colors.SURFACE_CONTAINER_LOWEST)
    head = ft.Row([ft.Text(title, size=19, weight=ft.FontWeight.W_700, expand=True), *actions],
                  vertical_alignment=ft.CrossAxisAlignment.CENTER)
    box = ft.Container(ft.Column([head, *controls], spacing=10, tight=True), padding=18, border_radius=14,
                       bgcolor=bg, border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT))
    return tid(identifier, box) if identifier else box


def feedback(state: DeskState) -> list[ft.Control]:
    out: list[ft.Control] = []
    if state.busy:
        out.append(tid("busy", ft.Row([ft.ProgressRing(width=20, height=20, stroke_width=3),
                                      ft.Text(state.busy, size=BODY)])))
    if state.error:
        out.append(tid("error", ft.Container(
            ft.Row([ft.Icon(ft.Icons.ERROR_OUTLINE, color=ft.Colors.RED_900),
                    ft.Text(state.error, size=BODY, color=ft.Colors.RED_900, expand=True),
                    ft.IconButton(ft.Icons.CLOSE, tooltip="Dismiss", on_click=lambda: state.clear_feedback())]),
            bgcolor=ft.Colors.RED_50, padding=ft.Padding.only(left=14, right=4, top=6, bottom=6), border_radius=10)))
    if state.toast:
        out.append(tid("toast", ft.Container(
            ft.Row([ft.Icon(ft.Icons.CHECK_CIRCLE_OUTLINE, color=ft.Colors.GREEN_900),
                    ft.Text(state.toast, size=BODY, color=ft.Colors.GREEN_900, expand=True),
                    ft.IconButton(ft.Icons.CLOSE, tooltip="Dismiss", on_click=lambda: state.clear_feedback())]),
            bgcolor=ft.Colors.GREEN_50, padding=ft.Padding.only(left=14, right=4, top=6, bottom=6), border_radius=10)))
    return out


def screen(controls: Sequence[ft.Control]) -> ft.Control:
    return ft.Column([ft.Container(ft.Column(list(controls), spacing=16), padding=ft.Padding.all(24))],
                     scroll=ft.ScrollMode.AUTO, expand=True)
