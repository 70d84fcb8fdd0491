"""Anonymous partner notices, as both sides read them (stdlib only).

A patient who tested positive (or anyone, at any time) tells partners without revealing who they
are: the app makes one random code per partner (:func:`new_code`, offline too) and queues the
mutation ``partner.notify`` (``infection``, ``codes``, and the ``result_id`` it came from, if
any); the server keeps only a hash of each code, the infection and an expiry — no patient, no
result, no visit — plus a count of notices per result. The patient shares each link
(:func:`notice_path` on the clinic's server) from the phone's own share sheet; the server sends
nothing and stores no partner contact. Whoever opens the link sees a neutral page about
:data:`INFECTIONS` ``[infection]`` and can book a fast-track visit without an account.

    codes = [new_code() for _ in range(2)]       # "K7QM-4ZTD-9WXP"
    notice_path(codes[0])                        # "/n/K7QM4ZTD9WXP"
    infection_for_test("Chlamydia trachomatis NAAT")  # "chlamydia" (the positive result's prefill)
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from .errors import RecordError

__all__ = ["CODE_ALPHABET", "CODE_LENGTH", "INFECTIONS", "MAX_PARTNERS", "NOTICE_DAYS", "NOTICE_PREFIX", "Infection",
           "check_code", "code_hash", "infection_for_test", "new_code", "notice_path", "normalise_code"]

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U: read aloud or retyped without mistakes
CODE_LENGTH = 12  # 30^12 ≈ 5·10^17: hopeless to guess, even without the page's rate limit
MAX_PARTNERS = 10
NOTICE_DAYS = 30  # a link works this long (the window of the longest test is within it)
NOTICE_PREFIX = "apn"  # the id prefix of a visit booked from a notice (the desk marks it; linked to nobody)


@dataclass(frozen=True, slots=True)
class Infection:
    key: str
    name: str  # what the partner reads: "chlamydia"
    test: str  # what to test for
    why: str  # why it matters, in one or two plain sentences


INFECTIONS: dict[str, Infection] = {i.key: i for i in (
    Infection("chlamydia", "chlamydia", "a chlamydia test (a urine sample or a swab)",
              "Chlamydia often has no symptoms, and it is easily treated. Left untreated it can cause pain and "
              "affect fertility."),
    Infection("gonorrhoea", "gonorrhoea", "a gonorrhoea test (a urine sample or swabs)",
              "Gonorrhoea often has no symptoms. It is treated with an injection or tablets; untreated it can "
              "cause lasting harm."),
    Infection("syphilis", "syphilis", "a syphilis blood test",
              "Syphilis can pass without you noticing. It is treated with antibiotics; untreated it can cause "
              "serious problems years later."),
    Infection("hiv", "HIV", "an HIV test (a finger-prick or blood test)",
              "Knowing early matters: treatment keeps people well and stops HIV being passed on. If the contact "
              "was in the last 72 hours, ask about PEP straight away."),
    Infection("trichomoniasis", "trichomoniasis", "a trichomoniasis test (a urine sample or a swab)",
              "Trichomoniasis is common, often has no symptoms, and is treated with tablets."),
    Infection("mgen", "Mycoplasma genitalium", "a Mycoplasma genitalium test (a urine sample or a swab)",
              "It often has no symptoms and is treated with antibiotics."),
    Infection("hepatitis_b", "hepatitis B", "a hepatitis B blood test",
              "Hepatitis B can be prevented with a vaccine and treated if found; a test tells you which you need."),
)}
_TEST_WORDS = {"chlamydia": "chlamydia", "gonorr": "gonorrhoea", "syphilis": "syphilis", "treponema": "syphilis",
               "hiv": "hiv", "trichomon": "trichomoniasis", "mycoplasma": "mgen", "hepatitis b": "hepatitis_b",
               "hbsag": "hepatitis_b"}


def infection_for_test(test_name: str) -> str | None:
    """The infection a result's test is about (to prefill the choice), or ``None``."""
    name = test_name.lower()
    return next((key for word, key in _TEST_WORDS.items() if word in name), None)


def new_code() -> str:
    """A fresh random code, grouped for reading: ``K7QM-4ZTD-9WXP``."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(text: str) -> str | None:
    """The code's characters without separators, upper-case; ``None`` when it cannot be a code."""
    raw = "".join(ch for ch in text.strip().upper() if ch not in "- ")
    if len(raw) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in raw):
        return None
    return raw


def check_code(value: object, path: str) -> str:
    """A code as sent in a mutation (normalised), or RecordError naming ``path``."""
    raw = normalise_code(value) if isinstance(value, str) and len(value) <= 40 else None
    if raw is None:
        raise RecordError(path, f"expected a notice code of {CODE_LENGTH} letters and digits")
    return raw


def code_hash(raw: str) -> str:
    """What the server keeps of a (normalised) code."""
    return hashlib.sha256(f"companion-notice:{raw}".encode("ascii")).hexdigest()


def notice_path(code: str) -> str:
    """The public page of a code on the clinic's server: ``/n/<code without separators>``."""
    return f"/n/{normalise_code(code) or code}"
