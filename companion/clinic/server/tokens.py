"""Record ids, bearer tokens and pairing codes, and how they are hashed for storage.

A record id is its creation time (milliseconds, 9 symbols that sort as the time does) and 70
random bits: ids made later sort after earlier ones, so new rows go to the right edge of every
index keyed by an id (the record's own, the feed's ``(kind, record_id)``) instead of to a random
page of it. With random ids a push of 100 messages dirtied a page per row per index, and its cost
grew with the database: 13.7 ms with 1,000 records, 16.8 ms with 100,000; with ordered ids (and
the app's UUIDv7 mutation ids), 12.3 and 12.4 ms. The random part alone makes an id unguessable, as before; the time
part says when the record was made, which its own fields say too (and a held result's id never
leaves the server).

Tokens are 256-bit random secrets, so a fast hash (SHA-256) is the right tool: a slow password
hash (Argon2) would add tens of milliseconds to every pull and buy nothing against guessing a
256-bit value. The database holds only ``token_hash``; a stolen copy cannot be replayed.

Pairing codes are short enough to type (``K7Q-4MZ-9TD``). The first group is a public lookup key
that says which code a guess is aimed at, so wrong guesses can be counted against that code
(5 and it is dead); the rest is the secret. Letters that look alike (0/O, 1/I/L) are left out and
input is normalised (case, spaces, dashes).
"""

from __future__ import annotations

import hashlib
import secrets
import time

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
LOOKUP_LEN = 3
CODE_LEN = 9

DEVICE_TOKEN_PREFIX = "cpd_"
STAFF_TOKEN_PREFIX = "cps_"


TIME_SYMBOLS = 9  # 45 bits of milliseconds since 1970: ids sort by time until the year 3084
_ORDERED = "".join(sorted(ID_ALPHABET))  # digits before letters: byte order, and the usual collations
_TIME_SHIFTS = tuple(5 * i for i in reversed(range(TIME_SYMBOLS)))  # the most significant symbol first
# Two symbols per 10 bits, low 5 bits first: the same ids as one symbol per 5 bits, half the lookups
# (a push of 100 messages makes 200 ids).
_ID_PAIRS = tuple(ID_ALPHABET[n & 31] + ID_ALPHABET[n >> 5] for n in range(1024))


def new_id(prefix: str) -> str:
    """``pat_…``, ``apt_…``: the time (:data:`TIME_SYMBOLS`, in an order that sorts as bytes do) then
    14 random symbols (70 bits: not guessable from another id). See the module docstring."""
    now, order = time.time_ns() // 1_000_000, _ORDERED
    stamp = "".join(order[(now >> shift) & 31] for shift in _TIME_SHIFTS)
    bits = secrets.randbits(70)  # 32 symbols = 5 bits each; one call instead of 14 choice() calls
    pairs = _ID_PAIRS
    return (f"{prefix}_{stamp}{pairs[bits & 1023]}{pairs[(bits >> 10) & 1023]}{pairs[(bits >> 20) & 1023]}"
            f"{pairs[(bits >> 30) & 1023]}{pairs[(bits >> 40) & 1023]}{pairs[(bits >> 50) & 1023]}"
            f"{pairs[bits >> 60]}")


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_pairing_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LEN))
    return f"{raw[0:3]}-{raw[3:6]}-{raw[6:9]}"


def normalise_code(text: str) -> str | None:
    """Upper-case, drop spaces and dashes; ``None`` when it cannot be a code at all."""
    raw = "".join(ch for ch in text.upper() if ch not in " -\t")
    if len(raw) != CODE_LEN or any(ch not in CODE_ALPHABET for ch in raw):
        return None
    return raw


def code_lookup(normalised: str) -> str:
    return normalised[:LOOKUP_LEN]
