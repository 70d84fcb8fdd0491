"""A minimal observable: state objects notify subscribers after each change (no Flet here).

Views subscribe once and re-render when notified; background threads (live sync,
reminders, the idle clock) change state too, so listeners must be cheap and
thread-safe — the Flet hook (``companion.ui.kit.use_observable``) only schedules a re-render on the UI loop.

    unsubscribe = state.subscribe(lambda: print("changed", state.version))
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["Listener", "Observable"]

Listener = Callable[[], None]


class Observable:
    """Keeps listeners and a ``version`` that grows by one on every :meth:`notify`."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._listeners_guard = threading.Lock()
        self.version = 0

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener()`` after every change; returns the function that unsubscribes."""
        with self._listeners_guard:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._listeners_guard:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def notify(self) -> None:
        """Tell every listener that something changed (from any thread)."""
        with self._listeners_guard:
            self.version += 1
            listeners = list(self._listeners)
        for listener in listeners:
            listener()
