"""What every area's intents work with: one :class:`IntentContext` per session, built by :class:`~.app_state.AppState`.

    ctx.records.require_vault()       # the open vault, or "the app is locked: unlock it first"
    ctx.queue("prep.done", {...}, "Saved.")
    ctx.touch()                       # the patient did something: the auto-lock starts again

The intents of each area (:mod:`.session`, :mod:`.care`, :mod:`.preferences`, :mod:`.sync_state`)
hold this context rather than each other: they share the services, the process's vault host,
the records, the drafts and the feedback strip, and announce their own changes on their own
observable.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from ..sync.outbox import queue_mutation
from .banners import Banners
from .drafts import Drafts
from .feedback import Feedback
from .navigation import Navigation
from .records import Records
from .services import Services
from .sync_state import SyncState
from .vault_host import HostMember, VaultHost

__all__ = ["IntentContext", "OFFLINE_NOTE"]

OFFLINE_NOTE = "Saved on this device. It goes to the clinic when you are back online."


@dataclass(eq=False)
class IntentContext:
    """The shared parts of one session's state (see the module docstring)."""

    services: Services
    host: VaultHost
    feedback: Feedback
    records: Records
    sync: SyncState
    nav: Navigation
    banners: Banners
    drafts: Drafts = field(init=False)
    member: HostMember = field(init=False)  # who holds the vault for this session (set by AppState)
    last_activity: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.drafts = Drafts(self.touch)

    def touch(self) -> None:
        """The patient did something: the auto-lock countdown starts again."""
        self.last_activity = time.monotonic()

    def now(self) -> datetime:
        return self.services.clock()

    def queue(self, mutation_type: str, payload: dict[str, object], done: str) -> str:
        """Queue a command for the clinic (works offline), show ``done``, and push at once if online.

        The one way an intent changes a record: the outbox entry and the record's local effect
        are written together (:func:`~companion.sync.outbox.queue_mutation`), the records are read
        again, and the live loop is nudged.
        """
        entry = queue_mutation(self.records.require_vault(), mutation_type, payload, now=self.now())
        self.records.refresh()
        self.feedback.toast = done if self.sync.online else OFFLINE_NOTE
        self.host.nudge()
        return entry.id
