"""The composition root of one session's state: builds the small observables and intents, holds them.

    state = AppState(services)            # one per session (a browser tab, the desktop window)
    state.start()                         # onboarding on a fresh device, else the lock screen
    state.session.unlock("correct horse 42")
    state.nav.go("appointments")
    state.visits.confirm("apt_1")

What each part is for, and who subscribes to it:

=============  ===================================================  ===========================
part           what it holds (module)                               who subscribes
=============  ===================================================  ===========================
``session``    phase, unlock/lock, passcode, auto-lock, wipe        the shell, lock, onboarding
               (:mod:`.session`)
``reveal``     sensitive results shown now (:mod:`.passcode`)       the result screen
``nav``        route, go/back, section, layout (:mod:`.navigation`)  the shell
``feedback``   busy / error / toast (:mod:`.notices`)               the feedback strip
``banners``    in-app reminders (:mod:`.notices`)                   the banner slot
``records``    the open vault and its snapshot (:mod:`.records`)    the screens listing records
``sync``       sync status, live state, sync now (:mod:`.records`)  the sync chip, Home, Settings
``prefs``      settings and their intents (:mod:`.preferences`)     Settings; the shell its theme
``visits``     appointments, and ``prep``, ``results``, ``bills``,  (intents only: the records
               ``messages``: each area's intents (:mod:`.care`)     they change notify)
``prevention`` PrEP and doxy-PEP entries, intents (:mod:`.prevention`) the Prevention screen
``drafts``     typed texts by field key (:mod:`.context`)           nobody: the fields keep them
=============  ===================================================  ===========================

Each notifies only for what it holds, so a live sync redraws the chip, a reminder the banner
slot, a new message the screen that lists it. Nothing here imports Flet: all of it is tested
with plain pytest. This object is also the session's :class:`~.vault_host.HostMember`: what the
process's shared background work reports is passed to the part it concerns.
"""

from __future__ import annotations

from datetime import datetime

from ..reminders.notifier import Reword
from .booking import Booking
from .care import Bills, Messages, Prep, Results, Visits
from .context import IntentContext
from .partner import PartnerNotices
from .preferences import Preferences
from .prevention import Prevention
from .services import Services
from .session import Session
from .vault_host import VaultHost

__all__ = ["AppState"]


class AppState:
    """One session's state (see the module docstring)."""

    def __init__(self, services: Services, host: VaultHost | None = None) -> None:
        self.services = services
        # The process's one open vault, shared with the other sessions that proved the passcode.
        self.host = host or VaultHost(services)
        self.ctx = ctx = IntentContext(services, self.host, member=self)
        self.feedback, self.banners, self.sync, self.records, self.nav, self.drafts = (
            ctx.feedback, ctx.banners, ctx.sync, ctx.records, ctx.nav, ctx.drafts)
        self.prefs = Preferences(self.ctx)
        self.session = Session(self.ctx, self.prefs)
        self.reveal = self.session.reveal
        self.visits = Visits(self.ctx)
        self.booking = Booking(self.ctx)
        self.partner = PartnerNotices(self.ctx)
        self.prep = Prep(self.ctx)
        self.results = Results(self.ctx)
        self.bills = Bills(self.ctx)
        self.messages = Messages(self.ctx)
        self.prevention = Prevention(self.ctx)  # PrEP / doxy-PEP: the patient's own entries, never sent

    # --- what the composition root (companion/app.py) drives --------------------------

    def start(self) -> None:
        self.session.start()

    def tick(self) -> None:
        self.session.tick()
        self.prevention.tick()  # countdowns on the Prevention screen follow the minute

    def shutdown(self) -> None:
        self.session.shutdown()

    def now(self) -> datetime:
        return self.services.clock()

    # --- what the shared vault's background work reports (VaultHost's HostMember) ---------

    def vault_synced(self) -> None:
        self.records.refresh()

    def vault_live_state(self, state: str, error: str | None) -> None:
        self.sync.set_live(state, error)
        if state == "revoked":
            self.records.refresh()

    def vault_banner(self, title: str, body: str, about: str = "", *, reword: Reword | None = None) -> None:
        self.banners.add(title, body, about, reword=reword)

    def vault_closed(self, reason: str) -> None:
        self.session.forget()
        self.feedback.toast = reason
        self.feedback.notify()
