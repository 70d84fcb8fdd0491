"""A hostile or broken server: every malformed answer is refused with a CompanionError, vault unchanged.

The server here is an ``httpx.MockTransport`` standing in for a hostile server
(not for our code). Over 1,000 answers: hypothesis-generated corruptions of pull
pages (500), push answers (300) and raw bodies/statuses (200), plus hand-written
cases. At the phase level (``pull_changes``/``push_outbox``, the code that
applies server data) the vault files must stay byte-for-byte identical; through
``synchronize`` every record, the outbox and the sync keys stay identical and
only the status says "error" in one line.
"""

from __future__ import annotations

import gzip
import itertools
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from companion.core.errors import CompanionError, ProtocolError, SyncError
from companion.core.protocol import MAX_RESPONSE_BYTES, parse_pull_response
from companion.sync.client import queue_mutation, synchronize
from companion.sync.page_apply import apply_page
from companion.sync.pull import pull_changes
from companion.sync.push import push_outbox
from companion.sync.retry import RetryPolicy
from companion.vault import Vault
from tests.fixtures.sync import fake_pairing, new_vault, vault_bytes, vault_snapshot
from tests.support.hostile_answers import (
    RECORDS,
    corrupt_page,
    corrupt_push_answer,
    encode,
    raw_bodies,
    valid_page,
)

ONCE = RetryPolicy.once()
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
                    derandomize=True)


class Hostile:
    """A mock server whose next answer the test sets; counts requests."""

    def __init__(self) -> None:
        self.answer: Callable[[httpx.Request], httpx.Response] = lambda r: httpx.Response(500)
        self.requests = 0
        self.client = httpx.Client(base_url="http://127.0.0.1:9", transport=httpx.MockTransport(self._handle))

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return self.answer(request)

    def reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.answer = lambda r: httpx.Response(status, content=body, headers=headers or {})


def _seed(folder: Path, *, queued: bool) -> Vault:
    vault = new_vault(folder)
    fake_pairing(vault)
    apply_page(vault, parse_pull_response(valid_page(list(RECORDS))))
    if queued:
        queue_mutation(vault, "message.send", {"body": "private words", "thread": "general"})
        queue_mutation(vault, "prep.done", {"prep_id": "prep_1"})
        queue_mutation(vault, "result.ack", {"result_id": "res_1"})
    return vault


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[tuple[Vault, Path]]:
    """A paired vault with one record of each kind, a cursor, and three queued commands."""
    vault = _seed(tmp_path / "vault", queued=True)
    try:
        yield vault, tmp_path / "vault"
    finally:
        vault.close()


@pytest.fixture
def synced(tmp_path: Path) -> Iterator[Vault]:
    """The same without queued commands: a sync only pulls."""
    vault = _seed(tmp_path / "vault", queued=False)
    try:
        yield vault
    finally:
        vault.close()


def _refused(run: Callable[[], Any]) -> CompanionError:
    try:
        run()
    except CompanionError as exc:
        assert "\n" not in str(exc)
        return exc
    raise AssertionError("a malformed answer was accepted")


@settings(SETTINGS, max_examples=500)
@given(page=corrupt_page())
def test_generated_malformed_pages_change_nothing(seeded: tuple[Vault, Path], page: Any) -> None:
    vault, folder = seeded
    hostile = Hostile()
    hostile.reply(200, encode(page), {"content-type": "application/json"})
    before = vault_bytes(folder)
    exc = _refused(lambda: pull_changes(vault, hostile.client, "tok", policy=ONCE))
    assert isinstance(exc, ProtocolError), exc
    assert vault_bytes(folder) == before


@settings(SETTINGS, max_examples=300)
@given(data=st.data())
def test_generated_malformed_push_answers_change_nothing(seeded: tuple[Vault, Path], data: st.DataObject) -> None:
    vault, folder = seeded
    sent = [e.id for e in vault.outbox.all()]
    answer = data.draw(corrupt_push_answer(sent))
    hostile = Hostile()
    hostile.reply(200, encode(answer))
    before = vault_bytes(folder)
    exc = _refused(lambda: push_outbox(vault, hostile.client, "tok", policy=ONCE))
    assert isinstance(exc, ProtocolError), exc
    assert vault_bytes(folder) == before


# Statuses whose meaning is legitimate and changes the vault on purpose are left out:
# 401 device_revoked (wipes clinic data) and 410 cursor_expired (starts a resync).
error_statuses = st.integers(300, 599).filter(lambda s: not 200 <= s < 300)


@settings(SETTINGS, max_examples=200)
@given(status=st.one_of(st.just(200), error_statuses), body=raw_bodies())
def test_generated_raw_bodies_and_statuses_through_synchronize(synced: Vault, status: int, body: bytes) -> None:
    vault = synced
    before = vault_snapshot(vault)
    hostile = Hostile()
    hostile.reply(status, body)
    exc = _refused(lambda: synchronize(vault, hostile.client, policy=ONCE))
    assert isinstance(exc, SyncError)
    assert vault_snapshot(vault) == before
    assert vault.meta.get("status.state") in ("error", "offline")
    assert "\n" not in vault.meta.get("status.last_error")


