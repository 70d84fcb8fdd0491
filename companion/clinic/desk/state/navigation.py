"""Which desk screen is open, and loading what it shows: ``Navigation.go("inbox")``.

The composition root (:class:`~.desk_state.DeskState`) tells navigation how each screen loads
(:meth:`Navigation.loads`); opening a screen clears the previous screen's feedback, shows the
screen, then loads it, so the screen is there at once and fills in when the server answers. The
patient page is the exception: it shows only once it loaded (:meth:`Navigation.show` from
:class:`~.patient_page.OpenPatient`), so a failed load leaves the desk where it was.

An empty route name means "the first screen the role has" (after a sign-in, before it loads).
Only the shell's body and the navigation rail subscribe: a screen change redraws those.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ....core.observable import Observable
from .feedback import Feedback

__all__ = ["Navigation", "Route"]


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    arg: str | None = None


class Navigation(Observable):
    def __init__(self, feedback: Feedback) -> None:
        super().__init__()
        self.feedback = feedback
        self.route = Route("")
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

    def forget(self) -> None:
        self.route = Route("")
