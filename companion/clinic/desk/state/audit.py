"""The audit trail (admins): who did what, when, from where — newest first, the latest 200."""

from __future__ import annotations

from typing import Any

from ....core.observable import Observable
from .session import Session

__all__ = ["AUDIT_WINDOW", "Audit"]

AUDIT_WINDOW = 200


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
