"""The sync package's view of the vault: records by ``(kind, id)``, base copies, sync meta keys.

Everything the sync client keeps in the vault besides records lives under meta
keys it owns:

    sync.server_url, sync.ca_pem, sync.token, sync.device_id, sync.patient_id,
    sync.clinic_name, sync.cursor     pairing and pull position
    sync.resync                       true while a full resync (after 410) runs
    sync.pushes                       how many push answers acknowledged something (a page
                                      fetched before the count moved predates our own push)
    sync.base.<kind>.<id>             the server's version of a record that pending
                                      commands changed optimistically (to undo a rejection)
    status.last_sync, status.state, status.last_error, status.last_attempt   see status.py

``vault.clear_clinic_data()`` removes every ``sync.*`` key (token and cursor
included) with the clinic's records; ``status.*`` survives so the app can say
why (e.g. "revoked").

These helpers do not open batches: callers group them inside ``vault.batch()``
so one logical operation is one atomic vault write.
"""

from __future__ import annotations

from typing import Any

from ..core.errors import NotPaired
from ..core.models import Profile, Record, parse_record
from ..vault import Repo, Vault
from .conflicts import RecordKey

__all__ = [
    "CURSOR",
    "PUSHES",
    "RESYNC",
    "TOKEN",
    "base_key",
    "credentials",
    "delete_record",
    "get_base",
    "get_record",
    "put_record",
    "set_base",
]

SERVER_URL = "sync.server_url"
CA_PEM = "sync.ca_pem"
TOKEN = "sync.token"
DEVICE_ID = "sync.device_id"
PATIENT_ID = "sync.patient_id"
CLINIC_NAME = "sync.clinic_name"
CURSOR = "sync.cursor"
RESYNC = "sync.resync"
PUSHES = "sync.pushes"
RESTORED_COPY = "sync.restored_copy"  # {"at": ISO, "generation": N, "seen": M}: the last rollback noticed
BASE_PREFIX = "sync.base."


def pushes(vault: Vault) -> int:
    """The count of push answers that acknowledged an entry (see ``sync.pushes``)."""
    count = vault.meta.get(PUSHES)
    return count if isinstance(count, int) else 0


def get_record(vault: Vault, key: RecordKey) -> Record | None:
    kind, rid = key
    if kind == "profile":
        profile: Record | None = vault.profile.get()
        return profile
    found: Record | None = vault.repo(kind).get(rid)
    return found


def put_record(vault: Vault, record: Record) -> None:
    if isinstance(record, Profile):
        vault.profile.set(record)
    else:
        vault.repo(record.record_kind).upsert(record)


def repo_of(vault: Vault, kind: str) -> Repo[Any]:
    """The repo of a non-singleton kind (the profile goes through ``vault.profile``)."""
    repo = vault.repo(kind)
    if not isinstance(repo, Repo):
        raise TypeError(f"{kind} is a singleton")
    return repo


def delete_record(vault: Vault, key: RecordKey) -> None:
    kind, rid = key
    if kind == "profile":
        vault.profile.clear()
    else:
        vault.repo(kind).delete(rid)
    vault.meta.delete(base_key(key))


def base_key(key: RecordKey) -> str:
    return f"{BASE_PREFIX}{key[0]}.{key[1]}"


def get_base(vault: Vault, key: RecordKey) -> Record | None:
    """The server's last known version of a record with pending optimistic changes (None if unknown)."""
    raw: Any = vault.meta.get(base_key(key))
    if raw is None:
        return None
    return parse_record(key[0], raw)


def set_base(vault: Vault, key: RecordKey, record: Record | None) -> None:
    if record is None:
        vault.meta.delete(base_key(key))
    else:
        vault.meta.set(base_key(key), record.to_dict())


def credentials(vault: Vault) -> tuple[str, str]:
    """``(server_url, token)`` of a paired vault, else NotPaired."""
    url, token = vault.meta.get(SERVER_URL), vault.meta.get(TOKEN)
    if not isinstance(url, str) or not isinstance(token, str):
        raise NotPaired("this device is not paired with a clinic: run `companion pair URL CODE` first")
    return url, token
