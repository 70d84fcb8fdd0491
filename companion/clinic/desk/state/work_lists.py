"""Today, articles and the audit trail: the desk's lists that load when their screen opens.

- :class:`Today` — one day's appointments by the clinic's local time (local midnight to the next,
  DST days included): today unless :meth:`Today.show_day` picked another (tomorrow, any date);
  :meth:`Today.title` names it ("Tomorrow, Wednesday 2 December").
  :meth:`Today.refresh` also polls the inbox in the foreground, because the Today
  screen shows who checked in from their phone and the requests still waiting (new appointment,
  cancellation, payment plan); that screen subscribes to both, so a poll that brings a request
  redraws Today too.
- :class:`Articles` — write Markdown, preview it, publish it to every patient's app. The editor's
  drafts are ``article.title`` and ``article.body`` (``article.preview`` is ``"yes"`` while the
  preview shows); publishing clears them and reloads the list.
- :class:`Audit` — who did what, when, from where (admins): newest first, the latest 200.

Each is an observable of its own, told only when its list changed.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from ....core.observable import Observable
from .feedback import Drafts
from .inbox import Inbox
from .patient_page import PAST_MARKS
from .session import Session
from .timefmt import DeskClock, day_bounds, patient_label

__all__ = ["AUDIT_WINDOW", "Articles", "Audit", "Today"]

AUDIT_WINDOW = 200


class Today(Observable):
    def __init__(self, session: Session, clock: DeskClock, inbox: Inbox, names: dict[str, str]) -> None:
        super().__init__()
        self.session, self.clock, self.inbox, self.names = session, clock, inbox, names
        self.appointments: list[dict[str, Any]] = []
        self.picked: date | None = None  # None: whatever day it is today

    def forget(self) -> None:
        self.appointments, self.picked = [], None

    @property
    def day(self) -> date:
        return self.picked or self.clock.today()

    def show_day(self, day: date | None) -> None:
        """Show ``day``'s appointments (``None``: today's, and it stays today past midnight)."""
        self.picked = None if day is None or day == self.clock.today() else day
        self.refresh()

    def show_tomorrow(self) -> None:
        self.show_day(self.clock.today() + timedelta(days=1))

    def title(self) -> str:
        """``Today, Tuesday 1 December``, ``Tomorrow, …``, ``Yesterday, …`` or ``Friday 4 December 2026``."""
        day, today = self.day, self.clock.today()
        named = {today: "Today", today + timedelta(days=1): "Tomorrow", today - timedelta(days=1): "Yesterday"}
        text = f"{day:%A} {day.day} {day:%B}" + ("" if day.year == today.year else f" {day.year}")
        return f"{named[day]}, {text}" if day in named else text

    def refresh(self) -> None:
        start, end = day_bounds(self.day, self.clock.tz)
        rows = self.session.attempt(lambda: self.session.api.schedule(start, end))
        if rows is None:
            return
        self.appointments = rows
        for row in rows:
            self.names[row["patient_id"]] = patient_label(row["patient_name"], row.get("patient_dob"))
            if row.get("patient_language"):
                self.inbox.languages[row["patient_id"]] = row["patient_language"]
        self.notify()
        if self.session.can("inbox"):
            self.inbox.poll(background=False)

    def mark_visit(self, appointment_id: str, status: str) -> None:
        """From the day's list: a visit that has begun was attended (``completed``) or missed (``no_show``)."""
        word = PAST_MARKS[status][1].lower() if status in PAST_MARKS else status
        done = f"Marked {word}. The patient's app shows it at the next sync."
        if self.session.attempt(lambda: self.session.api.update_appointment(appointment_id, status=status)):
            self.refresh()
            self.session.feedback.say(toast=done)

    def remote_checkins(self) -> list[dict[str, Any]]:
        """The day's appointments the patient checked in to from the app (not yet seen by the desk)."""
        ids = self.inbox.checked_in_ids()
        return [a for a in self.appointments if a["id"] in ids]


class Articles(Observable):
    def __init__(self, session: Session, drafts: Drafts) -> None:
        super().__init__()
        self.session, self.drafts = session, drafts
        self.items: list[dict[str, Any]] = []

    def forget(self) -> None:
        self.items = []

    def published(self) -> list[dict[str, Any]]:
        return [a for a in self.items if not a.get("retracted_at")]

    def refresh(self) -> None:
        rows = self.session.attempt(self.session.api.articles)
        if rows is not None:
            self.items = rows
            self.notify()

    def publish(self) -> None:
        title, body = self.drafts.text("article.title"), self.drafts.text("article.body")
        if not title or not body:
            self.session.feedback.say(error="Write a title and some text first.")
            return
        # the Spanish version is optional, but whole: a title without its text (or the reverse) is refused
        title_es, body_es = self.drafts.text("article.title.es"), self.drafts.text("article.body.es")
        if bool(title_es) != bool(body_es):
            self.session.feedback.say(error="Give the Spanish version both a title and its text, or leave both empty.")
            return
        translations = {"es": {"title": title_es, "body": body_es}} if title_es else {}
        done = "Article published to patients' apps." + (" Patients whose app speaks Spanish read it in Spanish."
                                                         if translations else "")
        if self.session.attempt(lambda: self.session.api.add_article(title, body, translations=translations),
                                done=done):
            self.drafts.pop("article.title", "article.body", "article.title.es", "article.body.es")
            self.refresh()
            self.session.feedback.say(toast=done)


class Audit(Observable):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.entries: list[dict[str, Any]] = []

    def forget(self) -> None:
        self.entries = []

    def refresh(self) -> None:
        rows = self.session.attempt(lambda: self.session.api.audit(limit=AUDIT_WINDOW))
        if rows is not None:
            self.entries = rows
            self.notify()
