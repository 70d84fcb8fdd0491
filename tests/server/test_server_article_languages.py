"""A clinic article can carry its Spanish version: staff publish both, every device gets both (the
app shows the one of its language), and a version that is malformed, oversized or in too many
languages is refused with one line (real server, both backends)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from companion.core.errors import RecordError
from companion.core.models import Article, parse_record
from tests.server.test_server_feed import _paired
from tests.support.server_harness import ServerProcess, pull_all

SPANISH = {"es": {"title": "Periodos de ventana",
                  "body": "# Periodos de ventana\n\nCuándo una prueba ve una infección."}}


def test_a_published_spanish_version_reaches_every_device(server: ServerProcess) -> None:
    _patient, http = _paired(server)
    article = server.staff.add_article(title="Window periods", body="# Window periods", translations=SPANISH)
    plain = server.staff.add_article(title="Costs", body="What things cost")
    assert article["translations"] == SPANISH and "translations" not in plain  # staff read back what they wrote
    with http:
        changes, _ = pull_all(http)
    got = {c["id"]: parse_record(c["kind"], c["data"]) for c in changes if c["kind"] == "article"}
    spanish, english = got[article["id"]], got[plain["id"]]
    assert isinstance(spanish, Article) and isinstance(english, Article)
    assert spanish.in_language("es") == ("Periodos de ventana", SPANISH["es"]["body"])
    assert spanish.in_language("en") == ("Window periods", "# Window periods")
    assert english.in_language("es") == ("Costs", "What things cost")  # no Spanish version: as written


@pytest.mark.parametrize(("translations", "field"), [
    ({"ES": SPANISH["es"]}, "translations.ES"),
    ({"español": SPANISH["es"]}, "translations.español"),
    ({"es": {"title": "Solo un título"}}, "translations.es.body"),
    ({"es": {"title": " ", "body": "x"}}, "translations.es.title"),
    ({"es": {"title": "t", "body": "x" * 20_001}}, "translations.es.body"),
    ({"es": {**SPANISH["es"], "extra": "x"}}, "translations.es.extra"),
    ({"es": SPANISH["es"], "fr": SPANISH["es"], "de": SPANISH["es"]}, "translations"),
    ({"es": "not an object"}, "translations.es"),
])
def test_a_malformed_version_is_refused_in_one_line(server: ServerProcess, translations: object, field: str) -> None:
    answer = server.staff.request("POST", "/v1/staff/articles",
                                  json={"title": "Window periods", "body": "# Window periods",
                                        "translations": translations})
    assert answer.status_code == 422, answer.text
    message = answer.json()["error"]["message"]
    assert "\n" not in message and field.split(".")[0] in message, message


def test_a_device_refuses_a_version_that_is_not_a_language() -> None:
    data = {"id": "art_1", "title": "t", "body": "b", "published_at": datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
            "translations": {"EN!": {"title": "x", "body": "y"}}}
    with pytest.raises(RecordError, match="not a language code"):
        Article.from_dict(data)
    data["translations"] = {f"l{c}a": {"title": "x", "body": "y"} for c in "abcdef"}
    with pytest.raises(RecordError, match="at most 5 languages"):
        Article.from_dict(data)
