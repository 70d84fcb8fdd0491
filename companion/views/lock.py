"""The lock screen: passcode, visible backoff countdown, nothing sensitive on it."""

from __future__ import annotations

import flet as ft

from ..state import AppState
from ..ui.kit import act
from .common import button, feedback, field, muted, screen, shown_text, tid, title

__all__ = ["lock_screen"]


def lock_screen(state: AppState) -> ft.Control:
    def unlock() -> None:
        code = shown_text(state, "unlock")
        state.drafts.pop("unlock", None)
        act(state.unlock, code)

    passcode = field(state, "unlock", "Passcode", password=True, on_submit=lambda: unlock(), identifier="passcode")

    wait = state.seconds_to_retry()
    items: list[ft.Control] = [
        ft.Container(ft.Icon(ft.Icons.LOCK_OUTLINE, size=48, color=ft.Colors.PRIMARY), padding=8),
        title("Companion is locked", 26),
        muted(f"Enter your passcode to see your records from {state.services.profile.discreet_name}."),
        passcode,
    ]
    # one slot each, shown or empty: what comes and goes never moves the controls around it
    items.append(tid("lockout", ft.Text(f"Too many wrong tries. You can try again in {wait} s.",
                                        color=ft.Colors.ERROR, size=15)) if wait > 0 else ft.Container())
    items.extend(feedback(state) if wait <= 0 or state.busy else [ft.Container()])
    items.append(button("unlock", "Unlock", unlock, icon="LOCK_OPEN", disabled=wait > 0 or bool(state.busy)))
    return screen(state, [ft.Column(items, spacing=14, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)],
                  max_width=480)
