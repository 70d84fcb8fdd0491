"""Who is signed in at this desk, what their role may open, and the rule every server call follows.

``Session(api, drafts, feedback)`` holds the signed-in staff member (``me``), the sign-in
screen's note (a wrong password, the back-off, why a previous sign-in ended) with its tone
(``signin_tone``: ``"bad"``, or ``"info"`` after the person's own sign-out) and the screens the
role may use (:data:`SCREENS`; the server answers 403 anyway if a button slips through).

:meth:`Session.attempt` is how every intent calls the server: a refusal becomes one line of
:class:`~.feedback.Feedback`, worded by the server or :mod:`..api`. A 401 means the sign-in ended —
signed out elsewhere, idle too long, past its lifetime, account revoked — so :meth:`Session.forget`
returns the desk to the sign-in screen and says why, keeping nothing of the patient data it held:
each concern that holds some registers what to drop with :meth:`Session.when_forgotten`.

    session = Session(DeskApi(base_url), Drafts(), Feedback())
    session.drafts.set_draft("signin.name", "Sam"); session.drafts.set_draft("signin.password", "…")
    session.sign_in()
    rows = session.attempt(session.api.articles)   # None if refused; feedback says why

Intents are plain methods; they may block on HTTP, so the views run them off the UI loop.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ....core.errors import CompanionError, SignedOut, TooManyTries
from ....core.observable import Observable
from ..api import DeskApi
from .feedback import Drafts, Feedback

__all__ = ["SCREENS", "Screen", "Session"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Screen:
    name: str
    label: str
    icon: str
    permission: str   # the server permission the screen needs (principals.PERMISSIONS)


SCREENS: tuple[Screen, ...] = (
    Screen("today", "Today", "TODAY", "patients.read"),
    Screen("patients", "Patients", "PEOPLE_ALT_OUTLINED", "patients.read"),
    Screen("inbox", "Inbox", "INBOX", "inbox"),
    Screen("articles", "Articles", "ARTICLE_OUTLINED", "articles.write"),
    Screen("schedule", "Schedule", "EVENT_NOTE_OUTLINED", "patients.write"),
    Screen("audit", "Audit", "FACT_CHECK_OUTLINED", "audit.read"),
)


class Session(Observable):
    """Sign-in, sign-out and the server-call rule; notifies when someone signs in or out (or the note changes)."""

    def __init__(self, api: DeskApi, drafts: Drafts, feedback: Feedback) -> None:
        super().__init__()
        self.api = api
        self.drafts = drafts
        self.feedback = feedback
        self.me: dict[str, Any] | None = None
        self.signin_note: str | None = None
        self.signin_tone = "bad"  # the note's tone (common.note): only the person's own sign-out is "info"
        self._signins = 0  # counts sign-ins and their ends: which one a call that comes back was made in
        self.retry_after = 0
        self._guard = threading.RLock()  # one intent at a time talks to the server for this desk
        self._signed_in_hooks: list[Callable[[], None]] = []
        self._forget_hooks: list[Callable[[], None]] = []

    # -- what the role may do ----------------------------------------------------------------------
    @property
    def signed_in(self) -> bool:
        return self.me is not None

    def can(self, permission: str) -> bool:
        return bool(self.me) and permission in (self.me or {}).get("permissions", ())

    def screens(self) -> list[Screen]:
        return [s for s in SCREENS if self.can(s.permission)]

    def first_screen(self) -> str:
        first = self.screens()
        return first[0].name if first else "today"

    # -- hooks for the composition root --------------------------------------------------------------
    def when_signed_in(self, hook: Callable[[], None]) -> None:
        """Call ``hook()`` after each sign-in, once the desk shows (it may block: it loads the first screen)."""
        self._signed_in_hooks.append(hook)

    def when_forgotten(self, hook: Callable[[], None]) -> None:
        """Call ``hook()`` when the sign-in ends: drop every patient record held in memory, quietly."""
        self._forget_hooks.append(hook)

    # -- the server-call rule ------------------------------------------------------------------------
    def attempt(self, fn: Callable[[], T], *, busy: str | None = None, done: str | None = None) -> T | None:
        """Run ``fn`` against the server; errors become one line of feedback (see module docstring)."""
        feedback = self.feedback
        with self._guard:
            feedback.working(busy)
            signin = self._signins
            try:
                out = fn()
            except SignedOut as exc:
                self._ended(signin, exc)
                return None
            except CompanionError as exc:
                feedback.error = str(exc)
                return None
            finally:
                feedback.busy = None
                feedback.notify()  # the strip: the spinner goes, an error shows or an old one goes
            if done:
                feedback.say(toast=done)
            return out

    def quietly(self, fn: Callable[[], T]) -> T | None:
        """A background call (the inbox poll): no spinner, no error flash for a passing network blip."""
        signin = self._signins
        try:
            return fn()
        except SignedOut as exc:
            self._ended(signin, exc)
        except CompanionError:
            pass
        return None

    def _ended(self, signin: int, exc: SignedOut) -> None:
        """A call made during sign-in number ``signin`` got 401: that sign-in ended. Unless it is already
        over here (the person signed out, or in again, while the call was out): a poll answered late
        never turns "You signed out." into an error, nor signs out the sign-in that followed."""
        if signin == self._signins:
            self.forget(str(exc))

    # -- sign-in -------------------------------------------------------------------------------------
    def sign_in(self) -> None:
        name, password = self.drafts.text("signin.name"), self.drafts.draft("signin.password")
        self.drafts.pop("signin.password")
        self.signin_tone = "bad"
        if not name or not password:
            self.signin_note = "Type your name and password."
            self.notify()
            return
        try:
            answer = self.api.sign_in(name, password)
        except TooManyTries as exc:
            self.retry_after, self.signin_note = exc.retry_after, str(exc)
        except CompanionError as exc:
            self.signin_note = str(exc)
        else:
            self.me, self.signin_note, self.retry_after = dict(answer["staff"]), None, 0
            self._signins += 1
        if self.signed_in:  # the clinic's profile and the first screen before the desk shows:
            for hook in self._signed_in_hooks:  # a screen opened at once is never replaced by the first one
                hook()
        self.notify()

    def sign_out(self) -> None:
        with contextlib.suppress(CompanionError):  # the session is gone either way on this desk
            self.api.sign_out()
        self.forget("You signed out.", tone="info")  # what they asked for: news, not an error

    def forget(self, why: str, *, tone: str = "bad") -> None:
        """Back to the sign-in screen, holding no patient data (and no draft but the name).

        ``why`` is the sign-in screen's note; ``tone`` its colour (an ended session is ``"bad"``)."""
        self.api.token = None
        self.me = None
        self._signins += 1  # a call still out from the sign-in that ends here is about nothing any more
        self.signin_note, self.signin_tone = why, tone
        self.drafts.keep_only("signin.name")
        self.feedback.reset()
        for hook in self._forget_hooks:
            hook()
        self.notify()
