"""The application state the Flet views render: :class:`AppState` = session + care + settings intents.

    state = AppState(services)
    state.start()                      # onboarding on a fresh device, else the lock screen
    state.subscribe(rerender)          # called after every change, from any thread
    state.unlock("correct horse battery")
    state.go("appointments")
    state.confirm_appointment("apt_1")

Screens read ``state.phase``, ``state.route``, ``state.snapshot`` (records),
``state.error``/``state.toast``/``state.busy`` (feedback) and call intents;
nothing in here imports Flet, so all of it is tested with plain pytest.
"""

from __future__ import annotations

from dataclasses import dataclass

from .care import CareIntents
from .preferences import SettingsIntents

__all__ = ["AppState", "DESTINATIONS", "Destination", "PHONE_DESTINATIONS"]


@dataclass(frozen=True, slots=True)
class Destination:
    route: str
    label: str
    icon: str  # a Flet icon name; views look it up (state stays Flet-free)


DESTINATIONS = (
    Destination("home", "Home", "HOME_OUTLINED"),
    Destination("appointments", "Visits", "EVENT_OUTLINED"),
    Destination("prep", "Prep", "CHECKLIST"),
    Destination("results", "Results", "ASSIGNMENT_OUTLINED"),
    Destination("messages", "Messages", "CHAT_BUBBLE_OUTLINE"),
    Destination("bills", "Bills", "RECEIPT_LONG_OUTLINED"),
    Destination("learn", "Learn", "MENU_BOOK_OUTLINED"),
    Destination("settings", "Settings", "SETTINGS_OUTLINED"),
)
# A phone's NavigationBar holds five; "More" lists the rest.
PHONE_DESTINATIONS = (*DESTINATIONS[:2], DESTINATIONS[3], DESTINATIONS[4], Destination("more", "More", "MENU"))
SECTION_OF = {
    "appointment": "appointments", "request": "appointments", "checkin": "appointments",
    "bill": "bills", "result": "results", "thread": "messages", "compose": "messages", "article": "learn",
}


class AppState(CareIntents, SettingsIntents):
    """Everything the app shows and every intent the patient can fire (see module docstring)."""

    def section(self) -> str:
        """The navigation destination the current route belongs to."""
        return SECTION_OF.get(self.route.name, self.route.name)

    def nav_index(self, phone: bool) -> int:
        items = PHONE_DESTINATIONS if phone else DESTINATIONS
        section = self.section()
        for i, d in enumerate(items):
            if d.route == section:
                return i
        return len(items) - 1 if phone else 0
