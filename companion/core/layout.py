"""The one width rule both apps lay out by: a phone's layout below :data:`WIDE_FROM`, a desktop's from it.

    is_wide(1280)   # True: a NavigationRail beside the screen
    is_wide(390)    # False: a NavigationBar under it, rows stacked

The patient app (``companion.state.navigation``) and the clinic desk
(``companion.clinic.desk.state.navigation``) both ask this module, so a tablet in portrait gets the
same layout in both. Standard library only: this is part of the core both sides import.
"""

from __future__ import annotations

__all__ = ["WIDE_FROM", "is_wide"]

WIDE_FROM = 840.0  # px of window width; Material's "expanded" window class starts here


def is_wide(width: float) -> bool:
    """Whether a window ``width`` px wide gets the desktop layout."""
    return width >= WIDE_FROM
