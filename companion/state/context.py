"""What every area's intents work with: one :class:`IntentContext` per session, built by :class:`~.app_state.AppState`.

    ctx.records.require_vault()       # the open vault, or "the app is locked: unlock it first"
    ctx.queue("prep.done", {...}, "Saved.")
    ctx.touch()                       # the patient did something: the auto-lock starts again

:class:`Drafts` keeps what the patient is typing, by field key: a field
(:func:`companion.ui.kit.field`) keeps its text in ``drafts.drafts[key]`` and reports each edit
through :meth:`Drafts.set_draft`, which counts as activity for the auto-lock. Intents take the
text they need and clear the drafts they used (a sent message); a lock clears them all. Nothing
renders because a draft changed: the field already shows it.

The intents of each area (:mod:`.session`, :mod:`.care`, :mod:`.preferences`, :mod:`.records`)
hold this context rather than each other: they share the services, the process's vault host,
the records, the drafts and the feedback strip, and announce their own changes on their own
observable.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from ..i18n import N_, _
from ..sync.outbox import queue_mutation
from .navigation import Navigation
from .notices import Banners, Feedback
from .records import Records, SyncState
from .services import Services
from .vault_host import HostMember, VaultHost

__all__ = ["OFFLINE_NOTE", "Drafts", "IntentContext"]

OFFLINE_NOTE = N_("Saved on this device. It goes to the clinic when you are back online.")


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


class IntentContext:
    """The shared parts of one session's state (see the module docstring); builds them.

    ``member`` is who holds the vault for this session (its :class:`~.app_state.AppState`, told
    what the shared background work reports).
    """

    def __init__(self, services: Services, host: VaultHost, member: HostMember) -> None:
        self.services = services
        self.host = host
        self.member = member
        self.last_activity = time.monotonic()
        self.feedback = Feedback()
        self.banners = Banners()
        self.sync = SyncState(self)
        self.records = Records(services.clock, self.sync)
        self.nav = Navigation(self)
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
        self.feedback.toast = done if self.sync.online else _(OFFLINE_NOTE)
        self.host.nudge()
        return entry.id
