"""An answer's headers and body leave the clinic server in one write (``one_write.JoinedWrites``), in order.

The raw transport here is a recording stand-in for the socket (asyncio's, not ours); the real server,
which runs every connection through :class:`~companion.clinic.server.one_write.OneWriteHTTP`, is
exercised by the rest of the suite (long polls, the desk's websockets, exports).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from companion.clinic.server.one_write import JoinedWrites
from tests.fixtures.flet_session import run_isolated


class Socket(asyncio.Transport):
    """What reached the wire, write by write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.events: list[str] = []
        self.closing = False

    def write(self, data: Any) -> None:
        assert not self.closing, "written after close"
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.events.append("close")
        self.closing = True

    def abort(self) -> None:
        self.events.append("abort")
        self.closing = True

    def write_eof(self) -> None:
        self.events.append("eof")

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0


async def _turn() -> None:
    await asyncio.sleep(0)  # the loop runs what was scheduled with call_soon


def test_headers_and_body_written_in_one_turn_are_one_write() -> None:
    async def scenario() -> None:
        raw = Socket()
        joined = JoinedWrites(raw, asyncio.get_running_loop())
        joined.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        assert raw.writes == []  # held: the client is not woken for the headers alone
        joined.write(b"{}")
        assert raw.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
        await _turn()
        assert len(raw.writes) == 1

    run_isolated(scenario())  # a loop of its own: the browser tests leave Playwright's set on this thread


def test_a_lone_write_goes_out_at_the_end_of_the_turn_and_order_is_kept_across_turns() -> None:
    async def scenario() -> None:
        raw = Socket()
        joined = JoinedWrites(raw, asyncio.get_running_loop())
        joined.write(b"head")  # a streamed answer: its body comes in a later turn
        assert joined.get_write_buffer_size() == 4
        await _turn()
        assert raw.writes == [b"head"]
        joined.write(b"chunk 1")
        joined.writelines([b"chunk ", b"2"])
        joined.write(b"chunk 3")
        await _turn()
        assert b"".join(raw.writes) == b"headchunk 1chunk 2chunk 3"
        assert raw.writes[1] == b"chunk 1chunk 2"  # pairs joined, nothing reordered
        joined.write(b"")  # nothing to send: nothing held, nothing scheduled
        await _turn()
        assert len(raw.writes) == 3

    run_isolated(scenario())  # a loop of its own: the browser tests leave Playwright's set on this thread


def test_close_and_eof_send_what_is_held_first_and_abort_drops_it() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        raw = Socket()
        joined = JoinedWrites(raw, loop)
        joined.write(b"last answer")
        joined.write_eof()
        joined.close()
        assert raw.writes == [b"last answer"] and raw.events == ["eof", "close"]
        await _turn()  # the scheduled flush finds the connection closed: nothing written after close
        assert raw.writes == [b"last answer"]

        aborted = Socket()
        joined = JoinedWrites(aborted, loop)
        joined.write(b"never sent")
        joined.abort()
        await _turn()
        assert aborted.writes == [] and aborted.events == ["abort"]

    run_isolated(scenario())  # a loop of its own: the browser tests leave Playwright's set on this thread


@pytest.mark.parametrize("path", ["/healthz", "/openapi.json"])  # a small answer, a large gzipped one
def test_the_real_server_answers_whole_through_it_on_one_connection(server: Any, path: str) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        answers = [client.get(path) for _ in range(5)]  # keep-alive: every answer whole, in order
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1 and answers[0].content
