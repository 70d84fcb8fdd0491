"""What a no-op pull can be answered from, in memory: the device behind a token, and where each
patient's feed ends.

A long-polling device whose wait ran out pulls again at once; nearly always nothing has changed.
Without this, each such re-poll authenticates (a token-hash lookup), scans the feed's two index
ranges and finds nothing: ~385 pulls a second for 10,000 waiting devices, the whole of one server
process. With it, the re-poll is answered on the event loop without a database read or a trip to
the thread pool, when both hold:

- the token's device is remembered (:meth:`PullMemo.device`) and nothing has been committed to its
  patient's scope (or the clinic-wide one) since it was read. A revocation marks the patient's scope
  (:func:`.devices.revoke_device`), so it makes the remembered device stale at the revoking commit's
  wake call, before the revoking request is answered: the next pull reads the database and gets its
  401, and the waiting pulls are woken and re-check (:func:`.auth.device_still_valid`). On PostgreSQL
  another process's revocation reaches this one by its ``NOTIFY`` (milliseconds later); a remembered
  device is in any case read again after at most :data:`REMEMBER_FOR`, and whenever its
  ``last_seen_at`` is due (:data:`~.auth.LAST_SEEN_EVERY`, see below), it reports its vault
  generation for the first time or a new language.
- the patient's feed is known to end at the pull's cursor (:meth:`PullMemo.at_head`): a read that
  reached the end of the feed remembers its last ``seq`` with the scopes' versions, and any commit to
  either scope makes it stale.

What is remembered is stamped with :meth:`.wakeups.WakeupHub.scope_versions` read *after* the read,
and only kept when no commit at all woke anyone during the read (:meth:`~.wakeups.WakeupHub.version`
unchanged since before the snapshot began): a commit the snapshot missed then has its wake call
still to come, which moves the versions and so makes the memo stale.

Each device keeps its own share of both limits (:func:`spread_of`, from its token hash): it is read
again somewhere between half of :data:`REMEMBER_FOR` and all of it after it was read, and its
``last_seen_at`` falls due up to :data:`LAST_SEEN_SPREAD` later than ``LAST_SEEN_EVERY`` (it is then
written at that read, as :func:`.auth.device_and_state` writes any that is older). Devices that all
connected at one moment (a server restart, a bench) were otherwise all read again at one moment, 120 s
and 5 minutes on: with 10,000 waiting on PostgreSQL, ~385 database reads a second for the length of a
poll cycle, far more than one process manages, and a woken pull queued behind them for 10-20 s.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .principals import DevicePrincipal

REMEMBER_FOR = 240.0  # seconds, at most: even half is longer than a long poll's cycle (MAX_WAIT)
LAST_SEEN_SPREAD = 0.5  # last_seen_at falls due after LAST_SEEN_EVERY times 1 to 1.5 (per device)
MAX_REMEMBERED = 200_000  # past this many tokens (or patients), forget them all and start again

Versions = tuple[int, int]  # (the patient's scope, the clinic-wide scope)


@dataclass(frozen=True, slots=True)
class KnownDevice:
    principal: DevicePrincipal
    last_seen_at: datetime | None
    language: str | None
    versions: Versions
    read_at: float  # PullMemo.now()


def spread_of(token_hash: str) -> tuple[float, float]:
    """Two fractions in [0, 1) that stay with the device (a checksum of its token hash): its share of
    :data:`REMEMBER_FOR` and of :data:`LAST_SEEN_SPREAD` (see the module docstring)."""
    mix = zlib.crc32(token_hash.encode())
    return (mix >> 16) / 65536, (mix & 0xFFFF) / 65536


class PullMemo:
    """Touched from the event loop (lookups) and worker threads (remembering): single dict stores
    and loads, atomic under the GIL; a stale entry is only ever replaced, never trusted."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock  # what KnownDevice.read_at was read from
        self._devices: dict[str, KnownDevice] = {}
        self._heads: dict[str, tuple[Versions, int]] = {}

    def now(self) -> float:
        """The clock :attr:`KnownDevice.read_at` is read from (``time.monotonic``)."""
        return self._clock()

    def remember_device(self, token_hash: str, known: KnownDevice) -> None:
        if len(self._devices) >= MAX_REMEMBERED:
            self._devices = {}
        self._devices[token_hash] = known

    def forget_device(self, token_hash: str) -> None:
        self._devices.pop(token_hash, None)

    def device(self, token_hash: str, versions_of: Callable[[str], Versions], now: datetime,
               last_seen_every: timedelta, *, generation: int | None, language: str | None) -> DevicePrincipal | None:
        """The remembered device of the token, or None when the database must be read."""
        known = self._devices.get(token_hash)
        if known is None:
            return None
        principal = known.principal
        keep, seen = spread_of(token_hash)
        if (versions_of(principal.patient_id) != known.versions
                or self._clock() - known.read_at > REMEMBER_FOR * (1 + keep) / 2
                or known.last_seen_at is None
                or now - known.last_seen_at > last_seen_every * (1 + LAST_SEEN_SPREAD * seen)
                or (generation is not None and principal.vault_generation is None)
                or (language is not None and language != known.language)):
            return None
        return principal

    def remember_head(self, patient_id: str, versions: Versions, seq: int) -> None:
        """The patient's feed (with the clinic-wide one) ends at ``seq`` as of ``versions``."""
        if len(self._heads) >= MAX_REMEMBERED:
            self._heads = {}
        self._heads[patient_id] = (versions, seq)

    def at_head(self, patient_id: str, versions: Versions, after: int) -> bool:
        """True when a pull after ``after`` is known to find nothing."""
        head = self._heads.get(patient_id)
        return head is not None and head == (versions, after)

    @property
    def remembered(self) -> int:
        return len(self._devices)
