"""Byte layout of a vault base file, and sealing/opening its encrypted document.

A base file (``vault.pcv``, and the previous generation ``vault.pcv.bak``) holds
the whole document as of one generation; the journal (:mod:`.journal`) holds the
changes made since. Format version 2::

    offset  size  field
    0       7     magic  b"PCVAULT"
    7       1     format version (2; version 1 files are read for migration)
    8       1     KDF algorithm id (1 = scrypt)
    9       1     scrypt log2(N)                 bounds-checked on read
    10      1     scrypt r                       bounds-checked on read
    11      1     scrypt p                       bounds-checked on read
    12      16    KDF salt
    28      12    wrap nonce (AES-GCM)
    40      48    wrapped DEK: AES-256-GCM(KEK, DEK) = 32-byte key + 16-byte tag
    88      8     generation: the number of the last journal frame this base includes
    96      16    chain tag: the GCM tag of that frame (random for a new vault); the
                  next frame binds it as associated data
    112     12    data nonce (AES-GCM, fresh random for every base)
    124     n+16  AES-256-GCM(DEK, JSON document) = ciphertext + 16-byte tag

Version 1 (today's vaults before v2) had no generation and chain tag: the data
nonce sits at 88 and the ciphertext at 100. Bytes 0..39 are the associated data
of the key wrap; the whole header is the associated data of the document, so
every header byte is authenticated: a change to bytes 0..39 fails the unwrap, a
change to anything after fails the document tag.

The plaintext is the TinyDB document (``{table: {id: record}}``) as compact
JSON in UTF-8, compressed with zlib (level :data:`ZLIB_LEVEL`) before it is
encrypted; a base written before compression holds the JSON itself, which
starts with ``{`` where a zlib stream starts with ``0x78``, so both read. The
JSON exists only in memory. Compressing first costs little (a 100k-record base:
~70 ms more for a compaction, ~30 ms more at unlock) and keeps the base and its
recovery copy together smaller than one uncompressed copy. Lengths of sealed
bases leak the compressed size to someone holding two copies of the file; the
records' content stays under AES-GCM, and every write goes to the journal
uncompressed anyway.

Nonce budget: random 96-bit nonces stay safe for 2^32 encryptions under one
DEK; a base is sealed once per compaction, a frame once per commit, and every
passcode change draws a new DEK.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..core.errors import VaultCorrupted
from .keys import DEK_BYTES, NONCE_BYTES, ScryptParams, new_nonce, unwrap_data_key, wrap_data_key

__all__ = [
    "CHAIN_BYTES",
    "FORMAT_VERSION",
    "HEADER_SIZE",
    "KEY_SLOT_SIZE",
    "MAGIC",
    "MIN_FILE_SIZE",
    "SALT_BYTES",
    "KeySlot",
    "SealedBase",
    "decode_document",
    "encode_document",
    "parse_file",
    "seal",
]

MAGIC = b"PCVAULT"
FORMAT_VERSION = 2
LEGACY_VERSION = 1
KDF_SCRYPT = 1
SALT_BYTES = 16
TAG_BYTES = 16
CHAIN_BYTES = 16
ZLIB_LEVEL = 1  # ~20% larger than level 6, twice as fast: the base is rewritten at every compaction

_PREFIX = struct.Struct(f">{len(MAGIC)}sBBBBB{SALT_BYTES}s{NONCE_BYTES}s")  # bytes 0..39
_CHAIN = struct.Struct(f">Q{CHAIN_BYTES}s")  # generation + chain tag
WRAPPED_BYTES = DEK_BYTES + TAG_BYTES
KEY_SLOT_SIZE = _PREFIX.size + WRAPPED_BYTES  # 88
HEADER_SIZE = KEY_SLOT_SIZE + _CHAIN.size + NONCE_BYTES  # 124
LEGACY_HEADER_SIZE = KEY_SLOT_SIZE + NONCE_BYTES  # 100
MIN_FILE_SIZE = HEADER_SIZE + TAG_BYTES  # an empty plaintext still carries its tag


@dataclass(frozen=True, slots=True)
class KeySlot:
    """The passcode-dependent part of the header: KDF parameters, salt and the wrapped DEK.

    It stays the same from base to base and changes only with the passcode (and
    once, at the migration from format version 1, whose wrap authenticated version 1).
    """

    params: ScryptParams
    salt: bytes
    wrap_nonce: bytes
    wrapped_dek: bytes
    version: int = FORMAT_VERSION

    @staticmethod
    def wrap_aad(params: ScryptParams, salt: bytes, wrap_nonce: bytes, version: int = FORMAT_VERSION) -> bytes:
        return _PREFIX.pack(MAGIC, version, KDF_SCRYPT, params.log2_n, params.r, params.p, salt, wrap_nonce)

    @classmethod
    def create(cls, kek: bytes, dek: bytes, params: ScryptParams, salt: bytes) -> KeySlot:
        """Wrap ``dek`` under ``kek`` for a file whose header names ``params`` and ``salt``."""
        nonce = new_nonce()
        wrapped = wrap_data_key(kek, dek, nonce, cls.wrap_aad(params, salt, nonce))
        return cls(params, salt, nonce, wrapped)

    def to_bytes(self) -> bytes:
        return self.wrap_aad(self.params, self.salt, self.wrap_nonce, self.version) + self.wrapped_dek

    def unwrap(self, kek: bytes) -> bytes:
        """The DEK; :class:`~companion.core.errors.WrongPasscode` when ``kek`` or this slot is not the right one."""
        return unwrap_data_key(kek, self.wrapped_dek, self.wrap_nonce,
                               self.wrap_aad(self.params, self.salt, self.wrap_nonce, self.version))


@dataclass(frozen=True, slots=True)
class SealedBase:
    """A parsed but not yet decrypted base file (either format version)."""

    slot: KeySlot
    header: bytes  # the document's associated data
    data_nonce: bytes
    body: bytes  # ciphertext + tag
    generation: int  # 0 for a version-1 file
    chain_tag: bytes  # b"" for a version-1 file

    @property
    def legacy(self) -> bool:
        return self.slot.version == LEGACY_VERSION

    def open(self, dek: bytes) -> bytes:
        """The document's JSON; :class:`VaultCorrupted` when the body or header was changed."""
        try:
            plaintext = AESGCM(dek).decrypt(self.data_nonce, self.body, self.header)
        except InvalidTag:
            raise VaultCorrupted("the vault file is damaged or was tampered with (authentication failed)") from None
        if plaintext[:1] == b"{":  # written before bases were compressed
            return plaintext
        try:
            return zlib.decompress(plaintext)
        except zlib.error:  # authenticated, so only a writer holding the key could have made it
            raise VaultCorrupted("the vault file is damaged: its content is not a vault document") from None


