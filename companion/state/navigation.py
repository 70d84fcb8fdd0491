"""Where the patient is: the route, going there and back, the destination it belongs to, the layout.

    nav.go("appointment", "apt_1")
    nav.back()                      # to where the patient came from (else the list the screen belongs to)
    nav.section()                   # "appointments": the navigation item to highlight
    nav.set_width(1280)             # 840 px and more gets the desktop layout

The shell subscribes to this object (and the session): a route change renders the next screen;
nothing else here changes often. Each navigation counts as activity for the auto-lock and clears
the last screen's news.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.layout import is_wide
from ..core.observable import Observable
from ..i18n import N_

if TYPE_CHECKING:
    from .context import IntentContext

__all__ = ["DESTINATIONS", "PHONE_DESTINATIONS", "Destination", "Navigation", "Route"]


@dataclass(frozen=True, slots=True)
class Route:
    """A screen name and, for detail screens, the record id."""

    name: str = "home"
    arg: str | None = None


@dataclass(frozen=True, slots=True)
class Destination:
    route: str
    label: str  # marked for the catalog; the view translates it where it is shown
    icon: str  # a Flet icon name; views look it up (state stays Flet-free)


DESTINATIONS = (
    Destination("home", N_("Home"), "HOME_OUTLINED"),
    Destination("appointments", N_("Visits"), "EVENT_OUTLINED"),
    Destination("prep", N_("Preparation"), "CHECKLIST"),
    Destination("results", N_("Results"), "ASSIGNMENT_OUTLINED"),
    Destination("messages", N_("Messages"), "CHAT_BUBBLE_OUTLINE"),
    Destination("bills", N_("Bills"), "RECEIPT_LONG_OUTLINED"),
    Destination("prevention", N_("Prevention"), "HEALTH_AND_SAFETY_OUTLINED"),  # PrEP and doxy-PEP
    Destination("learn", N_("Learn"), "MENU_BOOK_OUTLINED"),
    Destination("settings", N_("Settings"), "SETTINGS_OUTLINED"),
)
# A phone's NavigationBar holds five; "More" lists the rest.
PHONE_DESTINATIONS = (*DESTINATIONS[:2], DESTINATIONS[3], DESTINATIONS[4], Destination("more", N_("More"), "MENU"))
# detail screen -> the destination it belongs to
SECTION_OF = {
    "appointment": "appointments", "request": "appointments", "book": "appointments", "checkin": "appointments",
    "partner": "results",
    "bill": "bills", "result": "results", "thread": "messages", "compose": "messages", "article": "learn",
}
# detail screen -> the list it returns to
PARENTS = {**SECTION_OF, "prep": "home"}
_TOP = frozenset({d.route for d in DESTINATIONS} | {"more"})


class Navigation(Observable):
    """The route and the layout of this session (see the module docstring)."""

    def __init__(self, ctx: IntentContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.route = Route()
        self.wide = False  # desktop layout (NavigationRail) vs phone (NavigationBar)
        self.page_width = 390.0
        self.trail: list[Route] = []  # where the patient came from, for back (see go)

    def go(self, name: str, arg: str | None = None) -> None:
        """Show screen ``name`` (for ``arg``); the last screen's error and good news go with it.

        A destination of the navigation starts a new trail; a detail screen remembers the screen it
        was opened from, so back from the counsellor thread returns to the result that opened it.
        Going to a screen already on the trail goes back to it (a check-in that ends on its visit
        does not leave the check-in form behind it)."""
        self.ctx.touch()
        target = Route(name, arg)
        if name in _TOP:
            self.trail = []
        elif target in self.trail:
            del self.trail[self.trail.index(target):]
        elif target != self.route:
            self.trail.append(self.route)
        self._show(target)

    def _show(self, target: Route) -> None:
        self.route = target
        feedback = self.ctx.feedback
        if feedback.error or feedback.toast:
            feedback.clear_feedback()
        self.notify()

    def back(self) -> None:
        """To the screen this one was opened from, else the list it belongs to."""
        if self.trail:
            self.ctx.touch()
            self._show(self.trail.pop())
        else:
            self.go(PARENTS.get(self.route.name, "home"))

    def reset(self) -> None:
        """Home again, without counting as activity (an unlock, a lock)."""
        self.route = Route()
        self.trail = []
        self.notify()

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

    def set_width(self, width: float) -> None:
        """The window's width: :data:`~companion.core.layout.WIDE_FROM` px and more gets the desktop layout."""
        wide = is_wide(width)
        changed = wide != self.wide or (wide and abs(width - self.page_width) > 1)
        self.page_width, self.wide = width, wide
        if changed:
            self.notify()
