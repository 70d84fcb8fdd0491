"""What a desk screen holds and says back: the typed drafts, and one line of feedback.

Two small pieces every concern of the desk shares (see :class:`~.desk_state.DeskState`):

- :class:`Drafts` keeps each field's text as ``drafts[key]`` (the owner of
  :func:`companion.ui.kit.field`). It is not observable: a field already shows what was typed. An
  intent that clears or sets a draft (after sending, a default) notifies the observable whose
  screen shows that field, and the field's next render shows the app's text.
- :class:`Feedback` is what runs, what went wrong, what went well (``busy``, ``error``,
  ``toast``), one observable of its own: only the feedback strip subscribes to it, so a toast
  or a spinner redraws that strip and not the screen around it.

    drafts = Drafts(); drafts.set_draft("reply", "See you at 4."); drafts.pop("reply")
    feedback = Feedback(); feedback.say(error="Type a message first.")
"""

from __future__ import annotations

from ....core.observable import Observable

__all__ = ["Drafts", "Feedback"]


class Drafts:
    """Every desk field's text, by key (``"reply"``, ``"book.date"``, ``"plan.<bill id>"``)."""

    def __init__(self) -> None:
        self.drafts: dict[str, str] = {}

    def draft(self, key: str, default: str = "") -> str:
        return self.drafts.get(key, default)

    def set_draft(self, key: str, value: str) -> None:
        self.drafts[key] = value

    def text(self, key: str) -> str:
        """The draft without surrounding blanks (what an intent sends)."""
        return self.drafts.get(key, "").strip()

    def pop(self, *keys: str) -> None:
        for key in keys:
            self.drafts.pop(key, None)

    def keep_only(self, *keys: str) -> None:
        """Drop every draft but ``keys`` (a sign-out keeps the name, never a patient's details)."""
        self.drafts = {k: v for k, v in self.drafts.items() if k in keys}


class Feedback(Observable):
    """The one-line news of the open screen (the kit's ``Feedback`` protocol)."""

    def __init__(self) -> None:
        super().__init__()
        self.busy: str | None = None
        self.error: str | None = None
        self.toast: str | None = None

    def clear_feedback(self) -> None:
        """Dismiss the error and the good news."""
        self.error = self.toast = None
        self.notify()

    def say(self, *, error: str | None = None, toast: str | None = None) -> None:
        """Show one error or one piece of good news in place of what was shown."""
        self.error, self.toast = error, toast
        self.notify()

    def working(self, busy: str | None) -> None:
        """Start a call: nothing to report yet, ``busy`` (if any) says what runs."""
        self.error, self.toast, self.busy = None, None, busy
        if busy:
            self.notify()

    def reset(self) -> None:
        """Nothing to say (a sign-out): quiet, the screen showing it is going away."""
        self.busy = self.error = self.toast = None
