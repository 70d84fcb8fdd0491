"""Payment references a person can read out: ``BIL-4K7Q-2MXR``, derived from a bill's id (stdlib only).

    bill_reference("bil_3f9k2mq8z0x1ab")   # -> "BIL-…-…", the same on the desk, in the app, in a pay link
    normalise_reference(" bil 4k7q-2mxr ") # -> "BIL-4K7Q-2MXR" (what a payment system typed back)

The reference is the first 40 bits of SHA-256 of the bill id in Crockford's base32 (digits and
capital letters without I, L, O and U, so nothing reads as another character), in two groups of four.
It is deterministic, so nothing is stored: the app computes it from the bill it holds, the server
from its rows, and :func:`normalise_reference` reads a reference back the way Crockford's scheme
says (any case; spaces and dashes ignored; O read as 0, I and L as 1), so a reference typed over the
phone still matches. 40 bits keep two bills of one clinic from sharing a reference (at 100,000 bills
the odds that any two share one are below 1 in 200); the server answers every bill with a
reference, so a clash, however unlikely, shows as two bills, never as the wrong one.
"""

from __future__ import annotations

import hashlib

__all__ = ["ALPHABET", "PREFIX", "bill_reference", "normalise_reference"]

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
PREFIX = "BIL"
_GROUPS = (4, 4)
_READ_AS = {"O": "0", "I": "1", "L": "1"}


def bill_reference(bill_id: str) -> str:
    """The bill's payment reference, ``BIL-XXXX-XXXX``."""
    digest = int.from_bytes(hashlib.sha256(bill_id.encode("utf-8")).digest()[:5], "big")  # 40 bits
    chars = "".join(ALPHABET[(digest >> shift) & 31] for shift in range(35, -1, -5))
    first = _GROUPS[0]
    return f"{PREFIX}-{chars[:first]}-{chars[first:]}"


def normalise_reference(text: str) -> str | None:
    """``text`` as a reference in its canonical spelling, or ``None`` when it cannot be one."""
    raw = "".join(ch for ch in text.upper() if ch not in " -_.")
    if raw.startswith(PREFIX):
        raw = raw[len(PREFIX):]
    raw = "".join(_READ_AS.get(ch, ch) for ch in raw)
    if len(raw) != sum(_GROUPS) or any(ch not in ALPHABET for ch in raw):
        return None
    first = _GROUPS[0]
    return f"{PREFIX}-{raw[:first]}-{raw[first:]}"
