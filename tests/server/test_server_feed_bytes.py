"""Pull pages are limited by bytes as well as by count, against the real server (both backends).

The attack: a clinic (or a stolen staff token) publishes a few huge articles; every device pulls
the clinic-wide feed, and a page of them larger than the app accepts (``MAX_RESPONSE_BYTES``)
would stop every device from ever syncing again. Articles are capped (20,000 characters), any
record is capped as sent (``MAX_RECORD_BYTES``), and a page stops growing at ``PAGE_BYTES``.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from companion.core.errors import RecordError
from companion.core.fields import utcnow
from companion.core.models import Article
from companion.core.protocol import MAX_RECORD_BYTES, MAX_RESPONSE_BYTES, PAGE_BYTES, parse_pull_response
from tests.fixtures.server import BACKENDS
from tests.support.server_harness import ServerProcess

ENVELOPE = 200  # '{"changes":[…],"cursor":"…","has_more":…}' around the changes
WIDE = "\N{GRINNING FACE}"  # one character, 12 bytes as sent ("\ud83d\ude00")


def _feed_rows(server: ServerProcess) -> int:
    engine = sa.create_engine(server.db_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM changes")).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_huge_articles_are_refused_with_the_limit_named(server_factory: Any, backend: str) -> None:
    server = server_factory(backend)
    before = _feed_rows(server)
    for _ in range(8):
        answer = server.staff.request("POST", "/v1/staff/articles", json={"title": "Huge", "body": "x" * 100_000})
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["code"] == "invalid_request" and "20000 characters" in error["message"], error
    assert _feed_rows(server) == before  # nothing was written
    assert server.staff.request("GET", "/v1/staff/articles").json()["articles"] == []
    # the limit is documented where API users look
    spec = server.staff.request("GET", "/openapi.json").json()
    assert "at most 20,000" in spec["paths"]["/v1/staff/articles"]["post"]["description"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_device_syncs_fully_through_many_large_records(server_factory: Any, backend: str) -> None:
    server = server_factory(backend)
    pid = server.staff.add_patient("Reader")["id"]
    published = {server.staff.add_article(title=f"Long read {n}", body=WIDE * 20_000)["id"] for n in range(30)}
    mine = {server.staff.send_message(pid, f"note {n}")["id"] for n in range(5)}
    device = server.pair_device(pid)
    sizes, got, cursor = [], [], None
    with server.device_client(device["token"]) as http:
        while True:
            params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
            response = http.get("/v1/sync", params=params)
            assert response.status_code == 200, response.text[:300]
            sizes.append(len(response.content))
            page = response.json()
            parse_pull_response(page)  # the app's own parser accepts every page
            got.extend(page["changes"])
            cursor = page["cursor"]
            if not page["has_more"]:
                break
    print(f"page sizes (bytes): {sizes}")
    assert {c["id"] for c in got if c["kind"] == "article"} == published
    assert mine <= {c["id"] for c in got if c["kind"] == "message"}
    assert len(sizes) >= 4  # 30 articles of ~240 KB: split by bytes, not by the 500 count
    assert all(size <= PAGE_BYTES + ENVELOPE for size in sizes), sizes
    assert max(sizes) < MAX_RESPONSE_BYTES
    seqs = [c["seq"] for c in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)  # nothing skipped or repeated


def test_a_record_too_large_to_send_is_refused_and_nothing_is_written(tmp_path: Any) -> None:
    from companion.clinic.server.changes import CLINIC_SCOPE, publish
    from companion.clinic.server.database import Database

    db = Database(f"sqlite:///{tmp_path / 'clinic.db'}", pool_size=1)
    try:
        db.init_schema()
        huge = Article(id="art_huge000001", title="Huge", body=WIDE * 100_000, published_at=utcnow())
        with pytest.raises(RecordError) as caught, db.write() as tx:
            publish(tx, CLINIC_SCOPE, huge)
        assert f"the limit is {MAX_RECORD_BYTES} bytes" in str(caught.value)
        with db.read() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM changes")).scalar_one() == 0
    finally:
        db.dispose()
