"""The clinic's staff API client, one for every clinic-side caller (see :mod:`.client`).

Clinic side only: nothing here imports the patient app (vault, state, views, reminders, sync
engine); the wire constants come from ``companion.core.protocol``, the errors from
``companion.core.errors``.
"""

from __future__ import annotations

from ...core.errors import SignedOut, StaffApiError, TooManyTries
from .client import PAGE, TIMEOUT_SECONDS, StaffClient
from .wire import MAX_RESPONSE_BYTES

__all__ = ["MAX_RESPONSE_BYTES", "PAGE", "TIMEOUT_SECONDS", "SignedOut", "StaffApiError", "StaffClient",
           "TooManyTries"]
