"""One exception tree for the whole product.

The CLI and the UI catch :class:`CompanionError` and show ``str(error)`` as a
single line; anything else is a bug and may show a traceback. Library errors
(``InvalidTag``, ``httpx`` errors, SQLite errors, ``json`` errors) are converted
to these at the boundary where they happen.

    CompanionError
    ├── ConfigError                 flet.toml or a setting has a bad value (names the key)
    ├── RecordError                 a record or payload field is missing/invalid (names the field)
    ├── NotAllowed                  a domain rule refuses the action (a visit's state, a bill's plan,
    │                               a device's mutation naming a record outside its patient)
    ├── VaultError
    │   ├── VaultNotFound           no vault in that folder
    │   ├── VaultExists             init over an existing vault
    │   ├── WeakPasscode            passcode refused by policy (says why)
    │   ├── WrongPasscode           authentication of the key failed
    │   ├── LockedOut               too many failures; ``retry_after`` seconds
    │   ├── VaultCorrupted          tampered/torn file and no good previous generation
    │   └── VaultBusy               another process holds the writer lock
    ├── SyncError
    │   ├── NotPaired               no device token in the vault
    │   ├── InsecureServer          http:// to a non-loopback host, TLS verification failed
    │   ├── ServerUnreachable       connect/read failures after retries
    │   ├── ServerFailed            5xx after retries
    │   ├── ProtocolError           the server's answer is malformed (names the path)
    │   ├── RequestRejected         4xx business error answered by the server
    │   │   ├── Refused             any other 4xx; ``detail`` is the server's own line
    │   │   └── CursorExpired       410: no changes since our cursor; resync from scratch
    │   │       └── OlderVaultCopy  the server saw a newer copy of this vault: it was put back; resync
    │   ├── PairingFailed           pairing code wrong, expired or used up
    │   ├── RateLimited             429; ``retry_after`` seconds
    │   ├── DeviceRevoked           401 revoked: the vault's clinic data was removed
    │   ├── UpgradeRequired         426: this app is too old for the server
    │   ├── SyncInProgress          another sync holds this vault
    │   └── Interrupted             a stop event ended a wait between retries (the live loop stops)
    ├── StaffApiError               the staff API refused (``status``, ``code``; companion.clinic.staff_api)
    │   ├── SignedOut               401: unknown or revoked token, sign-in ended, idled out or expired
    │   └── TooManyTries            429; ``retry_after`` seconds
    ├── NotifyError                 a notification backend failed
    └── ApiError                    the clinic server answers a request with an error: HTTP ``status``,
        │                           ``code``, ``headers`` (companion.clinic.server.errors, which also
        │                           maps RecordError to 422 and NotAllowed to 409)
        └── BodyTooLarge            413: a request body over MAX_REQUEST_BYTES (…server.middleware)

``ApiError`` and ``BodyTooLarge`` are defined on the server side (they carry HTTP statuses, which
the core does not know); every other class is defined here.
"""

from __future__ import annotations

__all__ = [
    "CompanionError",
    "ConfigError",
    "RecordError",
    "NotAllowed",
    "VaultError",
    "VaultNotFound",
    "VaultExists",
    "WeakPasscode",
    "WrongPasscode",
    "LockedOut",
    "VaultCorrupted",
    "VaultBusy",
    "SyncError",
    "NotPaired",
    "InsecureServer",
    "ServerUnreachable",
    "ServerFailed",
    "ProtocolError",
    "RequestRejected",
    "Refused",
    "CursorExpired",
    "OlderVaultCopy",
    "PairingFailed",
    "RateLimited",
    "DeviceRevoked",
    "UpgradeRequired",
    "SyncInProgress",
    "Interrupted",
    "StaffApiError",
    "SignedOut",
    "TooManyTries",
    "NotifyError",
    "exit_status",
]


class CompanionError(Exception):
    """Base of every expected failure; ``str()`` is a one-line, user-facing message."""


