"""The notifier interface, the in-app fallback and a recording notifier for tests.

A notifier is the only thing the reminder service needs to put text in front
of the patient. Like TinyDB's ``Storage`` it is two methods, and the contract
lives here:

``notify(title, body) -> None``
    Show one notification now. Return only when the backend accepted it;
    raise :class:`~companion.core.errors.NotifyError` when it could not (the caller
    then falls back to the in-app banner). Must not block for more than a
    couple of seconds, must not log or keep the text anywhere else, and must
    show exactly the text given (the discretion rules were applied before).

``status() -> NotifierStatus``
    Cheap, side-effect free, never raises: which backend this is, whether it
    can show notifications right now, and a one-line reason a settings screen
    can show ("no D-Bus session bus", "notify-send not installed" …).

Backends: :class:`~companion.reminders.plyer_notifier.PlyerNotifier` (system
notifications where the platform really has them), :class:`InAppNotifier`
(banners the UI shows; never silent), :class:`RecordingNotifier` (tests).

A banner lives on inside the app after it was shown, and the patient may switch the app's language
meanwhile: :meth:`InAppNotifier.notify` also takes the reminder's ``reword`` (a :data:`Reword`), which
gives the same text again in the language active when it is called; the banner slot draws that. A
system notification, once shown, is the OS's: it keeps the words it was given.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from ..core.errors import NotifyError

__all__ = ["Banner", "InAppNotifier", "Notifier", "NotifierStatus", "RecordingNotifier", "Reword"]

# ``(title, body)`` of a notification again, worded in the language active when called (see the
# module docstring); built by the planner from the same wording, so under the same discretion rules.
Reword = Callable[[], tuple[str, str]]


@dataclass(frozen=True, slots=True)
class NotifierStatus:
    backend: str  # e.g. "plyer/notify-send", "in-app", "recording"
    available: bool
    detail: str  # one line, for the settings screen and ``companion reminders --json``

    def to_json(self) -> dict[str, object]:
        return {"backend": self.backend, "available": self.available, "detail": self.detail}


@runtime_checkable
class Notifier(Protocol):
    """Shows notifications; see the module docstring for the contract."""

    def notify(self, title: str, body: str, about: str = "") -> None:
        """Show ``title`` and ``body``. ``about`` is the kind of record it is about (``appointment``,
        ``prep``, ``bill``, ``message``, ``result``): never shown, it tells an in-app banner where a tap goes."""

    def status(self) -> NotifierStatus: ...


@dataclass(frozen=True, slots=True)
class Banner:
    title: str
    body: str
    shown_at: datetime
    about: str = ""  # the kind of record (see Notifier.notify)
    reword: Reword | None = field(default=None, compare=False, repr=False)  # the words in today's language


class InAppNotifier:
    """The fallback: keeps banners for the UI to show inside the app.

    Never silent: every notification is queued (the newest ``limit`` are kept)
    and handed to subscribers at once, so the UI can show a banner as soon as
    it is on screen and the rest when the app is next opened. Thread-safe
    (the reminder loop runs in a background thread).
    """

    def __init__(self, reason: str = "system notifications are not available here", *, limit: int = 50) -> None:
        self.reason = reason
        self._banners: deque[Banner] = deque(maxlen=limit)
        self._listeners: list[Callable[[Banner], None]] = []
        self._lock = threading.Lock()

    def notify(self, title: str, body: str, about: str = "", *, reword: Reword | None = None) -> None:
        """Queue a banner and hand it to the subscribers; with ``reword`` (its words again in the
        language of the moment) for them only: it holds the reminder's record, and the queue outlives
        a lock (the app's banners, which a lock clears, keep it)."""
        banner = Banner(title, body, datetime.now(UTC), about)
        with self._lock:
            self._banners.append(banner)
            listeners = list(self._listeners)
        handed = replace(banner, reword=reword)
        for listener in listeners:
            listener(handed)

    def status(self) -> NotifierStatus:
        return NotifierStatus("in-app", True, f"reminders show as banners in the app: {self.reason}")

    def subscribe(self, listener: Callable[[Banner], None]) -> Callable[[], None]:
        """Call ``listener`` with each new banner; returns a function that unsubscribes."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def pending(self) -> list[Banner]:
        with self._lock:
            return list(self._banners)

    def take(self) -> list[Banner]:
        """The queued banners, oldest first, and empty the queue (the UI showed them)."""
        with self._lock:
            banners = list(self._banners)
            self._banners.clear()
            return banners


class RecordingNotifier:
    """Remembers what it was asked to show; ``fail=True`` makes every notify raise :class:`NotifyError`."""

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.shown: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def notify(self, title: str, body: str, about: str = "") -> None:
        if self.fail:
            raise NotifyError("recording notifier set to fail")
        with self._lock:
            self.shown.append((title, body))

    def status(self) -> NotifierStatus:
        return NotifierStatus("recording", not self.fail, "test notifier" + (" (failing)" if self.fail else ""))