def _page_bytes(**over: Any) -> bytes:
    page = valid_page(["message"])
    page.update(over)
    return encode(page)


HAND_WRITTEN: list[tuple[str, int, bytes, dict[str, str]]] = [
    ("empty body", 200, b"", {}),
    ("null", 200, b"null", {}),
    ("html", 200, b"<html><body>Welcome to the captive portal</body></html>", {"content-type": "text/html"}),
    ("json string", 200, b'"ok"', {}),
    ("json array", 200, b"[]", {}),
    ("nan", 200, b'{"changes": [], "cursor": NaN, "has_more": false}', {}),
    ("huge int", 200, b'{"changes": [], "cursor": "c", "has_more": false, "n": ' + b"9" * 5000 + b"}", {}),
    ("deep", 200, b"[" * 100_000, {}),
    ("dup keys wrong", 200, b'{"changes": [], "cursor": "c", "has_more": false, "has_more": "no"}', {}),
    ("cursor empty", 200, _page_bytes(cursor=""), {}),
    ("cursor huge", 200, _page_bytes(cursor="c" * 201), {}),
    ("changes dict", 200, _page_bytes(changes={}), {}),
    ("has_more string", 200, _page_bytes(has_more="false"), {}),
    ("bad gzip", 200, b"\x1f\x8b\x08\x00garbage", {"content-encoding": "gzip"}),
    ("declared too big", 200, b"{}", {"content-length": str(MAX_RESPONSE_BYTES + 1)}),
    ("utf16", 200, '{"changes": [], "cursor": "c", "has_more": false}'.encode("utf-16"), {}),
    ("500 html", 500, b"<h1>oops</h1>", {}),
    ("502 empty", 502, b"", {}),
    ("503 retry", 503, b"{}", {"retry-after": "1"}),
    ("429", 429, b'{"error": {"code": "rate_limited", "message": "slow down"}}', {"retry-after": "abc"}),
    ("401 other", 401, b'{"error": {"code": "unauthorized", "message": "who?"}}', {}),
    ("401 junk", 401, b"junk", {}),
    ("403", 403, b'{"error": {"code": "forbidden", "message": "no"}}', {}),
    ("404", 404, b'{"error": "not a dict"}', {}),
    ("301 to http", 301, b"", {"location": "http://evil.example/v1/sync"}),
    ("302 to other", 302, b"", {"location": "https://evil.example/"}),
    ("410 other code", 410, b'{"error": {"code": "gone", "message": "gone"}}', {}),
    ("426 junk", 426, b"\x00\x01", {}),
    ("418", 418, b'{"error": {"code": "teapot", "message": "' + b"x" * 100_000 + b'"}}', {}),
    ("error msg multiline", 409, b'{"error": {"code": "c", "message": "line1\\nline2"}}', {}),
]


@pytest.mark.parametrize("name,status,body,headers", HAND_WRITTEN, ids=[c[0] for c in HAND_WRITTEN])
def test_hand_written_hostile_pull_answers(seeded: tuple[Vault, Path], name: str, status: int, body: bytes,
                                           headers: dict[str, str]) -> None:
    vault, folder = seeded
    hostile = Hostile()
    hostile.reply(status, body, headers)
    before = vault_bytes(folder)
    _refused(lambda: pull_changes(vault, hostile.client, "tok", policy=ONCE))
    assert vault_bytes(folder) == before


def test_an_endless_body_is_cut_at_the_cap(seeded: tuple[Vault, Path]) -> None:
    vault, folder = seeded
    served = itertools.count()

    def endless() -> Iterator[bytes]:
        yield b'{"changes": ['
        while True:
            next(served)
            yield b'{"seq": 1, "kind": "message", "id": "m", "op": "delete", "data": null},' * 1000

    hostile = Hostile()
    hostile.answer = lambda r: httpx.Response(200, content=endless())
    before = vault_bytes(folder)
    exc = _refused(lambda: pull_changes(vault, hostile.client, "tok", policy=ONCE))
    assert isinstance(exc, ProtocolError) and "bytes" in str(exc)
    chunk = 71 * 1000
    assert next(served) * chunk < MAX_RESPONSE_BYTES + 2 * chunk  # stopped reading right after the cap
    assert vault_bytes(folder) == before


