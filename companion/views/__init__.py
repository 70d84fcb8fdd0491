"""The Flet UI: render :class:`~companion.state.AppState` and dispatch its intents (no tinydb/httpx/plyer).

``App`` is the root component (see :mod:`.shell`); :func:`mount` attaches it to a page.
"""

from __future__ import annotations

from .shell import PAGE_TITLE, App
from .startup import mount

__all__ = ["PAGE_TITLE", "App", "mount"]
