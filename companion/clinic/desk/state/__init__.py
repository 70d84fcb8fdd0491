"""UI-free desk state and intents (no Flet): :class:`~.desk_state.DeskState` composes one observable per concern."""

from __future__ import annotations

from .desk_state import DeskState
from .feedback import Drafts, Feedback
from .inbox import INBOX_KINDS, POLL_SECONDS, REQUEST_KINDS, Inbox
from .navigation import Navigation, Route
from .patient_page import OpenPatient, PatientPage, PatientSearch, plan_changes
from .session import SCREENS, Screen, Session
from .templates import TEMPLATES, PrepTemplate
from .timefmt import DeskClock
from .work_lists import Articles, Audit, Today

__all__ = ["INBOX_KINDS", "POLL_SECONDS", "REQUEST_KINDS", "SCREENS", "TEMPLATES", "Articles", "Audit", "DeskClock",
           "DeskState", "Drafts", "Feedback", "Inbox", "Navigation", "OpenPatient", "PatientPage", "PatientSearch",
           "PrepTemplate", "Route", "Screen", "Session", "Today", "plan_changes"]
