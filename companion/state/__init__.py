"""UI-free application state and intents of the patient app (never imports Flet).

Public facade: :class:`AppState` (what the views render and the intents they
call), :class:`Services` (the seams the composition root fills in),
:class:`SyncClinicLink` (the real clinic link), :class:`LearnLibrary` (the
built-in offline articles) and the display formatting helpers.
"""

from __future__ import annotations

from ..core.units import format_minutes as format_duration
from ..reminders.settings import format_quiet_hours
from .app_state import DESTINATIONS, PHONE_DESTINATIONS, AppState, Destination
from .care import REQUEST_KINDS
from .clinic_link import SyncClinicLink
from .core import Banner, Route
from .learn_library import LearnLibrary, LibraryArticle, assets_dir
from .services import ClinicLink, LiveHandle, Services
from .session import passcode_strength
from .snapshot import MessageThread, Snapshot
from .vault_host import VaultHost

__all__ = [
    "DESTINATIONS",
    "PHONE_DESTINATIONS",
    "REQUEST_KINDS",
    "AppState",
    "Banner",
    "ClinicLink",
    "Destination",
    "LearnLibrary",
    "LibraryArticle",
    "LiveHandle",
    "MessageThread",
    "Route",
    "Services",
    "Snapshot",
    "SyncClinicLink",
    "VaultHost",
    "assets_dir",
    "format_duration",
    "format_quiet_hours",
    "passcode_strength",
]
