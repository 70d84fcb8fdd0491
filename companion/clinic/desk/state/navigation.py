"""Which desk screen is open, and loading what it shows: ``Navigation.go("inbox")``.

The composition root (:class:`~.desk_state.DeskState`) tells navigation how each screen loads
(:meth:`Navigation.loads`); opening a screen clears the previous screen's feedback, shows the
screen, then loads it, so the screen is there at once and fills in when the server answers. The
patient page is the exception: it shows only once it loaded (:meth:`Navigation.show` from
:class:`~.patient_page.OpenPatient`), so a failed load leaves the desk where it was.

An empty route name means "the first screen the role has" (after a sign-in, before it loads).
Only the shell's body and the navigation subscribe: a screen change redraws those.

The layout follows the window's width by the apps' one rule (:func:`companion.core.layout.is_wide`):
``set_width(390)`` gives the phone layout (a NavigationBar of at most :data:`BAR_SLOTS` screens,
the rest on the "more" screen, see :func:`phone_bar`; rows stack their actions under the text),
``set_width(1280)`` the desktop one (the NavigationRail). Until the page says, the desk is wide.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ....core.layout import is_wide
from ....core.observable import Observable
from .feedback import Feedback

__all__ = ["BAR_SLOTS", "MORE", "Navigation", "Route", "phone_bar"]

T = TypeVar("T")
BAR_SLOTS = 5  # a phone's NavigationBar holds five destinations
MORE = "more"  # the phone's screen that lists the destinations the bar has no room for


def phone_bar(screens: Sequence[T]) -> tuple[list[T], list[T]]:
    """The screens a phone's bar shows and those behind its "More": all of them if they fit."""
    if len(screens) <= BAR_SLOTS:
        return list(screens), []
    return list(screens[:BAR_SLOTS - 1]), list(screens[BAR_SLOTS - 1:])


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    arg: str | None = None


class Navigation(Observable):
    def __init__(self, feedback: Feedback) -> None:
        super().__init__()
        self.feedback = feedback
        self.route = Route("")
        self.wide = True  # the desktop layout until the page tells its width (see set_width)
        self.page_width = 1280.0
        self._loaders: dict[str, Callable[[str | None], None]] = {}

    def loads(self, name: str, loader: Callable[[str | None], None]) -> None:
        """Register how screen ``name`` loads what it shows (``loader(arg)``; it may block on HTTP)."""
        self._loaders[name] = loader

    def go(self, name: str, arg: str | None = None) -> None:
        """Open a screen and load what it shows."""
        if self.feedback.error or self.feedback.toast:
            self.feedback.clear_feedback()
        loader = self._loaders.get(name)
        if name == "patient":  # shown by the page itself once it loaded
            if arg and loader is not None:
                loader(arg)
            return
        self.show(Route(name, arg))
        if loader is not None:
            loader(arg)

    def show(self, route: Route) -> None:
        """Show ``route`` without loading anything."""
        if route != self.route:
            self.route = route
            self.notify()

    def set_width(self, width: float) -> None:
        """The window's width; notifies when the layout changes (phone <-> desktop), not on every pixel."""
        wide = is_wide(width)
        changed = wide != self.wide
        self.page_width, self.wide = width, wide
        if changed:
            self.notify()

    def forget(self) -> None:
        self.route = Route("")
