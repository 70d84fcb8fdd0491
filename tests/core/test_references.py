"""Payment references: short, deterministic, unambiguous, and read back as a person types them."""

from __future__ import annotations

import re

from companion.core.references import ALPHABET, bill_reference, normalise_reference


def test_a_reference_is_short_stable_and_has_no_ambiguous_characters() -> None:
    ref = bill_reference("bil_3f9k2mq8z0x1ab")
    assert ref == bill_reference("bil_3f9k2mq8z0x1ab")  # the app and the server compute the same
    assert re.fullmatch(r"BIL-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", ref)
    assert not set("ILOU") & set(ALPHABET)
    assert bill_reference("bil_3f9k2mq8z0x1ac") != ref


def test_references_of_many_bills_differ() -> None:
    refs = {bill_reference(f"bil_{n:014d}") for n in range(20_000)}
    assert len(refs) == 20_000


def test_a_typed_reference_reads_back_in_its_canonical_spelling() -> None:
    ref = bill_reference("bil_example000001")
    assert normalise_reference(ref) == ref
    assert normalise_reference(ref.lower().replace("-", " ")) == ref
    assert normalise_reference(ref[4:]) == ref  # without the prefix
    spelt = ref.replace("0", "O").replace("1", "l")
    assert normalise_reference(spelt) == ref  # O read as 0, I and L as 1
    for junk in ("", "BIL-", "BIL-1234", "BIL-1234-12345", "BIL-UUUU-UUUU", "💸💸💸💸-💸💸💸💸"):
        assert normalise_reference(junk) is None
