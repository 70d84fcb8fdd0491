"""``DeskState``: everything one signed-in desk shows, and every intent, in one object.

Made of :class:`~.core.DeskCore` (sign-in, screens, drafts, feedback), :class:`~.patient_page.PatientIntents`
and :class:`~.desk_work.WorkIntents`; this module adds navigation (:meth:`DeskState.go` loads what a
screen shows) and the inbox poller's loop. Build one per browser session::

    state = DeskState(DeskApi(base_url))
    state.set_draft("signin.name", "Sam"); state.set_draft("signin.password", "…"); state.sign_in()
"""

from __future__ import annotations

import threading
from typing import Any

from .core import Route
from .desk_work import WorkIntents
from .patient_page import PatientIntents, PatientPage

__all__ = ["POLL_SECONDS", "DeskState"]

POLL_SECONDS = 2.0


class DeskState(PatientIntents, WorkIntents):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.forget_data()
        self.inbox_filter = "all"
        self._stop = threading.Event()
        self._poll_every: float | None = None  # set by poll_when_signed_in
        self._poller: threading.Thread | None = None
        self._poller_lock = threading.Lock()

    def forget_data(self) -> None:
        self.today: list[dict[str, Any]] = []
        self.search_results: list[dict[str, Any]] = []
        self.patient: PatientPage | None = None
        self.inbox_items: list[dict[str, Any]] = []
        self.inbox_unread = 0
        self.names: dict[str, str] = {}
        self.articles: list[dict[str, Any]] = []
        self.audit_entries: list[dict[str, Any]] = []

    def after_sign_in(self) -> None:
        self._ensure_poller()
        self.go(self.route.name)

    def go(self, name: str, arg: str | None = None) -> None:
        """Open a screen and load what it shows."""
        self.error = self.toast = None
        if name == "patient" and arg:
            self.open_patient(arg)
            return
        self.route = Route(name, arg)
        self.notify()
        if name == "today":
            self.refresh_today()
        elif name == "patients" and not self.search_results:
            self.search()
        elif name == "inbox":
            self.poll_inbox(background=False)
            self.notify()
        elif name == "articles":
            self.refresh_articles()
        elif name == "audit":
            self.refresh_audit()

    # -- the inbox poller ------------------------------------------------------------------------------
    def run_poller(self, every: float = POLL_SECONDS) -> None:
        """Poll the inbox until :meth:`stop` or sign-out; a patient's message shows within ``every`` seconds."""
        while not self._stop.wait(every) and self.signed_in:
            if self.can("inbox"):
                self.poll_inbox(background=True)

    def poll_when_signed_in(self, every: float = POLL_SECONDS) -> None:
        """Poll the inbox from each sign-in to its sign-out: a desk nobody signed in to runs no thread."""
        self._poll_every = every
        if self.signed_in:
            self._ensure_poller()

    def _ensure_poller(self) -> None:
        with self._poller_lock:
            if self._poll_every is None or (self._poller is not None and self._poller.is_alive()):
                return
            self._poller = threading.Thread(target=self.run_poller, args=(self._poll_every,),
                                            name="desk-inbox-poll", daemon=True)
            self._poller.start()

    def stop(self) -> None:
        self._stop.set()
