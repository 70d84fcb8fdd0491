"""The Flet UI: components that render the parts of :class:`~companion.state.AppState` and dispatch its intents.

``App`` is the root component (see :mod:`.shell`); :func:`mount` attaches it to a page.
"""

from __future__ import annotations

from .shell import PAGE_TITLE, App, mount

__all__ = ["PAGE_TITLE", "App", "mount"]
