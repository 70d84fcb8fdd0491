"""The lock screen: passcode, visible backoff countdown, nothing sensitive on it."""

from __future__ import annotations

import flet as ft

from ..state import AppState
from ..ui.kit import act, use_observable
from .common import button, feedback, field, muted, screen, shown_text, tid, title

__all__ = ["LockScreen"]


@ft.component
def LockScreen(state: AppState) -> ft.Control:
    """Renders for the countdown and each try (the busy line, a refusal: the field empties itself)."""
    use_observable(state.session)
    use_observable(state.feedback)

    def unlock() -> None:
        code = shown_text(state, "unlock")
        state.drafts.pop("unlock")
        act(state.session.unlock, code)

    passcode = field(state, "unlock", "Passcode", password=True, on_submit=lambda: unlock(), identifier="passcode")

    wait = state.session.seconds_to_retry()
    items: list[ft.Control] = [
        ft.Container(ft.Icon(ft.Icons.LOCK_OUTLINE, size=48, color=ft.Colors.PRIMARY), padding=8),
        title("Companion is locked", 26),
        muted(f"Enter your passcode to see your records from {state.services.profile.discreet_name}."),
        passcode,
    ]
    # one slot each, shown or empty: what comes and goes never moves the controls around it
    items.append(tid("lockout", ft.Text(f"Too many wrong tries. You can try again in {wait} s.",
                                        color=ft.Colors.ERROR, size=15)) if wait > 0 else ft.Container())
    items.extend(feedback(state) if wait <= 0 or state.feedback.busy else [ft.Container()])
    items.append(button("unlock", "Unlock", unlock, icon="LOCK_OPEN", disabled=wait > 0 or bool(state.feedback.busy)))
    return screen(state, [ft.Column(items, spacing=14, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)],
                  max_width=480)
