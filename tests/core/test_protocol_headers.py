"""The vault generation header, read one way by the server and the app (rollback check)."""

from __future__ import annotations

from companion.core.protocol import MAX_GENERATION, parse_generation


def test_a_generation_is_ascii_digits_within_the_limit() -> None:
    assert parse_generation("0") == 0 and parse_generation(str(MAX_GENERATION)) == MAX_GENERATION
    # a header read as latin-1 can carry digits int() refuses ('²') or that are not ASCII ('٣')
    for bad in (None, "", "-1", "1.5", " 7", "²", "٣", str(MAX_GENERATION + 1), "9" * 20):
        assert parse_generation(bad) is None, bad
