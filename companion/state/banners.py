"""In-app notices (the reminder fallback is never silent): the banner slot below every screen.

    banners.add("Appointment tomorrow", "10:30 at Riverside Clinic")
    banners.dismiss(0)

Only the banner slot subscribes, so a reminder that arrives while the patient types redraws the
slot and nothing else. The newest five are kept; a lock forgets them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from ..core.observable import Observable

__all__ = ["Banner", "Banners", "KEPT"]

KEPT = 5


@dataclass(frozen=True, slots=True)
class Banner:
    """A notice shown inside the app (in-app reminders, sync news)."""

    title: str
    body: str


class Banners(Observable):
    """The notices waiting for the patient, oldest first (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.items: tuple[Banner, ...] = ()
        self._guard = threading.Lock()  # reminders arrive on their own thread, dismissals on Flet's

    def add(self, title: str, body: str) -> None:
        with self._guard:
            self.items = (*self.items, Banner(title, body))[-KEPT:]
        self.notify()

    def dismiss(self, index: int) -> None:
        with self._guard:
            if 0 <= index < len(self.items):
                self.items = self.items[:index] + self.items[index + 1:]
        self.notify()

    def clear(self) -> None:
        with self._guard:
            had, self.items = bool(self.items), ()
        if had:
            self.notify()
