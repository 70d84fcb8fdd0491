"""The desk's UI-free state: who is signed in, which screen is open, drafts, and one-line feedback.

``DeskCore`` holds what every screen shares and the two rules every intent follows:

- :meth:`attempt` runs a call to the server and turns a refusal into ``error`` (one line, as the
  server or :mod:`..api` phrased it). A 401 means the sign-in ended — signed out elsewhere, idle
  too long, past its lifetime, account revoked — so the desk returns to the sign-in screen and
  says why, keeping nothing of the patient data it held.
- Screens the role cannot use are not offered (:meth:`can`, :data:`SCREENS`), and the server
  answers 403 anyway if a button slips through.

Intents are plain methods; they may block on HTTP, so the views run them off the UI loop.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, TypeVar

from ....core.errors import CompanionError, SignedOut, TooManyTries
from ....core.fields import utcnow
from ....core.observable import Observable
from ..api import DeskApi

__all__ = ["SCREENS", "DeskCore", "Route", "Screen"]

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
    Screen("audit", "Audit", "FACT_CHECK_OUTLINED", "audit.read"),
)


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    arg: str | None = None


class DeskCore(Observable):
    def __init__(self, api: DeskApi, *, tz: tzinfo | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        super().__init__()
        self.api = api
        self.tz: tzinfo = tz or datetime.now().astimezone().tzinfo or utcnow().tzinfo  # type: ignore[assignment]
        self.clock = clock
        self.me: dict[str, Any] | None = None
        self.signin_note: str | None = None
        self.retry_after = 0
        self.route = Route("today")
        self.drafts: dict[str, str] = {}
        self.error: str | None = None
        self.toast: str | None = None
        self.busy: str | None = None
        self._guard = threading.RLock()

    # -- shared ----------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock()

    @property
    def signed_in(self) -> bool:
        return self.me is not None

    def can(self, permission: str) -> bool:
        return bool(self.me) and permission in (self.me or {}).get("permissions", ())

    def screens(self) -> list[Screen]:
        return [s for s in SCREENS if self.can(s.permission)]

    def draft(self, key: str, default: str = "") -> str:
        return self.drafts.get(key, default)

    def set_draft(self, key: str, value: str) -> None:
        self.drafts[key] = value  # no notify: the field already shows what was typed

    def clear_feedback(self) -> None:
        self.error = self.toast = None
        self.notify()

    def attempt(self, fn: Callable[[], T], *, busy: str | None = None, done: str | None = None) -> T | None:
        """Run ``fn`` against the server; errors become one line of feedback (see module docstring)."""
        with self._guard:
            self.error, self.toast, self.busy = None, None, busy
            if busy:
                self.notify()
            try:
                out = fn()
            except SignedOut as exc:
                self._forget(f"{exc}")
                return None
            except CompanionError as exc:
                self.error = str(exc)
                return None
            finally:
                self.busy = None
                self.notify()
            if done:
                self.toast = done
                self.notify()
            return out

    # -- sign-in -----------------------------------------------------------------------------------
    def sign_in(self) -> None:
        name, password = self.draft("signin.name").strip(), self.draft("signin.password")
        self.drafts.pop("signin.password", None)
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
            first = self.screens()
            self.route = Route(first[0].name if first else "today")
            self.after_sign_in()
        self.notify()

    def sign_out(self) -> None:
        with contextlib.suppress(CompanionError):  # the session is gone either way on this desk
            self.api.sign_out()
        self._forget("You signed out.")

    def _forget(self, why: str) -> None:
        """Back to the sign-in screen, holding no patient data."""
        self.api.token = None
        self.me = None
        self.signin_note = why
        self.route = Route("today")
        self.drafts = {k: v for k, v in self.drafts.items() if k == "signin.name"}
        self.error = self.toast = self.busy = None
        self.forget_data()
        self.notify()

    # -- hooks for the screens' mixins ---------------------------------------------------------------
    def after_sign_in(self) -> None:
        """Load the first screen (overridden by :class:`~.desk_state.DeskState`)."""

    def forget_data(self) -> None:
        """Drop every patient record held in memory (overridden)."""

    def open_patient(self, patient_id: str, *, keep_toast: bool = False) -> None:
        """Open the patient page (implemented by :class:`~.patient_page.PatientIntents`)."""