def exit_status(error: CompanionError) -> int:
    """What a command line exits with after ``error``: 2 for bad input (:class:`RecordError`), else 1."""
    return 2 if isinstance(error, RecordError) else 1


class ConfigError(CompanionError):
    """A configuration value is invalid; the message names the key."""


class RecordError(CompanionError):
    """A record or payload failed validation; ``field`` is the dotted path of the bad field."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class NotAllowed(CompanionError):
    """A domain rule refuses the action; ``str()`` says which rule.

    The rules of :mod:`companion.core.care_rules` (a visit's state, a bill's plan), and the
    server's "a device acts on its own patient's records only" (``unknown appointment``). The
    server answers it as 409 to staff and as ``rejected`` to a device; the app shows it.
    """


class VaultError(CompanionError):
    """The encrypted local store could not do what was asked."""


class VaultNotFound(VaultError):
    pass


class VaultExists(VaultError):
    pass


class WeakPasscode(VaultError):
    pass


class WrongPasscode(VaultError):
    pass


class LockedOut(VaultError):
    """Too many wrong passcodes; the next attempt is allowed after ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after
        secs = max(1, int(retry_after + 0.999))
        super().__init__(f"too many wrong passcodes; try again in {secs} s")


class VaultCorrupted(VaultError):
    pass


class VaultBusy(VaultError):
    pass


class SyncError(CompanionError):
    """Talking to the clinic server failed; nothing in the vault was lost."""


class NotPaired(SyncError):
    pass


class InsecureServer(SyncError):
    pass


class ServerUnreachable(SyncError):
    pass


class ServerFailed(SyncError):
    pass


class ProtocolError(SyncError):
    pass


class RequestRejected(SyncError):
    """The server refused a request with a 4xx answer; ``status`` and ``code`` say why."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        super().__init__(message)


class Refused(RequestRejected):
    """A 4xx business refusal; ``detail`` is the server's own one-line message."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        self.detail = detail
        super().__init__(status, code, f"the clinic's server refused the request: {detail}")


class CursorExpired(RequestRejected):
    """410 ``cursor_expired``: the server no longer serves changes since our cursor; resync from scratch."""


class OlderVaultCopy(CursorExpired):
    """The server has seen a higher vault generation from this device: the vault is an older copy.

    A :class:`CursorExpired`, so every caller that resyncs on an expired cursor resyncs here too.
    """

    def __init__(self, seen: int, generation: int) -> None:
        self.seen, self.generation = seen, generation
        super().__init__(409, "older_vault_copy",
                         f"this device's data came from an older copy (change {generation}; the clinic saw {seen})")


class PairingFailed(SyncError):
    pass


class RateLimited(SyncError):
    def __init__(self, retry_after: float, message: str = "") -> None:
        self.retry_after = retry_after
        super().__init__(message or f"too many attempts; try again in {int(retry_after)} s")


class DeviceRevoked(SyncError):
    pass


class UpgradeRequired(SyncError):
    pass


class SyncInProgress(SyncError):
    pass


class Interrupted(SyncError):
    """A stop event ended the wait between retries (the live loop is shutting down)."""


class StaffApiError(CompanionError):
    """The clinic server refused a staff request: HTTP ``status`` and the server's ``code``."""

    def __init__(self, status: int, message: str, code: str = "unknown") -> None:
        self.status = status
        self.code = code
        super().__init__(message)


class SignedOut(StaffApiError):
    """401: the token is unknown or revoked, or the sign-in ended; ``code`` says which."""

    def __init__(self, message: str, code: str = "invalid_token") -> None:
        super().__init__(401, message, code)


class TooManyTries(StaffApiError):
    """429: the server backs off; the next try is welcome after ``retry_after`` seconds."""

    def __init__(self, retry_after: int, message: str, code: str = "rate_limited") -> None:
        self.retry_after = retry_after
        super().__init__(429, message, code)


class NotifyError(CompanionError):
    pass
