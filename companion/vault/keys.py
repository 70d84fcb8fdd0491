"""Key material of the vault: KDF parameters, the key-provider seam, and DEK wrapping.

The vault uses envelope encryption. A random 256-bit data key (DEK) encrypts the
document; a key-encryption key (KEK) derived from the passcode wraps the DEK.
Changing the passcode therefore re-wraps 32 bytes instead of re-encrypting the data.

Why the DEK is wrapped with AES-256-GCM (fresh 96-bit nonce) rather than AES-KW
(RFC 3394): GCM takes associated data, so the wrap also authenticates the KDF
algorithm, its parameters and the salt in the file header. A tampered parameter
or salt then fails the unwrap itself instead of silently deriving another KEK and
relying on a second check. AES-KW has no associated data, and with a 12-byte
random nonce per wrap GCM's nonce budget is irrelevant here (one wrap per
passcode change). Both are in ``cryptography``, which Flet's mobile index ships.

KDF parameters read from a file are bounds-checked (see :meth:`ScryptParams.problem`)
so a tampered header can neither weaken them below the floor nor make an unlock
allocate gigabytes. ``COMPANION_KDF_LOG2N`` lets test suites and benchmarks choose
a cheaper (never weaker than 2^14) cost for newly created vaults.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ..core.errors import ConfigError, VaultCorrupted, VaultError, WrongPasscode

__all__ = [
    "DEK_BYTES",
    "KDF_ENV",
    "KeyProvider",
    "PasscodeKeyProvider",
    "ScryptParams",
    "derive_checked",
    "kdf_from_env",
    "new_data_key",
    "unwrap_data_key",
    "wrap_data_key",
]

DEK_BYTES = 32
NONCE_BYTES = 12
KDF_ENV = "COMPANION_KDF_LOG2N"

# Bounds of parameters accepted from a file header (and from callers).
LOG2_N_RANGE = (14, 22)
R_RANGE = (1, 32)
P_RANGE = (1, 16)
# scrypt needs 128·r·N bytes. The per-parameter bounds alone would let a tampered
# header ask for 16 GiB (log2_n=22, r=32) and kill the app on a phone; the default
# (2^17, r=8) needs 128 MiB, so 1 GiB leaves ample room for stronger settings.
MAX_KDF_MEMORY = 1 << 30


@dataclass(frozen=True, slots=True)
class ScryptParams:
    """scrypt cost parameters: N = 2**log2_n, block size r, parallelism p.

    The default (2^17, 8, 1) takes about 0.35–0.45 s and 128 MiB on a laptop.
    Constructing out-of-bounds parameters raises :class:`ConfigError`; parameters
    read from a file go through :meth:`from_header`, which raises
    :class:`VaultCorrupted` naming the parameter instead.
    """

    log2_n: int = 17
    r: int = 8
    p: int = 1

    def __post_init__(self) -> None:
        problem = self.problem(self.log2_n, self.r, self.p)
        if problem:
            raise ConfigError(f"scrypt parameters: {problem}")

    @staticmethod
    def problem(log2_n: int, r: int, p: int) -> str | None:
        """Why these parameters are refused, or ``None`` when they are acceptable."""
        for name, value, (low, high) in (("log2_n", log2_n, LOG2_N_RANGE), ("r", r, R_RANGE), ("p", p, P_RANGE)):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                return f"{name}={value!r} is outside {low}..{high}"
        memory = 128 * r * (1 << log2_n)
        if memory > MAX_KDF_MEMORY:
            return f"log2_n={log2_n} with r={r} needs {memory >> 20} MiB (limit {MAX_KDF_MEMORY >> 20} MiB)"
        return None

    @classmethod
    def from_header(cls, log2_n: int, r: int, p: int) -> ScryptParams:
        """Parameters read from a vault file; a value out of bounds means the file was damaged."""
        problem = cls.problem(log2_n, r, p)
        if problem:
            raise VaultCorrupted(f"the vault file is damaged: KDF parameter {problem}")
        return cls(log2_n, r, p)

    @classmethod
    def default(cls) -> ScryptParams:
        return cls()

    @classmethod
    def fast(cls) -> ScryptParams:
        """The cheapest accepted cost (2^14, ~40 ms): for tests and benchmarks only."""
        return cls(log2_n=LOG2_N_RANGE[0])


def kdf_from_env() -> ScryptParams:
    """Parameters for a new vault: ``COMPANION_KDF_LOG2N`` if set (clamped to >= 14), else the default.

    Test suites and benchmarks set it to 14 so that every unlock costs ~40 ms
    instead of ~0.4 s; production never sets it.
    """
    raw = os.environ.get(KDF_ENV, "").strip()
    if not raw:
        return ScryptParams.default()
    try:
        log2_n = int(raw)
    except ValueError:
        raise ConfigError(f"{KDF_ENV}: expected a whole number, got {raw[:20]!r}") from None
    return ScryptParams(log2_n=max(LOG2_N_RANGE[0], log2_n))


class KeyProvider(Protocol):
    """Turns a passcode into the 32-byte key-encryption key (KEK) that wraps the vault's data key.

    Contract:

    - ``derive_kek(passcode, salt, params)`` is deterministic: the same inputs give
      the same 32 bytes on this device for the life of the vault. The passcode
      arrives NFC-normalised; ``salt`` is 16 random bytes from the file header;
      ``params`` were bounds-checked.
    - It may mix in a device secret (an OS-keystore key, so that a copied vault
      file cannot be attacked off the device); the same provider must then be
      passed to :meth:`Vault.open` as was passed to :meth:`Vault.create`, or
      every passcode looks wrong.
    - Failures are raised as :class:`~companion.core.errors.VaultError` subclasses with
      a one-line message (e.g. "the device keystore is locked"); never return a
      key of another length.

    It must not cache passcodes or keys beyond the call.
    """

    def derive_kek(self, passcode: str, salt: bytes, params: ScryptParams) -> bytes: ...


class PasscodeKeyProvider:
    """The default provider: scrypt(passcode, salt) and nothing else."""

    def derive_kek(self, passcode: str, salt: bytes, params: ScryptParams) -> bytes:
        kdf = Scrypt(salt=salt, length=DEK_BYTES, n=1 << params.log2_n, r=params.r, p=params.p)
        try:
            return kdf.derive(passcode.encode("utf-8"))
        except MemoryError:
            raise VaultError("not enough memory to derive the vault key; close other apps and retry") from None


def derive_checked(provider: KeyProvider, passcode: str, salt: bytes, params: ScryptParams) -> bytes:
    """Call a provider and hold it to its contract (32 bytes), so a faulty one fails loudly."""
    kek = provider.derive_kek(passcode, salt, params)
    if not isinstance(kek, bytes) or len(kek) != DEK_BYTES:
        raise VaultError(f"the key provider returned an unusable key ({len(kek) if isinstance(kek, bytes) else kek!r})")
    return kek


def new_data_key() -> bytes:
    """A fresh random 256-bit DEK."""
    return AESGCM.generate_key(bit_length=8 * DEK_BYTES)


def new_nonce() -> bytes:
    """A fresh random 96-bit GCM nonce (one per encryption; see the nonce budget in fileformat)."""
    return secrets.token_bytes(NONCE_BYTES)


def wrap_data_key(kek: bytes, dek: bytes, nonce: bytes, aad: bytes) -> bytes:
    """AES-256-GCM-encrypt the DEK under the KEK, authenticating ``aad`` (the header prefix)."""
    return AESGCM(kek).encrypt(nonce, dek, aad)


def unwrap_data_key(kek: bytes, wrapped: bytes, nonce: bytes, aad: bytes) -> bytes:
    """Recover the DEK; a wrong KEK (wrong passcode) or a changed header raises :class:`WrongPasscode`."""
    try:
        return AESGCM(kek).decrypt(nonce, wrapped, aad)
    except InvalidTag:
        raise WrongPasscode("wrong passcode") from None
