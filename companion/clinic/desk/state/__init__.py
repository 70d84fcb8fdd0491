"""UI-free desk state and intents (no Flet): see :class:`~.desk_state.DeskState`."""

from __future__ import annotations

from .core import SCREENS, Route, Screen
from .desk_state import POLL_SECONDS, DeskState
from .desk_work import INBOX_KINDS, REQUEST_KINDS
from .patient_page import PatientPage
from .templates import TEMPLATES, PrepTemplate

__all__ = ["INBOX_KINDS", "POLL_SECONDS", "REQUEST_KINDS", "SCREENS", "TEMPLATES", "DeskState", "PatientPage",
           "PrepTemplate", "Route", "Screen"]
