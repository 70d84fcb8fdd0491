"""What the patient is typing, by field key: the text a field keeps across renders (not observable).

A field (:func:`companion.ui.kit.field`) keeps its text in ``drafts.drafts[key]`` and reports each
edit through :meth:`Drafts.set_draft`, which counts as activity for the auto-lock. Intents take
the text they need, clear the drafts they used (a sent message), and a lock clears them all.
Nothing renders because a draft changed: the field already shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["Drafts"]


class Drafts:
    """Typed texts by field key (see the module docstring)."""

    def __init__(self, touch: Callable[[], None]) -> None:
        self._touch = touch
        self.drafts: dict[str, str] = {}

    def draft(self, key: str, default: str = "") -> str:
        return self.drafts.get(key, default)

    def set_draft(self, key: str, text: str) -> None:
        """Remember what is typed (no re-render: the field already shows it)."""
        self._touch()
        self.drafts[key] = text

    def pop(self, *keys: str) -> None:
        for key in keys:
            self.drafts.pop(key, None)

    def clear(self) -> None:
        self.drafts.clear()

    @contextmanager
    def taken(self, key: str) -> Iterator[None]:
        """Clear draft ``key`` for what the block sends; put it back if the block fails.

        Cleared *before* the block runs, so the records' notify that the block causes renders
        the field empty at once, rather than racing the clearing.
        """
        typed = self.drafts.pop(key, None)
        try:
            yield
        except BaseException:
            if typed is not None:
                self.drafts.setdefault(key, typed)
            raise
