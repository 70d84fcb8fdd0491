"""The patient app's own blocks (headers, cards, empty states, the screen body) over the shared kit.

Fields, buttons, ids, text and feedback come from :mod:`companion.ui.kit` (shared with the desk)
and are re-exported here for the screens; :func:`field` and :func:`shown_text` keep their text in
the session's drafts (``state.drafts``). :func:`feedback` is the feedback strip, a component of
its own that alone listens to ``state.feedback``. Buttons are at least 48 px high.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import flet as ft

from ..state import AppState
from ..ui import kit
from ..ui.kit import button, muted, tid, title, typed_text

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
    return [kit.FeedbackStrip(state.feedback)]


def header(state: AppState, text: str, *, back: bool = False, actions: Sequence[ft.Control] = ()) -> ft.Control:
    """Screen title row; ``back`` adds a labelled back button to the parent list."""
    items: list[ft.Control] = []
    if back:
        items.append(tid("back", ft.IconButton(ft.Icons.ARROW_BACK, tooltip="Back", on_click=lambda: state.nav.back())))
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


def screen(state: AppState, controls: Sequence[ft.Control], *, max_width: int = 760) -> ft.Control:
    """A scrolling screen body, centred and width-capped on desktops."""
    nav = state.nav
    return kit.screen(controls, width=min(float(max_width), nav.page_width - 140) if nav.wide else None)
