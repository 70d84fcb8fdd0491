"""Byte layout of the vault journal (``vault.pcj``): sealed frames appended after the base.

Each commit appends one frame holding what changed (see :mod:`.changes`) and
fsyncs once; the document in memory is the base with the frames applied. The
file is an 8-byte header ``b"PCJOURN" + version (1)`` followed by frames::

    offset  size  field
    0       4     L: length of the sealed body (ciphertext + 16-byte tag), big-endian
    4       4     L xor 0xFFFFFFFF: a flipped length byte is damage, never a "torn" frame
    8       8     generation: the base's generation + the frame's position, 1, 2, 3 …
    16      12    nonce (AES-GCM, fresh random per frame)
    28      L     AES-256-GCM(DEK, changes as JSON)

The associated data of a frame is its first 28 bytes plus the tag of the frame
before it (for the first frame after a base: the base's chain tag). So a frame
cannot be dropped, reordered, replayed, moved to another vault, or have its
generation changed: each of these breaks the chain or a tag.

What a scan tells apart:

- a **torn** tail: an incomplete last frame (fewer bytes than its length says) or
  a zero-filled tail — what a crash in the middle of an append leaves. It was
  never acknowledged (the fsync had not returned), so it is dropped; the
  journal is cut back to the last whole frame before the next append;
- **damage**: a length that disagrees with its complement, a frame that fails
  authentication, a generation out of sequence, a bad header. Replay stops
  before it; the vault opens at the last state it can prove and says so.

Frames at or below the base's generation are skipped without decryption: they
are already in the base (a crash between installing a new base and its
journal, or a passcode change, leaves such a stale prefix). Such a prefix must
come first and be in order; an old frame after a newer one is a replay: damage.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..core.errors import VaultCorrupted
from .changes import apply_changes, decode_changes
from .keys import new_nonce

__all__ = ["FRAME_PREFIX", "JOURNAL_HEADER", "Frame", "Replay", "Scan", "replay", "scan", "seal_frame"]

JOURNAL_HEADER = b"PCJOURN\x01"
_FRAME = struct.Struct(">IIQ12s")
FRAME_PREFIX = _FRAME.size  # 28
TAG_BYTES = 16
_MASK = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class Frame:
    """One well-formed (not yet authenticated) frame of a journal."""

    generation: int
    prefix: bytes
    nonce: bytes
    body: bytes
    end: int  # offset just after the frame

    @property
    def tag(self) -> bytes:
        return self.body[-TAG_BYTES:]

    def open(self, aead: AESGCM, previous_tag: bytes) -> bytes:
        try:
            return aead.decrypt(self.nonce, self.body, self.prefix + previous_tag)
        except InvalidTag:
            raise VaultCorrupted(f"journal frame {self.generation} failed authentication") from None


def seal_frame(aead: AESGCM, generation: int, previous_tag: bytes, plaintext: bytes) -> bytes:
    """One frame: prefix + AES-256-GCM(plaintext) with the prefix and ``previous_tag`` as associated data."""
    nonce = new_nonce()
    length = len(plaintext) + TAG_BYTES
    prefix = _FRAME.pack(length, length ^ _MASK, generation, nonce)
    return prefix + aead.encrypt(nonce, plaintext, prefix + previous_tag)


@dataclass(slots=True)
class Scan:
    """The frames of a journal file, and what follows the last whole one."""

    frames: list[Frame] = field(default_factory=list)
    end: int = len(JOURNAL_HEADER)  # offset after the last whole frame
    torn: bool = False  # an interrupted append follows ``end``
    problem: str = ""  # damage follows ``end``


def scan(blob: bytes) -> Scan:
    """Split a journal into frames; never raises (damage is reported in :attr:`Scan.problem`)."""
    result = Scan()
    if blob[:len(JOURNAL_HEADER)] != JOURNAL_HEADER:
        result.problem = "the journal file is damaged: it does not start with the journal header"
        result.end = 0
        return result
    view = memoryview(blob)
    pos, size = len(JOURNAL_HEADER), len(blob)
    while pos < size:
        if size - pos < FRAME_PREFIX:
            result.torn = True
            break
        length, check, generation, nonce = _FRAME.unpack_from(blob, pos)
        if length ^ _MASK != check or length < TAG_BYTES:
            if not any(view[pos:]):
                result.torn = True  # a power cut can leave the appended size with its data unwritten
            else:
                result.problem = f"the journal is damaged at byte {pos}: a frame length does not check out"
            break
        end = pos + FRAME_PREFIX + length
        if end > size:
            result.torn = True
            break
        result.frames.append(Frame(generation, blob[pos:pos + FRAME_PREFIX], nonce,
                                   blob[pos + FRAME_PREFIX:end], end))
        pos = end
    result.end = pos if (result.torn or result.problem) else size
    return result


@dataclass(slots=True)
class Replay:
    """Where replaying a journal over a document ended."""

    generation: int
    tag: bytes
    applied: int = 0
    end: int = len(JOURNAL_HEADER)  # offset after the last frame applied or skipped
    torn: bool = False
    problem: str = ""


def replay(journal: Scan, document: dict[str, dict[str, Any]], aead: AESGCM, generation: int,
           tag: bytes) -> Replay:
    """Apply the frames that continue ``(generation, tag)`` to ``document`` in place.

    Stops at the first frame that does not authenticate or is out of sequence
    (``problem`` says why); the document then holds the last provable state.
    """
    result = Replay(generation, tag, end=journal.end if not journal.frames else len(JOURNAL_HEADER))
    stale = 0  # the highest generation of the stale prefix: it must only grow, and only before the base's
    for frame in journal.frames:
        if frame.generation <= result.generation:
            if result.applied or frame.generation <= stale:
                result.problem = f"journal frame {frame.generation} is a replay of an earlier one"
                return result
            if frame.generation == result.generation and frame.tag != result.tag:
                result.problem = f"journal frame {frame.generation} is not the one the base continues from"
                return result
            stale, result.end = frame.generation, frame.end
            continue
        if frame.generation != result.generation + 1:
            result.problem = (f"journal frame {frame.generation} follows {result.generation}: "
                              "frames are missing")
            return result
        try:
            apply_changes(document, decode_changes(frame.open(aead, result.tag)))
        except VaultCorrupted as error:
            result.problem = str(error)
            return result
        result.generation, result.tag, result.end = frame.generation, frame.tag, frame.end
        result.applied += 1
    result.torn, result.problem = journal.torn, journal.problem
    return result
