"""The building blocks both Flet apps share: ids, text, buttons, fields, feedback, the state hook, handlers.

One meaning each, for the patient app and the desk alike:

- :func:`act` runs an intent *now*, off the UI loop (intents may block on the KDF or HTTP);
  :func:`handler` returns an ``on_click`` that does that later, arguments fixed now;
  :func:`when_closed` runs a session's close work off it too.
- :func:`use_observable` re-renders the calling component when an observable notifies, from
  any thread (live sync, the desk's poll, the idle clock change state off the loop); a component
  subscribes to the observables it renders and no others. :func:`memo` (``ft.memo``, typed)
  keeps a parent's render from rendering it again with the same arguments.
- :func:`field` keeps its text in ``owner.drafts[key]`` and never lets a re-render put back an
  older text over what the browser has (:mod:`.field_text`); a button reads it with
  :func:`shown_text`.

Every control someone acts on has a semantics identifier (:func:`tid`), which screen readers
pair with its visible label and browser tests use as a handle. Each app keeps its own sizes
(the desk is read at arm's length all day; the app on a phone).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, Protocol

import flet as ft

from .field_text import app_changes, note_typed, remember_field, render_text, shown_field_text

__all__ = ["Drafts", "Feedback", "FeedbackStrip", "Watchable", "act", "button", "feedback", "field", "handler", "memo",
           "muted", "screen", "shown_text", "tid", "title", "typed_text", "use_observable", "when_closed"]

P = ParamSpec("P")


class Drafts(Protocol):
    """What a field keeps its text in: ``drafts[key]`` (an app's or a desk's state)."""

    drafts: dict[str, str]

    def draft(self, key: str, default: str = "") -> str: ...


class Watchable(Protocol):
    """What :func:`use_observable` follows: a :class:`~companion.core.observable.Observable` or alike."""

    version: int

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]: ...


class Feedback(Watchable, Protocol):
    """The one-line news of a screen: what runs, what went wrong, what went well (it notifies on change)."""

    busy: str | None
    error: str | None
    toast: str | None

    def clear_feedback(self) -> None: ...


def tid(identifier: str, control: ft.Control, label: str | None = None) -> ft.Control:
    """Give ``control`` a stable semantics identifier (and optionally a spoken label).

    The identifier is also the control's key, so a re-render matches it by what it stands for, not
    by where it stands: a visit booked above another is a new row, not the other's row patched into
    it. Matched by position, the rows below each took the next one's texts while the browser kept
    their old identifiers (the desk's new 09:00 visit showed Move and Cancel named for the 08:00 one).
    Identifiers are unique among siblings, as keys must be.
    """
    return ft.Semantics(identifier=identifier, label=label, content=control, key=identifier)


def title(text: str, size: int = 22, weight: ft.FontWeight = ft.FontWeight.W_600) -> ft.Text:
    return ft.Text(text, size=size, weight=weight)


def muted(text: str, size: int = 14) -> ft.Text:
    return ft.Text(text, size=size, color=ft.Colors.ON_SURFACE_VARIANT)


def use_observable(observable: Watchable) -> int:
    """Re-render the calling component when ``observable`` notifies (from any thread); returns the version rendered.

    The unsubscribe is handed to ``use_effect`` as ``cleanup=`` on *every* render: Flet's hook
    sets its cleanup from that argument each time, so a cleanup only *returned* by the effect on
    mount is replaced by ``None`` at the first re-render, and a component that re-rendered once
    stays subscribed after it is gone (measured on the desk: one more listener on the inbox and
    the feedback per screen switch, each woken by every poll all day).
    """
    version, set_version = ft.use_state(observable.version)
    unsubscribe: Any = ft.use_ref(None)  # .current: the function that unsubscribes, while subscribed

    def subscribe() -> None:
        page = ft.context.page
        on_page = contextvars.copy_context()  # this effect's context: ``ft.context.page`` is this tab's page

        def rerender() -> None:  # on the page's loop
            set_version(observable.version)

        def on_change() -> None:
            connection = getattr(page.session, "connection", None)
            loop = getattr(connection, "loop", None)
            if loop is None or loop.is_closed():  # the tab closed: nothing to draw on
                return
            # A plain callback, not ``page.run_task``: that makes the coroutine here, before the
            # loop has it, and a tab closing in between left it never awaited (a RuntimeWarning at
            # collection, seen once in CI). A callback the closing loop drops is simply dropped.
            with contextlib.suppress(RuntimeError):  # closed between the check and the call
                loop.call_soon_threadsafe(rerender, context=on_page)

        unsubscribe.current = observable.subscribe(on_change)

    def cleanup() -> None:
        if unsubscribe.current is not None:
            unsubscribe.current()
            unsubscribe.current = None

    ft.use_effect(subscribe, [], cleanup=cleanup)
    return int(version)


def memo(component: Callable[P, ft.Control]) -> Callable[P, ft.Control]:
    """``ft.memo`` with its type kept: the component renders again only when an argument changed
    (compared with ``==``) or its own state or an observable it reads (:func:`use_observable`) did,
    never merely because its parent rendered again."""
    memoised: Callable[P, ft.Control] = ft.memo(component)  # type: ignore[no-untyped-call]
    return memoised


def act(fn: Callable[..., Any], *args: Any) -> None:
    """Run intent ``fn(*args)`` now, in Flet's thread pool (a blocked UI loop would freeze every screen)."""
    ft.context.page.run_thread(fn, *args)


def handler(fn: Callable[..., Any], *args: Any) -> Callable[..., None]:
    """An event handler that runs ``fn(*args)`` through :func:`act` (arguments fixed now)."""

    def run(*_e: Any) -> None:
        act(fn, *args)

    return run


def when_closed(page: ft.Page, work: Callable[[], None]) -> None:
    """Run ``work`` in a worker thread when ``page``'s session closes (its tab closed and any reload
    grace ran out).

    Flet calls a plain ``on_close`` handler on the event loop: the loop of every tab, and of the
    whole clinic API where the desk is mounted in the server. Close work that waits there stalls them
    all, and the desk's sign-out, a request to its own server, waits for an answer that loop can never
    give: the server answered nothing for 15 s (the staff client's timeout) after each closed desk
    tab, and the sign-out never happened."""

    async def closed(_e: Any) -> None:
        await asyncio.to_thread(work)

    page.on_close = closed


def button(identifier: str, text: str, on_click: Callable[..., Any] | None, *, kind: str = "filled",
           icon: Any = None, disabled: bool = False, height: int = 48) -> ft.Control:
    """A labelled button with a large tap target; ``kind`` is filled, tonal, outlined or text;
    ``icon`` a Flet icon or its name."""
    cls = {"filled": ft.FilledButton, "tonal": ft.FilledTonalButton, "outlined": ft.OutlinedButton,
           "text": ft.TextButton}[kind]
    if isinstance(icon, str):
        icon = getattr(ft.Icons, icon, ft.Icons.CIRCLE)
    return tid(identifier, cls(text, icon=icon, on_click=on_click, disabled=disabled, height=height))


def typed_text(e: Any) -> str:
    """The text of a change or submit event: its data (the control object may be an older render's)."""
    data = getattr(e, "data", None)
    if isinstance(data, str):
        return data
    return str(getattr(e.control, "value", "") or "")


@dataclass(frozen=True, slots=True)
class _FieldLook:
    """Everything a field shows but its text: equal looks need no new render."""

    label: str
    identifier: str
    password: bool
    multiline: bool
    hint: str | None
    helper: str | None
    keyboard: ft.KeyboardType
    text_size: int | None
    max_lines: int
    min_lines: int
    width: float | None
    expand: bool
    autofocus: bool
    submits: bool


@dataclass(slots=True)
class _FieldHandlers:
    on_submit: Callable[[], Any] | None = None
    on_typed: Callable[[str], Any] | None = None


_HANDLERS: weakref.WeakKeyDictionary[Any, dict[str, _FieldHandlers]] = weakref.WeakKeyDictionary()


def field(owner: Drafts, key: str, label: str, *, password: bool = False, multiline: bool = False,
          hint: str | None = None, helper: str | None = None, default: str = "",
          on_submit: Callable[[], Any] | None = None, on_typed: Callable[[str], Any] | None = None,
          identifier: str | None = None, keyboard: ft.KeyboardType | None = None, text_size: int | None = None,
          max_lines: int = 6, min_lines: int = 3, width: float | None = None, expand: bool = False,
          autofocus: bool = False) -> ft.Control:
    """A text field whose text lives in ``owner.drafts[key]`` (see the module docstring).

    It is a memoised component of its own: a re-render of the screen around it (a live sync, a
    poll, the idle clock) does not rebuild it, so nothing can put an older text over what is being
    typed. It renders again only when its look changes or the app itself changed the draft (cleared
    it after sending, a default, a sign-out). Enter submits the text the submit event carries (the
    browser's own copy), then calls ``on_submit()``; ``on_typed(text)`` follows every edit.
    """
    if key not in owner.drafts and default:
        owner.drafts[key] = default
    handlers = _HANDLERS.setdefault(owner, {}).setdefault(key, _FieldHandlers())
    handlers.on_submit, handlers.on_typed = on_submit, on_typed  # the newest, read when an event comes
    look = _FieldLook(label=label, identifier=identifier or f"field-{key}", password=password, multiline=multiline,
                      hint=hint, helper=helper,
                      keyboard=keyboard or (ft.KeyboardType.MULTILINE if multiline else ft.KeyboardType.TEXT),
                      text_size=text_size, max_lines=max_lines, min_lines=min_lines, width=width, expand=expand,
                      autofocus=autofocus, submits=on_submit is not None)
    return _memo_text_input(owner, key, look, app_changes(owner, key))


@ft.component
def _TextInput(owner: Drafts, key: str, look: _FieldLook, app_change: int) -> ft.Control:
    handlers = _HANDLERS.setdefault(owner, {}).setdefault(key, _FieldHandlers())

    def typed(e: Any) -> None:
        text = typed_text(e)
        note_typed(owner, key, text)
        if handlers.on_typed is not None:
            handlers.on_typed(text)

    def submitted(e: Any) -> None:
        note_typed(owner, key, typed_text(e))
        if handlers.on_submit is not None:
            handlers.on_submit()

    tf = ft.TextField(
        # A new key each time the app changed the draft: the browser gets a new field with the app's
        # text, where patching the old one's value could be skipped as "unchanged" by the diff.
        key=f"{key}#{app_change}", label=look.label, value=render_text(owner, key), password=look.password,
        can_reveal_password=look.password,
        multiline=look.multiline, min_lines=look.min_lines if look.multiline else None,
        max_lines=look.max_lines if look.multiline else 1, hint_text=look.hint, helper=look.helper,
        on_change=typed, on_submit=submitted if look.submits else None, text_size=look.text_size, width=look.width,
        expand=look.expand, autofocus=look.autofocus, shift_enter=look.multiline, keyboard_type=look.keyboard,
    )
    remember_field(owner, key, tf)
    return tid(look.identifier, tf)


_memo_text_input: Callable[..., ft.Control] = ft.memo(_TextInput)  # type: ignore[no-untyped-call]


def shown_text(owner: Drafts, key: str) -> str:
    """The text field ``key`` shows now, also kept as ``owner.drafts[key]``.

    The browser reports every edit twice: a property patch (``value``), applied to the session's
    control as soon as it arrives, and a ``change`` event, handled later as a separate task. A click
    can be handled before the last change event, so a button reads the patched value.
    """
    live = shown_field_text(owner, key)
    if live is not None:
        note_typed(owner, key, live)
    return owner.draft(key)


def _notice(identifier: str, icon: Any, text: str, fg: Any, bg: Any, size: int | None,
            dismiss: Callable[[], None], dismiss_label: str) -> ft.Control:
    return tid(identifier, ft.Container(
        ft.Row([ft.Icon(icon, color=fg), ft.Text(text, color=fg, size=size, expand=True),
                ft.IconButton(ft.Icons.CLOSE, tooltip=dismiss_label, on_click=lambda: dismiss())]),
        bgcolor=bg, padding=ft.Padding.only(left=12, right=4, top=4, bottom=4), border_radius=12))


def feedback(owner: Feedback, *, text_size: int | None = None, dismiss: str = "Dismiss") -> list[ft.Control]:
    """The progress / error / good-news strip of the current screen (each dismissable; ``dismiss`` is
    the close button's spoken label, in the app's language: the kit has no catalog of its own).

    Always exactly one slot, empty when there is no news: Flutter matches a column's children by
    position, so a notice that *inserted* a child would shift every control below it to a new
    place, and Flutter would build the field there anew — dropping what was being typed in it.
    """
    out: list[ft.Control] = []
    if owner.busy:
        out.append(tid("busy", ft.Row([ft.ProgressRing(width=20, height=20, stroke_width=3),
                                      ft.Text(owner.busy, size=text_size)])))
    if owner.error:
        out.append(_notice("error", ft.Icons.ERROR_OUTLINE, owner.error, ft.Colors.ON_ERROR_CONTAINER,
                           ft.Colors.ERROR_CONTAINER, text_size, owner.clear_feedback, dismiss))
    if owner.toast:
        out.append(_notice("toast", ft.Icons.CHECK_CIRCLE_OUTLINE, owner.toast, ft.Colors.ON_SECONDARY_CONTAINER,
                           ft.Colors.SECONDARY_CONTAINER, text_size, owner.clear_feedback, dismiss))
    return [ft.Column(out, spacing=8, tight=True, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)]


@ft.component
def _FeedbackStrip(owner: Feedback, text_size: int | None, dismiss: str) -> ft.Control:
    use_observable(owner)
    return feedback(owner, text_size=text_size, dismiss=dismiss)[0]


_feedback_strip: Callable[..., ft.Control] = ft.memo(_FeedbackStrip)  # type: ignore[no-untyped-call]


def FeedbackStrip(owner: Feedback, *, text_size: int | None = None, dismiss: str = "Dismiss") -> ft.Control:
    """The :func:`feedback` strip as a component of its own, subscribed to ``owner`` only: a spinner
    or a toast redraws the strip, not the screen around it. One slot, always there."""
    return _feedback_strip(owner, text_size, dismiss)


def screen(controls: Sequence[ft.Control], *, width: float | None = None, padding: int = 16, spacing: int = 14,
           stretch: bool = True, center: bool = False) -> ft.Control:
    """A scrolling screen body; ``width`` caps it on wide windows; ``stretch`` widens its rows;
    ``center`` puts the capped body in the middle of the window (a scrolling column is only as
    wide as its widest child, so it is centred in a full-width row)."""
    body = ft.Column(list(controls), spacing=spacing,
                     horizontal_alignment=ft.CrossAxisAlignment.STRETCH if stretch else ft.CrossAxisAlignment.START)
    framed: ft.Control = ft.Container(body, width=width, padding=ft.Padding.all(padding))
    if center and width:
        framed = ft.Row([framed], alignment=ft.MainAxisAlignment.CENTER)
    return ft.Column([framed], scroll=ft.ScrollMode.AUTO,
                     expand=True,
                     horizontal_alignment=ft.CrossAxisAlignment.CENTER if width else ft.CrossAxisAlignment.START)
