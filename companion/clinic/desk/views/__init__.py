"""The desk's Flet UI: one component per screen, each subscribed to the observables it renders.

The observables are the pieces of :class:`~companion.clinic.desk.state.DeskState` (see :mod:`.shell`).

No httpx here: views reach the server only through the state's intents.
"""

from __future__ import annotations

from .shell import PAGE_TITLE, DeskApp, mount

__all__ = ["PAGE_TITLE", "DeskApp", "mount"]