def test_a_valid_answer_after_hostile_ones_still_applies(seeded: tuple[Vault, Path]) -> None:
    """The refusals left nothing half-done: a good page then applies normally."""
    vault, _ = seeded
    hostile = Hostile()
    hostile.reply(200, b"junk")
    _refused(lambda: pull_changes(vault, hostile.client, "tok", policy=ONCE))
    good = dict(RECORDS["message"], id="msg_2", body="later")
    page = {"changes": [{"seq": 9, "kind": "message", "id": "msg_2", "op": "upsert", "data": good}],
            "cursor": "c-9", "has_more": False}
    hostile.reply(200, encode(page))
    pull_changes(vault, hostile.client, "tok", policy=ONCE)
    assert vault.messages.get("msg_2") is not None and vault.meta.get("sync.cursor") == "c-9"


def test_a_malformed_later_page_leaves_the_pages_before_it(seeded: tuple[Vault, Path]) -> None:
    """Page k+1 is validated while page k is written: a bad third page still leaves exactly the first
    two pages and the second's cursor (not a change of the third), and the pull resumes from there."""
    vault, _ = seeded
    hostile, asked = Hostile(), []

    def message(n: int) -> dict[str, Any]:
        data = dict(RECORDS["message"], id=f"msg_p{n}", body=f"page {n}")
        return {"seq": 100 + n, "kind": "message", "id": data["id"], "op": "upsert", "data": data}

    def answer(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        asked.append(cursor)
        n = {"c1": 1, "c-p1": 2, "c-p2": 3}[cursor or "c1"]
        page: dict[str, Any] = {"changes": [message(n)], "cursor": f"c-p{n}", "has_more": n < 3}
        if n == 3 and len([c for c in asked if c == "c-p2"]) == 1:
            page["changes"][0]["data"]["sent_at"] = "yesterday"
        return httpx.Response(200, content=encode(page))

    hostile.answer = answer
    vault.meta.set("sync.cursor", "c1")
    _refused(lambda: pull_changes(vault, hostile.client, "tok", policy=ONCE))
    assert vault.messages.get("msg_p1") is not None and vault.messages.get("msg_p2") is not None
    assert vault.messages.get("msg_p3") is None and vault.meta.get("sync.cursor") == "c-p2"
    pull_changes(vault, hostile.client, "tok", policy=ONCE)
    assert asked == ["c1", "c-p1", "c-p2", "c-p2"]
    assert vault.messages.get("msg_p3") is not None and vault.meta.get("sync.cursor") == "c-p3"


def _gzip_bomb(plain_mb: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * (1024 * 1024)
    return b"".join([packer.compress(b'{"changes": [')] + [packer.compress(block) for _ in range(plain_mb)]
                    + [packer.flush()])


def test_a_gzip_bomb_is_cut_at_the_cap_in_decompressed_bytes(seeded: tuple[Vault, Path]) -> None:
    """~128 KB on the wire inflating to 128 MB in ONE network chunk: refused without ever holding
    much more than the cap in memory (httpx alone would inflate the whole chunk first)."""
    vault, folder = seeded
    bomb = _gzip_bomb(128)
    assert len(bomb) < MAX_RESPONSE_BYTES // 32
    hostile = Hostile()
    hostile.answer = lambda r: httpx.Response(200, content=iter([bomb]),  # one chunk: the worst case
                                              headers={"Content-Encoding": "gzip"})
    before = vault_bytes(folder)
    tracemalloc.start()
    try:
        exc = _refused(lambda: pull_changes(vault, hostile.client, "tok", policy=ONCE))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(exc, ProtocolError) and f"{MAX_RESPONSE_BYTES} bytes" in str(exc)
    assert peak < 3 * MAX_RESPONSE_BYTES, f"peak {peak / 2**20:.0f} MiB while refusing"
    assert vault_bytes(folder) == before


def test_a_gzipped_page_applies_and_broken_gzip_is_refused(seeded: tuple[Vault, Path]) -> None:
    """Streamed like a real network answer (so the client's own inflater runs, not httpx's)."""
    vault, folder = seeded
    good = dict(RECORDS["message"], id="msg_z", body="compressed")
    page = {"changes": [{"seq": 9, "kind": "message", "id": "msg_z", "op": "upsert", "data": good}],
            "cursor": "c-9", "has_more": False}
    hostile = Hostile()

    def stream(body: bytes, encoding: str = "gzip") -> None:
        chunks = [body[i:i + 7] for i in range(0, len(body), 7)]
        hostile.answer = lambda r: httpx.Response(200, content=iter(chunks), headers={"Content-Encoding": encoding})

    before = vault_bytes(folder)
    for broken in (gzip.compress(encode(page))[:-9], b"not gzip at all", gzip.compress(b"{}")):
        stream(broken)
        _refused(lambda: pull_changes(vault, hostile.client, "tok", policy=ONCE))
    stream(encode(page), "br")
    _refused(lambda: pull_changes(vault, hostile.client, "tok", policy=ONCE))
    assert vault_bytes(folder) == before
    stream(gzip.compress(encode(page)))
    pull_changes(vault, hostile.client, "tok", policy=ONCE)
    assert vault.messages.get("msg_z") is not None and vault.meta.get("sync.cursor") == "c-9"
