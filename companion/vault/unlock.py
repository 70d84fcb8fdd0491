"""Deciding which vault generation to trust when unlocking, and why a failure is what it is.

Both generations (``vault.pcv`` and ``vault.pcv.bak``) are tried with the same
passcode. Each attempt ends in one of five outcomes:

    missing        the file does not exist
    damaged        the header is not a well-formed vault header (truncated, bad
                   magic/version/KDF id, KDF parameters out of bounds)
    key_rejected   the DEK did not unwrap: wrong passcode, or a changed salt,
                   KDF parameter, wrap nonce or wrapped key
    data_rejected  the DEK unwrapped (so the passcode is right) but the document
                   failed authentication: tampered or torn
    good           the document decrypted and parsed

The main file wins when it is good. Otherwise a good ``.bak`` is used and the
vault reports ``recovered``: this covers a torn or tampered main file *and* a
tampered wrapped-key region, which on its own would be indistinguishable from a
wrong passcode; it also covers a crash in the middle of a passcode change, where
each file is wrapped for a different passcode. Only when no file is good:

- some file accepted the key but not the data -> :class:`VaultCorrupted`
  (the passcode is proven right, so it must not count as a failed attempt);
- otherwise some file rejected the key -> :class:`WrongPasscode`;
- otherwise -> :class:`VaultCorrupted` naming what is wrong with the main file.

KEKs are cached per (salt, parameters) within one unlock: both generations
normally share a key slot, so trying ``.bak`` costs no second KDF run.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from ..core.errors import VaultCorrupted, VaultNotFound, WrongPasscode
from .fileformat import KeySlot, SealedFile, decode_document, parse_file
from .files import BAK, MAIN, VaultFolder
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
    """A trusted generation: its key slot, the DEK, the document and the exact file bytes."""

    slot: KeySlot
    dek: bytes
    document: dict[str, dict[str, Any]]
    blob: bytes
    recovered: bool  # the main file was unusable and the previous generation was used


@dataclass(frozen=True, slots=True)
class _Attempt:
    outcome: Outcome
    problem: str = ""
    unlocked: Unlocked | None = None


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
    """Open the newest trustworthy generation with ``passcode`` (already normalised).

    Raises :class:`WrongPasscode`, :class:`VaultCorrupted` or :class:`VaultNotFound`
    as described in the module docstring; never returns a half-read document.
    """
    keks = _KekCache(provider, passcode)
    main = _attempt(folder.read(MAIN), keks, recovered=False)
    if main.unlocked is not None:
        return main.unlocked
    bak = _attempt(folder.read(BAK), keks, recovered=True)
    if bak.unlocked is not None:
        return bak.unlocked
    outcomes = {main.outcome, bak.outcome}
    if outcomes == {Outcome.MISSING}:
        raise VaultNotFound(f"no vault in {folder.path}")
    if Outcome.DATA_REJECTED in outcomes:
        first = main if main.outcome is Outcome.DATA_REJECTED else bak
        raise VaultCorrupted(f"{first.problem}, and its previous copy is unusable too")
    if Outcome.KEY_REJECTED in outcomes:
        raise WrongPasscode("wrong passcode")
    raise VaultCorrupted(f"{main.problem or bak.problem}, and its previous copy is unusable too")


def _attempt(blob: bytes | None, keks: _KekCache, *, recovered: bool) -> _Attempt:
    if blob is None:
        return _Attempt(Outcome.MISSING, "the vault file is missing")
    try:
        sealed: SealedFile = parse_file(blob)
    except VaultCorrupted as error:
        return _Attempt(Outcome.DAMAGED, str(error))
    try:
        dek = sealed.slot.unwrap(keks.get(sealed.slot))
    except WrongPasscode:
        return _Attempt(Outcome.KEY_REJECTED)
    try:
        document = decode_document(sealed.open(dek))
    except VaultCorrupted as error:
        return _Attempt(Outcome.DATA_REJECTED, str(error))
    return _Attempt(Outcome.GOOD, unlocked=Unlocked(sealed.slot, dek, document, blob, recovered))