def parse_file(blob: bytes) -> SealedBase:
    """Split a base file into its parts, refusing anything that is not a well-formed vault file.

    Raises :class:`VaultCorrupted` naming what is wrong (length, magic, version,
    KDF id, or the out-of-bounds KDF parameter).
    """
    if len(blob) < LEGACY_HEADER_SIZE + TAG_BYTES:
        raise VaultCorrupted(f"the vault file is damaged: {len(blob)} bytes is shorter than any vault file")
    magic, version, kdf_id, log2_n, r, p, salt, wrap_nonce = _PREFIX.unpack_from(blob, 0)
    if magic != MAGIC:
        raise VaultCorrupted("the vault file is damaged: it does not start with the vault magic bytes")
    if version not in (FORMAT_VERSION, LEGACY_VERSION):
        raise VaultCorrupted(f"the vault file is damaged or newer than this app: format version {version}")
    if kdf_id != KDF_SCRYPT:
        raise VaultCorrupted(f"the vault file is damaged: unknown KDF algorithm id {kdf_id}")
    params = ScryptParams.from_header(log2_n, r, p)
    slot = KeySlot(params, salt, wrap_nonce, blob[_PREFIX.size:KEY_SLOT_SIZE], version)
    if version == LEGACY_VERSION:
        return SealedBase(slot, blob[:LEGACY_HEADER_SIZE], blob[KEY_SLOT_SIZE:LEGACY_HEADER_SIZE],
                          blob[LEGACY_HEADER_SIZE:], 0, b"")
    if len(blob) < MIN_FILE_SIZE:
        raise VaultCorrupted(f"the vault file is damaged: {len(blob)} bytes is shorter than any vault file")
    generation, chain_tag = _CHAIN.unpack_from(blob, KEY_SLOT_SIZE)
    return SealedBase(slot, blob[:HEADER_SIZE], blob[HEADER_SIZE - NONCE_BYTES:HEADER_SIZE], blob[HEADER_SIZE:],
                      generation, chain_tag)


def seal(slot: KeySlot, dek: bytes, plaintext: bytes, generation: int, chain_tag: bytes) -> bytes:
    """A complete version-2 base file: header + AES-256-GCM(DEK, zlib(plaintext)) under a fresh nonce."""
    if slot.version != FORMAT_VERSION or len(chain_tag) != CHAIN_BYTES:
        raise ValueError("a base is sealed with a version-2 key slot and a 16-byte chain tag")
    nonce = new_nonce()
    header = slot.to_bytes() + _CHAIN.pack(generation, chain_tag) + nonce
    return header + AESGCM(dek).encrypt(nonce, zlib.compress(plaintext, ZLIB_LEVEL), header)


def encode_document(document: dict[str, Any]) -> bytes:
    """The TinyDB document as compact JSON bytes (never written anywhere unencrypted)."""
    return json.dumps(document, separators=(",", ":"), allow_nan=False).encode("utf-8")


def decode_document(plaintext: bytes) -> dict[str, Any]:
    """JSON bytes -> ``{table: {doc_id: record}}``; anything else means the file is not ours."""
    try:
        document = json.loads(plaintext)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise VaultCorrupted("the vault file is damaged: its content is not a vault document") from None
    if not isinstance(document, dict) or not all(isinstance(t, dict) for t in document.values()):
        raise VaultCorrupted("the vault file is damaged: its content is not a vault document")
    return document
