"""The staff API as the desk speaks it: :class:`~companion.clinic.staff_api.StaffClient` in the desk's voice.

``DeskApi(base_url, transport=None, desk_key=None, client_address=None)`` is the one staff
client (every rule, every method: :mod:`companion.clinic.staff_api`) with the desk's options set and
its failures worded for people at a front desk, as the state shows them:

    StaffApiError (companion.core.errors)     the server refused: "Your role may not do this. …" (403)
    ├── SignedOut                        401: session ended, idled out, expired or revoked
    └── TooManyTries                     429 on sign-in: "Too many wrong passwords. Try again in N seconds."
    ServerUnreachable                    "the clinic server is not answering; check it is running"
"""

from __future__ import annotations

import httpx

from ...core.errors import SignedOut, TooManyTries
from ..staff_api import StaffClient

__all__ = ["DeskApi", "SignedOut", "TooManyTries"]


class DeskApi(StaffClient):
    def __init__(self, base_url: str, transport: httpx.BaseTransport | None = None,
                 desk_key: str | None = None, client_address: str | None = None) -> None:
        super().__init__(base_url, transport=transport, user_agent="companion-desk", desk_key=desk_key,
                         client_address=client_address)

    def refused(self, status: int, code: str, message: str, retry_after: int) -> str:
        if status == 429:
            return f"Too many wrong passwords. Try again in {retry_after} seconds."
        text = message[:1].upper() + message[1:] + ("" if message.endswith((".", "!", "?")) else ".")
        return "Your role may not do this. " + text if status == 403 else text

    def unreachable(self, reason: str) -> str:
        return "the clinic server is not answering; check it is running"
