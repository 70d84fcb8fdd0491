"""The sync client's public facade: what the app state and the CLI call.

    from companion.sync.client import (pair, client_for_vault, synchronize, queue_mutation,
                                       LiveSync, LiveHooks, read_status)

    pair(vault, "https://clinic.example", code, device_name="Pixel 8", ca_file="ca.pem")
    queue_mutation(vault, "message.send", {"body": "Hello", "thread": "general"})   # offline-safe
    with client_for_vault(vault) as client:
        report = synchronize(vault, client)          # push, pull, status; raises SyncError subclasses
        live = LiveSync(vault, client, hooks=hooks)  # long-poll loop in a thread
        live.start(); live.nudge(); live.stop()

``companion.sync`` itself stays import-light (the server imports
``companion.core.protocol``); import the client API from here.
"""

from __future__ import annotations

from .engine import SyncReport, sync_lock, synchronize
from .live import LiveHooks, LiveSync
from .outbox import discard_rejected, pending_entries, queue_mutation, rejected_entries
from .pairing import client_for_vault, default_device_name, pair
from .retry import RetryPolicy
from .status import SyncStatus, read_status
from .transport import build_client, check_server_url

__all__ = [
    "LiveHooks",
    "LiveSync",
    "RetryPolicy",
    "SyncReport",
    "SyncStatus",
    "build_client",
    "check_server_url",
    "client_for_vault",
    "default_device_name",
    "discard_rejected",
    "pair",
    "pending_entries",
    "queue_mutation",
    "read_status",
    "rejected_entries",
    "sync_lock",
    "synchronize",
]
