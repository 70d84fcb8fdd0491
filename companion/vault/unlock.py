"""Deciding which state of the vault to trust when unlocking, and why a failure is what it is.

A state is a base file with the journal frames that continue it. The current
pair (``vault.pcv`` + ``vault.pcj``) is tried first; when its base is unusable,
the previous base ``vault.pcv.bak`` with ``vault.pcj.bak`` and then ``vault.pcj``
(the frames written since the current base was made continue the previous
journal's chain, so nothing committed is lost even then).

Each base attempt ends in one of five outcomes:

    missing        the file does not exist
    damaged        the header is not a well-formed vault header (truncated, bad
                   magic/version/KDF id, KDF parameters out of bounds)
    key_rejected   the DEK did not unwrap: wrong passcode, or a changed salt,
                   KDF parameter, wrap nonce or wrapped key
    data_rejected  the DEK unwrapped (so the passcode is right) but the document
                   failed authentication: tampered or torn
    good           the document decrypted and parsed

The current base wins when it is good. Otherwise a good ``.bak`` is used and the
vault reports ``recovered``: this covers a damaged base *and* a tampered
wrapped-key region, which on its own would be indistinguishable from a wrong
passcode; it also covers a crash in the middle of a passcode change, where each
base is wrapped for a different passcode. Only when no base is good:

- some file accepted the key but not the data -> :class:`VaultCorrupted`
  (the passcode is proven right, so it must not count as a failed attempt);
- otherwise some file rejected the key -> :class:`WrongPasscode`;
- otherwise -> :class:`VaultCorrupted` naming what is wrong with the main file.

Journal replay (see :mod:`.journal`): a torn last frame is dropped silently (it
was never acknowledged); damage stops the replay at the last frame that
authenticates, and the vault opens at that state with ``recovered`` and the
reason in ``problem``; the storage then writes a new base before anything else.
A format-1 base (before the journal existed) is opened as it is and marked
``legacy`` so that the vault migrates it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import Enum
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..core.errors import VaultCorrupted, VaultNotFound, WrongPasscode
from .fileformat import CHAIN_BYTES, KeySlot, SealedBase, decode_document, parse_file
from .files import BAK, JOURNAL, JOURNAL_BAK, MAIN, VaultFolder
from .journal import replay, scan
from .keys import KeyProvider, ScryptParams, derive_checked

__all__ = ["Outcome", "Unlocked", "unlock"]


class Outcome(Enum):
    MISSING = "missing"
    DAMAGED = "damaged"
    KEY_REJECTED = "key_rejected"
    DATA_REJECTED = "data_rejected"
    GOOD = "good"


@dataclass(frozen=True, slots=True)
class Unlocked:
    """A trusted state: key slot (format 2), DEK, the document, and where the chain stands."""

    slot: KeySlot
    dek: bytes
    document: dict[str, dict[str, Any]]
    generation: int
    tag: bytes  # the chain tag the next frame binds
    document_size: int  # bytes of the base's document as JSON: what the journal is weighed against
    journal_end: int  # where the next frame goes in vault.pcj (when not ``repair``)
    recovered: bool  # the vault opened at an earlier or previous state than its newest files claim
    problem: str = ""  # why, in words
    torn: bool = False  # an interrupted append (never acknowledged) was dropped
    legacy: bool = False  # the base is format 1: migrate before writing
    repair: bool = False  # the current pair must be replaced by a new base before the next commit


@dataclass(frozen=True, slots=True)
class _Attempt:
    outcome: Outcome
    problem: str = ""
    sealed: SealedBase | None = None
    slot: KeySlot | None = None
    dek: bytes = b""
    document: dict[str, dict[str, Any]] | None = None
    size: int = 0


class _KekCache:
    def __init__(self, provider: KeyProvider, passcode: str) -> None:
        self._provider = provider
        self._passcode = passcode
        self._keks: dict[tuple[bytes, ScryptParams], bytes] = {}

    def get(self, slot: KeySlot) -> bytes:
        key = (slot.salt, slot.params)
        if key not in self._keks:
            self._keks[key] = derive_checked(self._provider, self._passcode, slot.salt, slot.params)
        return self._keks[key]


def unlock(folder: VaultFolder, passcode: str, provider: KeyProvider) -> Unlocked:
    """Open the newest trustworthy state with ``passcode`` (already normalised).

    Raises :class:`WrongPasscode`, :class:`VaultCorrupted` or :class:`VaultNotFound`
    as described in the module docstring; never returns a half-read document.
    """
    keks = _KekCache(provider, passcode)
    main = _attempt(folder.read(MAIN), keks)
    if main.outcome is Outcome.GOOD:
        return _with_journals(folder, main, (JOURNAL,), previous=False)
    bak = _attempt(folder.read(BAK), keks)
    if bak.outcome is Outcome.GOOD:
        return _with_journals(folder, bak, (JOURNAL_BAK, JOURNAL), previous=True, why=main.problem)
    outcomes = {main.outcome, bak.outcome}
    if outcomes == {Outcome.MISSING}:
        raise VaultNotFound(f"no vault in {folder.path}")
    if Outcome.DATA_REJECTED in outcomes:
        first = main if main.outcome is Outcome.DATA_REJECTED else bak
        raise VaultCorrupted(f"{first.problem}, and its previous copy is unusable too")
    if Outcome.KEY_REJECTED in outcomes:
        raise WrongPasscode("wrong passcode")
    raise VaultCorrupted(f"{main.problem or bak.problem}, and its previous copy is unusable too")


def _with_journals(folder: VaultFolder, base: _Attempt, names: tuple[str, ...], *, previous: bool,
                   why: str = "") -> Unlocked:
    assert base.sealed is not None and base.slot is not None and base.document is not None
    sealed, document = base.sealed, base.document
    if sealed.legacy:
        tag = secrets.token_bytes(CHAIN_BYTES)  # format 1 had no chain: the migrated base starts one
        return Unlocked(base.slot, base.dek, document, 0, tag, base.size, 0, recovered=previous,
                        problem=why, legacy=True, repair=previous)
    aead = AESGCM(base.dek)
    generation, tag, end, torn, problem = sealed.generation, sealed.chain_tag, 0, False, ""
    for name in names:
        blob = folder.read(name)
        if blob is None:
            if name == JOURNAL and not previous:
                problem = "the journal file is missing: the vault opened as of its last compaction"
            continue
        result = replay(scan(blob), document, aead, generation, tag)
        generation, tag, end, torn, problem = result.generation, result.tag, result.end, result.torn, result.problem
        if problem:
            problem = f"{problem}: the vault opened at change {generation}, the last one it can prove"
            break
    recovered = previous or bool(problem)
    reasons = "; ".join(p for p in (previous and f"{why or 'the vault file is unusable'} (the previous copy was used)",
                                    problem) if p)
    return Unlocked(base.slot, base.dek, document, generation, tag, base.size, end,
                    recovered=recovered, problem=reasons, torn=torn, repair=recovered)


def _attempt(blob: bytes | None, keks: _KekCache) -> _Attempt:
    if blob is None:
        return _Attempt(Outcome.MISSING, "the vault file is missing")
    try:
        sealed = parse_file(blob)
    except VaultCorrupted as error:
        return _Attempt(Outcome.DAMAGED, str(error))
    try:
        kek = keks.get(sealed.slot)
        dek = sealed.slot.unwrap(kek)
    except WrongPasscode:
        return _Attempt(Outcome.KEY_REJECTED, "the vault file's key did not unwrap with this passcode")
    try:
        plaintext = sealed.open(dek)
        document = decode_document(plaintext)
    except VaultCorrupted as error:
        return _Attempt(Outcome.DATA_REJECTED, str(error))
    # A format-1 key wrap authenticates version 1; the migrated base needs a format-2 wrap.
    slot = KeySlot.create(kek, dek, sealed.slot.params, sealed.slot.salt) if sealed.legacy else sealed.slot
    return _Attempt(Outcome.GOOD, sealed=sealed, slot=slot, dek=dek, document=document, size=len(plaintext))
