"""The desk's Flet UI: render :class:`~companion.clinic.desk.state.DeskState`, dispatch its intents.

No httpx here: views reach the server only through the state's intents.
"""

from __future__ import annotations

from .shell import PAGE_TITLE, DeskApp, mount

__all__ = ["PAGE_TITLE", "DeskApp", "mount"]
