"""UI-free application state and intents of the patient app (never imports Flet).

Public facade: :class:`AppState` (the composition root of one session's state: its parts are
the observables the views subscribe to and the intents they call), :class:`Services` (the seams
the composition root fills in), :class:`SyncClinicLink` (the real clinic link),
:class:`LearnLibrary` (the built-in offline articles) and the display formatting helpers.
"""

from __future__ import annotations

from ..core.units import format_minutes as format_duration
from ..reminders.settings import format_quiet_hours
from .app_state import AppState
from .care import REQUEST_KINDS, Bills, Messages, Prep, Results, Visits, kind_text
from .learn_library import LearnLibrary, LibraryArticle, assets_dir
from .navigation import DESTINATIONS, PHONE_DESTINATIONS, Destination, Navigation, Route
from .notices import Banner, Banners, Feedback
from .passcode import SensitiveResults, passcode_strength
from .preferences import Preferences
from .records import Records, SyncState
from .services import ClinicLink, LiveHandle, Services, SyncClinicLink
from .session import Session
from .snapshot import MessageThread, Snapshot
from .vault_host import VaultHost

__all__ = [
    "DESTINATIONS",
    "PHONE_DESTINATIONS",
    "REQUEST_KINDS",
    "kind_text",
    "AppState",
    "Banner",
    "Banners",
    "Bills",
    "ClinicLink",
    "Destination",
    "Feedback",
    "LearnLibrary",
    "LibraryArticle",
    "LiveHandle",
    "MessageThread",
    "Messages",
    "Navigation",
    "Prep",
    "Preferences",
    "Records",
    "Results",
    "Route",
    "SensitiveResults",
    "Services",
    "Session",
    "Snapshot",
    "SyncClinicLink",
    "SyncState",
    "VaultHost",
    "Visits",
    "assets_dir",
    "format_duration",
    "format_quiet_hours",
    "passcode_strength",
]
