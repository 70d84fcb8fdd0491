"""What a text field shows when it is built again: the browser's text, unless the app changed the draft.

The browser reports an edit twice: a ``value`` patch, applied to the session's control as soon as it
arrives, and a ``change`` event, handled later as its own task. A screen keeps a field's text in a
draft (``drafts[key]``) that change events update.

A live update (a sync, a reminder banner, the idle clock) no longer builds a field at all: screens
are components that render for what they show, and a field is a memoised component of its own
(:func:`companion.ui.kit.field`) that renders again only when :func:`app_changes` says the *app*
changed its draft. What remains here is for the times a field is built anyway:

- the app changed the draft (cleared after sending, a default, a sign-out): the draft wins, and
  :func:`app_changes` gives the field a new key so the browser shows it;
- the field is built anew for another reason (its look changed, or it moved to another parent;
  within one list it moves, keyed by its identifier, :func:`companion.ui.kit.tid`):
  :func:`render_text` takes the text the mounted control holds now, so a last edit whose change
  event is still on its way is not replaced by the older draft (once seen in the browser test: the
  result passcode field emptied itself right after typing);
- a click handled before the last change event: :func:`shown_field_text` reads the mounted text
  (:func:`companion.ui.kit.shown_text`).

Works for any owner with a ``drafts`` dict (the app's drafts, the desk's).
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

import flet as ft

__all__ = ["app_changes", "mounted_text", "note_typed", "remember_field", "render_text", "shown_field_text"]


@dataclass
class _Memory:
    typed: dict[str, str] = field(default_factory=dict)  # what each field's events/reads last reported
    fields: dict[str, Any] = field(default_factory=dict)  # the TextField last built for each key
    changes: dict[str, int] = field(default_factory=dict)  # how often the app itself changed each draft


_MEMORY: weakref.WeakKeyDictionary[Any, _Memory] = weakref.WeakKeyDictionary()


def _memory(owner: Any) -> _Memory:
    mem = _MEMORY.get(owner)
    if mem is None:
        mem = _MEMORY[owner] = _Memory()
    return mem


def mounted_text(control: Any) -> str | None:
    """The text the session's mounted copy of ``control`` holds now (patched by the browser), if any."""
    live: Any = None
    with contextlib.suppress(Exception):  # not mounted (tests building controls directly)
        live = ft.context.page.session.index.get(control._i)
    value = getattr(live, "value", None)
    return value if isinstance(value, str) else None


# A field's events (Flet handler threads) and re-renders (any thread that notifies: live sync, the
# reminder loop, the idle clock) both read and write a draft with what its field reported; the pair
# must change together, or a render in between takes typing for an app change and rebuilds the field.
_PAIR = threading.RLock()


def note_typed(owner: Any, key: str, text: str) -> None:
    """Record ``text`` as what the field ``key`` reported (a change/submit event or a read at a click)."""
    with _PAIR:
        setter = getattr(owner, "set_draft", None)
        if callable(setter):
            setter(key, text)
        else:
            owner.drafts[key] = text
        _memory(owner).typed[key] = text


def render_text(owner: Any, key: str) -> str:
    """The text to build field ``key`` with (see the module docstring); keeps ``owner.drafts`` in step."""
    with _PAIR:
        return _render_text(owner, key)


def _render_text(owner: Any, key: str) -> str:
    mem = _memory(owner)
    drafts: dict[str, str] = owner.drafts
    draft = drafts.get(key)
    previous = mem.fields.get(key)
    if previous is not None and draft == mem.typed.get(key):
        live = mounted_text(previous)
        if live is not None:
            drafts[key] = mem.typed[key] = live
            return live
    if draft is None:
        mem.typed.pop(key, None)
    else:
        mem.typed[key] = draft
    return draft or ""


def app_changes(owner: Any, key: str) -> int:
    """How often the *app* (not the field's own typing) changed draft ``key``: a field re-renders only then.

    A draft the field itself reported (:func:`note_typed`) is not a change; anything else is (cleared
    after sending, a default, a sign-out), and the count grows by one.
    """
    with _PAIR:
        mem = _memory(owner)
        if (owner.drafts.get(key) or "") != mem.typed.get(key, ""):  # render_text brings them level again
            mem.changes[key] = mem.changes.get(key, 0) + 1
        return mem.changes.get(key, 0)


def shown_field_text(owner: Any, key: str) -> str | None:
    """What the field built last for ``key`` holds in the browser now, if it is mounted."""
    control = _memory(owner).fields.get(key)
    return None if control is None else mounted_text(control)


def remember_field(owner: Any, key: str, control: Any) -> None:
    """Remember ``control`` as the field now built for ``key`` (read back by the next render)."""
    _memory(owner).fields[key] = control
