"""Getting in: onboarding (a passcode with its strength shown, pairing, the first sync with progress)
and the lock screen (passcode, a visible backoff countdown, nothing sensitive on it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from ..i18n import _
from ..state import AppState, passcode_strength
from ..ui.kit import act, use_observable
from .common import button, feedback, field, muted, screen, shown_text, tid, title

__all__ = ["LockScreen", "OnboardingScreen"]

STRENGTH_COLORS = (ft.Colors.ERROR, ft.Colors.ORANGE, ft.Colors.AMBER, ft.Colors.LIGHT_GREEN, ft.Colors.GREEN)


def _strength(passcode: str) -> ft.Control:
    score, label, problem = passcode_strength(passcode)
    return tid("passcode-strength", ft.Column([
        ft.ProgressBar(value=score / 4, color=STRENGTH_COLORS[score], bgcolor=ft.Colors.SURFACE_CONTAINER_HIGHEST,
                       height=8, border_radius=4),
        ft.Text(_("Strength: %(label)s") % {"label": label} + (f" — {problem}" if problem else ""), size=14),
    ], spacing=4), label=_("Passcode strength: %(label)s") % {"label": label})


def _passcode_step(state: AppState, typing: Callable[[Any], None]) -> list[ft.Control]:
    def create() -> None:  # the texts on screen at the click (see shown_text)
        act(state.session.create_passcode, shown_text(state, "new.passcode"), shown_text(state, "new.confirm"))

    strength_field = field(state, "new.passcode", _("Choose a passcode"), password=True,
                           helper=_("At least 8 characters. A short sentence is easy to remember."),
                           on_typed=typing)  # the strength meter follows the typing
    confirm = field(state, "new.confirm", _("Type it again"), password=True, on_submit=lambda: create())
    return [
        title(_("Welcome"), 28),
        muted(_("Your visits, results and messages from the clinic are kept on this device, "
                "encrypted with a passcode only you know.")),
        strength_field,
        _strength(state.drafts.draft("new.passcode")),
        confirm,
        button("create-passcode", _("Create passcode"), create, icon="LOCK_OUTLINE"),
        muted(_("If you forget the passcode, nobody can recover the records on this device — "
                "but the clinic can pair the app again.")),
    ]


def _pair_step(state: AppState) -> list[ft.Control]:
    profile = state.services.profile
    default_url = state.sync.status.server_url or profile.server_url or ""

    def pair() -> None:  # the texts on screen at the click (see shown_text)
        act(state.session.pair, shown_text(state, "pair.url"), shown_text(state, "pair.code"))

    url = field(state, "pair.url", _("Clinic server address"), default=default_url, keyboard=ft.KeyboardType.URL)
    code = field(state, "pair.code", _("Pairing code"), hint=_("e.g. K7Q-4MZ-9TD"), on_submit=lambda: pair())
    return [
        title(_("Connect to your clinic"), 26),
        muted(_("Ask %(clinic)s at the front desk for a pairing code. "
                "It works once and only for a short time.") % {"clinic": profile.discreet_name}),
        url,
        code,
        button("pair", _("Connect"), pair, icon="LINK", disabled=state.feedback.busy is not None),
    ]


def _syncing_step(state: AppState) -> list[ft.Control]:
    """The first download: a bar that fills as records arrive (when the clinic said how many)."""
    progress = state.session.first_sync
    value = progress[0] / progress[1] if progress and progress[1] else None
    return [
        title(_("Getting your records"), 26),
        tid("first-sync", ft.ProgressBar(value=value, height=6, border_radius=3)),
        muted(_("Downloading visits, preparation steps, bills and messages. This takes a few seconds.")),
    ]


@ft.component
def OnboardingScreen(state: AppState) -> ft.Control:
    """Renders for its step, its busy line, the passcode being chosen (its own state, for the meter) and
    the layout (a desktop window caps and centres it)."""
    use_observable(state.session)
    use_observable(state.feedback)
    use_observable(state.nav)
    _typed, typing = ft.use_state("")  # each edit renders the step again (the meter reads the draft)
    step = state.session.onboarding_step
    if step == "pair":
        body = _pair_step(state)
    elif step == "syncing":
        body = _syncing_step(state)
    else:
        body = _passcode_step(state, typing)
    n = ("passcode", "pair", "syncing").index(step) + 1 if step in ("passcode", "pair", "syncing") else 1
    step_of = _("Step %(n)s of %(total)s") % {"n": n, "total": 3}
    return screen(state, [muted(step_of, 13), *body, *feedback(state)], max_width=560)


@ft.component
def LockScreen(state: AppState) -> ft.Control:
    """Renders for the countdown, each try (the busy line, a refusal: the field empties itself) and the
    layout (a desktop window caps and centres it)."""
    use_observable(state.session)
    use_observable(state.feedback)
    use_observable(state.nav)

    def unlock() -> None:
        code = shown_text(state, "unlock")
        state.drafts.pop("unlock")
        act(state.session.unlock, code)

    passcode = field(state, "unlock", _("Passcode"), password=True, on_submit=lambda: unlock(), identifier="passcode")

    wait = state.session.seconds_to_retry()
    items: list[ft.Control] = [
        ft.Container(ft.Icon(ft.Icons.LOCK_OUTLINE, size=48, color=ft.Colors.PRIMARY), padding=8),
        title(_("Companion is locked"), 26),
        muted(_("Enter your passcode to see your records from %(clinic)s.")
              % {"clinic": state.services.profile.discreet_name}),
        passcode,
    ]
    # one slot each, shown or empty: what comes and goes never moves the controls around it
    items.append(tid("lockout", ft.Text(_("Too many wrong tries. You can try again in %(n)s s.") % {"n": wait},
                                        color=ft.Colors.ERROR, size=15)) if wait > 0 else ft.Container())
    items.extend(feedback(state) if wait <= 0 or state.feedback.busy else [ft.Container()])
    items.append(button("unlock", _("Unlock"), unlock, icon="LOCK_OPEN",
                        disabled=wait > 0 or bool(state.feedback.busy)))
    return screen(state, [ft.Column(items, spacing=14, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)],
                  max_width=480)
