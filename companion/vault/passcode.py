"""Passcode policy and normalisation.

A new passcode (at :meth:`Vault.create` and :meth:`Vault.change_passcode`) must
have at least 8 characters and must not be one of the passcodes a guesser tries
first: one repeated character, a straight run (``12345678``, ``abcdefgh``,
``87654321``), a short repeated pattern (``abababab``, ``123123123``), or a
well-known common password. :class:`~companion.core.errors.WeakPasscode` says which
rule refused it, so the UI can show the reason as it is.

Passcodes are NFC-normalised before key derivation: the same visible passcode
typed on two keyboards (precomposed "é" or "e" + combining accent) must unlock
the same vault.
"""

from __future__ import annotations

import itertools
import unicodedata

from ..core.errors import WeakPasscode

__all__ = ["MIN_LENGTH", "check_new_passcode", "normalise"]

MIN_LENGTH = 8
MAX_LENGTH = 1024  # a sanity cap: the KDF hashes the passcode, but a megabyte paste is a mistake

# Lower-cased; only entries of at least MIN_LENGTH characters matter.
_COMMON = frozenset({
    "password", "password1", "password123", "passw0rd", "p@ssw0rd", "p@ssword", "qwertyui", "qwertyuiop",
    "qwerty123", "iloveyou", "sunshine", "princess", "football", "baseball", "welcome1", "trustno1",
    "letmein1", "superman", "starwars", "whatever", "computer", "corvette", "mercedes", "jennifer",
    "michelle", "12341234", "11223344", "1q2w3e4r", "1qaz2wsx", "zaq12wsx", "asdfghjk", "asdfasdf",
    "zxcvbnm1", "00000000", "changeme", "secret123", "abc12345", "1234abcd", "qazwsxedc", "iloveyou1",
    "passcode", "passcode1", "companion", "patient1",
})


def normalise(passcode: str) -> str:
    """The form that is fed to the KDF (NFC)."""
    return unicodedata.normalize("NFC", passcode)


def check_new_passcode(passcode: str) -> None:
    """Refuse a passcode that is too short or trivially guessable, saying why."""
    if not isinstance(passcode, str):
        raise WeakPasscode("the passcode must be text")
    text = normalise(passcode)
    if len(text) < MIN_LENGTH:
        raise WeakPasscode(f"the passcode must have at least {MIN_LENGTH} characters (this one has {len(text)})")
    if len(text) > MAX_LENGTH:
        raise WeakPasscode(f"the passcode must have at most {MAX_LENGTH} characters")
    if not text.strip():
        raise WeakPasscode("the passcode must not be only spaces")
    if len(set(text)) == 1:
        raise WeakPasscode("the passcode must not be one character repeated")
    if _is_straight_run(text.lower()):
        raise WeakPasscode("the passcode must not be a straight run of characters like 12345678 or abcdefgh")
    period = _short_period(text)
    if period:
        raise WeakPasscode(f"the passcode must not be a short pattern repeated ({text[:period]!r} over and over)")
    if text.lower() in _COMMON:
        raise WeakPasscode("that passcode is on the list of the most common passwords; choose another")


def _is_straight_run(text: str) -> bool:
    """``12345678``, ``abcdefgh``, ``98765432``: each character one step from the previous one."""
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(text)}
    return steps in ({1}, {-1})


def _short_period(text: str) -> int:
    """The length (2–4) of a unit that ``text`` just repeats, or 0."""
    for period in (2, 3, 4):
        if len(text) >= 2 * period and all(text[i] == text[i % period] for i in range(len(text))):
            return period
    return 0
