"""A minimal Flet websocket client for attack tests: connect as a browser would, register, read the answer.

Flet's wire format: each binary frame is ``0x00`` + msgpack ``[action, body]``; the first thing a
client sends is ``REGISTER_CLIENT`` (action 1) with the session id it remembers (empty when new),
and the server answers with the session id it uses. That is all these tests need to show whether
a connection was refused, got a new session, or resumed an old one.
"""

from __future__ import annotations

from typing import Any

import httpx
import msgpack
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

REGISTER_CLIENT = 1


def page_cookies(page_url: str) -> dict[str, str]:
    """The cookies a browser gets by loading ``page_url`` (following the app's key redirect)."""
    with httpx.Client(follow_redirects=True, timeout=10.0) as client:
        answer = client.get(page_url)
        answer.raise_for_status()
        return dict(client.cookies.items())


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def open_socket(ws_url: str, *, origin: str | None, cookies: dict[str, str] | None = None,
                host: str | None = None, headers: dict[str, str] | None = None) -> ClientConnection:
    """A websocket opened with the given Origin and cookies; raises :class:`Refused` on a refused handshake."""
    headers = dict(headers or {})
    if cookies:
        headers["Cookie"] = cookie_header(cookies)
    if host:
        headers["Host"] = host
    try:
        return connect(ws_url, origin=origin, additional_headers=headers,  # type: ignore[arg-type]
                       open_timeout=10, close_timeout=2)
    except InvalidStatus as exc:
        raise Refused(exc.response.status_code) from None


class Refused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"handshake refused with HTTP {status}")
        self.status = status


def register(sock: ClientConnection, session_id: str = "") -> str:
    """Register as Flet's client does; the session id the server answers with."""
    body = {"session_id": session_id, "page_name": "", "page": {"route": "/", "width": 1280.0, "height": 800.0}}
    sock.send(b"\x00" + msgpack.packb([REGISTER_CLIENT, body]))
    while True:
        frame = sock.recv(timeout=15)
        assert isinstance(frame, bytes) and frame[:1] == b"\x00", frame[:20]
        action, answer = msgpack.unpackb(frame[1:], strict_map_key=False)
        if action == REGISTER_CLIENT:
            sid: Any = answer["session_id"] if isinstance(answer, dict) else answer[0]
            return str(sid)


def drain(sock: ClientConnection, seconds: float = 1.0) -> list[bytes]:
    """Frames that arrive within ``seconds`` (what the server rendered for this connection)."""
    frames: list[bytes] = []
    try:
        while True:
            frame = sock.recv(timeout=seconds)
            if isinstance(frame, bytes):
                frames.append(frame)
    except TimeoutError:
        return frames
