"""The sign-in screen: name, password, Enter to sign in; says why a previous sign-in ended."""

from __future__ import annotations

from typing import Any

import flet as ft

from ..state import DeskState
from .common import act, button, field, heading, muted, note, shown_text

__all__ = ["SignInScreen"]


@ft.component
def SignInScreen(desk: DeskState) -> ft.Control:
    """Rendered by the root while nobody is signed in; it re-renders with the session (the root's subscription)."""
    session, drafts = desk.session, desk.drafts

    def submit(*_e: Any) -> None:
        shown_text(drafts, "signin.name")
        shown_text(drafts, "signin.password")
        act(session.sign_in)

    name = field(drafts, "signin.name", "Your name", identifier="signin-name", on_submit=submit, autofocus=True)
    password = field(drafts, "signin.password", "Password", password=True, identifier="signin-password",
                     on_submit=submit)
    items: list[ft.Control] = [
        heading("Clinic desk", 30),
        muted("Sign in with your name and desk password.", 16),
        name,
        password,
    ]
    if session.signin_note:
        items.append(note("signin-note", session.signin_note, session.signin_tone))
    items.append(button("sign-in", "Sign in", submit, icon=ft.Icons.LOGIN))
    card = ft.Container(ft.Column(items, spacing=16, tight=True, horizontal_alignment=ft.CrossAxisAlignment.STRETCH),
                        width=420, padding=32, border_radius=16, bgcolor=ft.Colors.SURFACE_CONTAINER_LOWEST,
                        border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT))
    # the padding keeps the card off a phone's edges (the card's width is a cap there, not a size)
    return ft.Container(card, alignment=ft.Alignment.CENTER, expand=True, bgcolor=ft.Colors.SURFACE_CONTAINER_LOW,
                        padding=12)
