"""``DeskState``: the composition root of one browser session's desk — small observables, one per concern.

Each piece holds what one part of the desk shows and the intents that change it, and notifies
on its own, so a screen subscribes only to what it renders (the inbox poll redraws the badge and
the inbox, never the patient page where someone is typing)::

    session      Session         who is signed in, sign-in notes, sign-out; the server-call rule
    feedback     Feedback        busy / error / toast of the open screen
    drafts       Drafts          what is typed in each field (not observable)
    navigation   Navigation      the open screen, and loading what it shows
    inbox        Inbox           items, unread count, filter, the poller (only while signed in)
    today        Today           today's schedule (and what waits, from the inbox)
    search       PatientSearch   patient search, adding a patient
    patient      OpenPatient     the open patient page and its intents
    articles     Articles        writing and publishing articles
    audit        Audit           the audit trail (admins)

This module wires them: how each screen loads, what a sign-in starts (the clinic's profile from
the server — its time zone, hours, place and providers go to ``clock``, which every list shares —
the poller, the first screen) and what a sign-out drops (every patient record held in memory). Build one per browser
session::

    desk = DeskState(DeskApi(base_url))
    desk.drafts.set_draft("signin.name", "Sam"); desk.drafts.set_draft("signin.password", "…")
    desk.session.sign_in()
    desk.navigation.go("inbox"); desk.inbox.items
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from ....core.fields import utcnow
from ..api import DeskApi
from .feedback import Drafts, Feedback
from .inbox import POLL_SECONDS, Inbox
from .navigation import Navigation
from .patient_page import OpenPatient, PatientSearch
from .schedule import ScheduleBoard
from .session import Session
from .timefmt import DeskClock
from .work_lists import Articles, Audit, Today

__all__ = ["DeskState"]


class DeskState:
    def __init__(self, api: DeskApi, *, tz: tzinfo | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.api = api
        self.clock = DeskClock.local(tz, clock)
        self.drafts = Drafts()
        self.feedback = Feedback()
        self.session = Session(api, self.drafts, self.feedback)
        self.navigation = Navigation(self.feedback)
        names: dict[str, str] = {}  # patient id -> name, what Today and the inbox have learnt
        self._names = names
        self.patient = OpenPatient(self.session, self.drafts, self.clock, self.navigation)
        self.inbox = Inbox(self.session, self.drafts, self.clock, names, self.patient)
        self.today = Today(self.session, self.clock, self.inbox, names)
        self.search = PatientSearch(self.session, self.drafts, self.patient)
        self.articles = Articles(self.session, self.drafts)
        self.audit = Audit(self.session)
        self.schedule = ScheduleBoard(self.session, self.drafts, self.clock)

        loads = self.navigation.loads  # what opening each screen loads
        loads("today", lambda _arg: self.today.refresh())
        loads("patients", lambda _arg: self.search.load())
        loads("patient", lambda arg: self.patient.open(arg) if arg else None)
        loads("inbox", lambda _arg: self.inbox.poll(background=False))
        loads("articles", lambda _arg: self.articles.refresh())
        loads("audit", lambda _arg: self.audit.refresh())
        loads("schedule", lambda _arg: self.schedule.refresh())
        self.session.when_signed_in(self._signed_in)
        self.session.when_forgotten(self._forget)

    def _signed_in(self) -> None:
        site = self.session.attempt(self.api.clinic)
        if site is not None:
            self.clock.use_site(site)
        self.inbox.ensure_poller()
        self.navigation.go(self.session.first_screen())

    def _forget(self) -> None:
        self._names.clear()
        for part in (self.inbox, self.today, self.search, self.patient, self.articles, self.audit, self.schedule,
                     self.navigation):
            part.forget()

    # -- the browser session's lifetime ----------------------------------------------------------------
    def poll_when_signed_in(self, every: float = POLL_SECONDS) -> None:
        """Poll the inbox from each sign-in to its sign-out (see :class:`~.inbox.Inbox`)."""
        self.inbox.poll_when_signed_in(every)

    def stop(self) -> None:
        """The tab closed: the poller ends."""
        self.inbox.stop()
