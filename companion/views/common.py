"""Small building blocks every screen uses: test ids, headers, cards, buttons, feedback, empty states.

Every control a patient can act on carries a stable semantics identifier
(``tid``), shown in the browser's accessibility tree as
``flt-semantics-identifier`` — the handle the browser tests use — and a visible
text or tooltip that screen readers announce. Buttons are at least 48 px high.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import flet as ft

from ..state import AppState
from ..ui.field_text import mounted_text, note_typed, remember_field, render_text

__all__ = [
    "button",
    "card",
    "empty_note",
    "feedback",
    "field",
    "header",
    "icon",
    "muted",
    "screen",
    "shown_text",
    "tid",
    "title",
    "typed_text",
]

TAP_HEIGHT = 48


def tid(identifier: str, control: ft.Control, label: str | None = None) -> ft.Control:
    """Give ``control`` a stable semantics identifier (and optionally a spoken label)."""
    return ft.Semantics(identifier=identifier, label=label, content=control)


def icon(name: str) -> Any:
    return getattr(ft.Icons, name, ft.Icons.CIRCLE)


def title(text: str, size: int = 22) -> ft.Text:
    return ft.Text(text, size=size, weight=ft.FontWeight.W_600)


def muted(text: str, size: int = 14) -> ft.Text:
    return ft.Text(text, size=size, color=ft.Colors.ON_SURFACE_VARIANT)


def button(identifier: str, text: str, on_click: Callable[..., Any] | None, *, kind: str = "filled",
           icon_name: str | None = None, disabled: bool = False) -> ft.Control:
    """A labelled button with a large tap target; ``kind`` is filled, tonal, outlined or text."""
    cls = {"filled": ft.FilledButton, "tonal": ft.FilledTonalButton, "outlined": ft.OutlinedButton,
           "text": ft.TextButton}[kind]
    ctrl = cls(text, icon=icon(icon_name) if icon_name else None, on_click=on_click, disabled=disabled,
               height=TAP_HEIGHT)
    return tid(identifier, ctrl)


def typed_text(e: Any) -> str:
    """The text of a change event: its data (the control object may be an older render's)."""
    data = getattr(e, "data", None)
    if isinstance(data, str):
        return data
    return str(getattr(e.control, "value", "") or "")


def field(state: AppState, key: str, label: str, *, password: bool = False, multiline: bool = False,
          hint: str | None = None, default: str = "", on_submit: Callable[..., Any] | None = None,
          identifier: str | None = None, keyboard: ft.KeyboardType | None = None) -> ft.Control:
    """A text field whose text lives in ``state.drafts[key]`` (re-renders never clear what was typed).

    Enter submits the text the submit event carries (the browser's own copy); a button reads the
    field with :func:`shown_text` rather than trusting that the last change event was handled. A
    re-render never puts back an older text over what the browser has (:mod:`.field_text`).
    """
    if key not in state.drafts and default:
        state.drafts[key] = default

    def submitted(e: Any) -> None:
        note_typed(state, key, typed_text(e))
        if on_submit is not None:
            on_submit()

    tf = ft.TextField(
        label=label, value=render_text(state, key), password=password, can_reveal_password=password,
        multiline=multiline, min_lines=3 if multiline else None, max_lines=6 if multiline else 1,
        hint_text=hint, on_change=lambda e: note_typed(state, key, typed_text(e)),
        on_submit=submitted if on_submit is not None else None,
        keyboard_type=keyboard or (ft.KeyboardType.MULTILINE if multiline else ft.KeyboardType.TEXT),
    )
    remember_field(state, key, tf)
    return tid(identifier or f"field-{key}", tf)


def shown_text(state: AppState, key: str, wrapped: ft.Control) -> str:
    """The text field ``wrapped`` (a :func:`field`) shows now, also kept as ``state.drafts[key]``.

    The browser reports every edit twice: a property patch (``value``), applied to the session's
    control as soon as it arrives, and a ``change`` event, handled later as a separate task. A click
    can be handled before the last change event (seen in a bench: unlock, lock, unlock again said
    "wrong passcode"), so a button reads the patched value, not only what change events left.
    """
    live = mounted_text(getattr(wrapped, "content", wrapped))
    if live is not None:
        note_typed(state, key, live)
    return state.draft(key)


def header(state: AppState, text: str, *, back: bool = False, actions: Sequence[ft.Control] = ()) -> ft.Control:
    """Screen title row; ``back`` adds a labelled back button to the parent list."""
    items: list[ft.Control] = []
    if back:
        items.append(tid("back", ft.IconButton(ft.Icons.ARROW_BACK, tooltip="Back", on_click=lambda: state.back())))
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


def feedback(state: AppState) -> list[ft.Control]:
    """The one-line error / good-news / progress strip of the current screen."""
    out: list[ft.Control] = []
    if state.busy:
        out.append(tid("busy", ft.Row([ft.ProgressRing(width=20, height=20, stroke_width=3),
                                      ft.Text(state.busy)])))
    if state.error:
        out.append(tid("error", ft.Container(
            ft.Row([ft.Icon(ft.Icons.ERROR_OUTLINE, color=ft.Colors.ON_ERROR_CONTAINER),
                    ft.Text(state.error, color=ft.Colors.ON_ERROR_CONTAINER, expand=True)]),
            bgcolor=ft.Colors.ERROR_CONTAINER, padding=12, border_radius=12)))
    if state.toast:
        out.append(tid("toast", ft.Container(
            ft.Row([ft.Icon(ft.Icons.CHECK_CIRCLE_OUTLINE, color=ft.Colors.ON_SECONDARY_CONTAINER),
                    ft.Text(state.toast, color=ft.Colors.ON_SECONDARY_CONTAINER, expand=True),
                    ft.IconButton(ft.Icons.CLOSE, tooltip="Dismiss", on_click=lambda: state.clear_feedback())]),
            bgcolor=ft.Colors.SECONDARY_CONTAINER, padding=ft.Padding.only(left=12, right=4, top=4, bottom=4),
            border_radius=12)))
    return out


def screen(state: AppState, controls: Sequence[ft.Control], *, max_width: int = 760) -> ft.Control:
    """A scrolling screen body, centred and width-capped on desktops."""
    width = min(float(max_width), state.page_width - 140) if state.wide else None
    return ft.Column(
        [ft.Container(ft.Column(list(controls), spacing=14, horizontal_alignment=ft.CrossAxisAlignment.STRETCH),
                      width=width, padding=ft.Padding.all(16))],
        scroll=ft.ScrollMode.AUTO, expand=True, horizontal_alignment=ft.CrossAxisAlignment.CENTER,
    )
