"""The staff client's own HTTP/1.1 transport (``companion.clinic.staff_api.http11``), tried as a
server that misbehaves would try it: connections kept and reused, one the server closed meanwhile
replaced without an error, an answer past the cap leaving nothing behind, a silent server, a broken
status line, chunked answers, TLS that must verify, and many threads on one client."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import trustme

from companion.clinic.staff_api import StaffClient
from companion.clinic.staff_api.http11 import MAX_IDLE, Http11Transport
from companion.core.errors import ProtocolError, ServerUnreachable, StaffApiError
from tests.support.server_harness import ServerProcess
from tests.support.tls_stub import https_stub
from tests.support.waiting import wait_until

ME = json.dumps({"id": "stf_1", "name": "Sam", "role": "psr"}).encode()

# (connection number, request number on it, the request's bytes) -> the answer's bytes, or None to hang up
Script = Callable[[int, int, bytes], "bytes | None"]


def answer(body: bytes = ME, *, status: str = "200 OK") -> bytes:
    return (f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n".encode()
            + body)


class RawServer:
    """A one-thread-per-connection HTTP stand-in on 127.0.0.1 that follows a :data:`Script`."""

    def __init__(self, script: Script, hang_up: bool) -> None:
        self.script, self.hang_up = script, hang_up  # hang_up: close each connection after its first answer
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.accepted = 0
        self.hung_up = 0
        self.requests: list[bytes] = []
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            self.open.append(sock)
            threading.Thread(target=self._serve, args=(sock, self.accepted), daemon=True).start()

    def _serve(self, sock: socket.socket, number: int) -> None:
        with contextlib.suppress(OSError), sock:  # OSError: the client or close() hung up first
            self._answer(sock, number)

    def _answer(self, sock: socket.socket, number: int) -> None:
        buffered, served = b"", 0
        while True:
            while b"\r\n\r\n" not in buffered:
                chunk = sock.recv(65536)
                if not chunk:
                    self.hung_up += 1  # the client closed this connection
                    return
                buffered += chunk
            head, _, rest = buffered.partition(b"\r\n\r\n")
            length = next((int(line.split(b":", 1)[1]) for line in head.lower().split(b"\r\n")
                           if line.startswith(b"content-length:")), 0)
            while len(rest) < length:
                rest += sock.recv(65536)
            request, buffered = head + b"\r\n\r\n" + rest[:length], rest[length:]
            self.requests.append(request)
            served += 1
            reply = self.script(number, served, request)
            if reply is None:
                return
            sock.sendall(reply)
            if self.hang_up:
                return

    def close(self) -> None:
        self.listener.close()
        for sock in self.open:
            sock.close()


@pytest.fixture
def raw_server() -> Iterator[Callable[..., RawServer]]:
    made: list[RawServer] = []

    def make(script: Script, hang_up: bool = False) -> RawServer:
        made.append(RawServer(script, hang_up))
        return made[-1]

    yield make
    for server in made:
        server.close()


def test_connections_are_reused_and_one_the_server_closed_meanwhile_is_replaced(
        raw_server: Callable[..., RawServer]) -> None:
    server = raw_server(lambda conn, n, request: answer())
    with StaffClient(server.url, "cps_token") as api:
        assert api.me()["role"] == "psr"
        assert api.me()["role"] == "psr"
        server.open[0].shutdown(socket.SHUT_RDWR)  # closed while idle, with no "Connection: close"
        assert api.me()["role"] == "psr"
    assert server.accepted == 2 and len(server.requests) == 3
    first = server.requests[0]
    assert first.startswith(b"GET /v1/staff/me HTTP/1.1\r\n") and b"\r\nAuthorization: Bearer cps_token" in first


def test_an_answer_past_the_cap_closes_its_connection_and_the_next_request_is_answered(
        raw_server: Callable[..., RawServer]) -> None:
    big = json.dumps({"id": "x" * 5000}).encode()
    server = raw_server(lambda conn, n, request: answer(big if conn == 1 else ME))
    with StaffClient(server.url, "cps_token", max_answer_bytes=1000) as api:
        with pytest.raises(ProtocolError, match="larger than the 1000 bytes"):
            api.me()
        assert api.me()["role"] == "psr"  # not the unread rest of the long answer
    assert server.accepted == 2


def test_a_server_that_never_answers_is_unreachable_in_time(raw_server: Callable[..., RawServer]) -> None:
    hold = threading.Event()
    server = raw_server(lambda conn, n, request: hold.wait(5) and None)
    with StaffClient(server.url, "cps_token", timeout=0.3) as api, pytest.raises(ServerUnreachable) as refused:
        api.me()
    hold.set()
    assert "no answer in time" in str(refused.value) and "\n" not in str(refused.value)


@pytest.mark.parametrize(("reply", "error"), [
    (b"HTTP/1.1 abc\r\n\r\n", ServerUnreachable), (b"garbage\r\n\r\n", ServerUnreachable),
    (b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n{", ServerUnreachable),  # cut off: never taken as whole
    (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{}", ServerUnreachable),
    (b"HTTP/1.1 200 OK\r\n\r\n", ProtocolError),  # a body up to the hang-up: complete, and empty
])
def test_a_broken_answer_is_one_clear_error(raw_server: Callable[..., RawServer], reply: bytes,
                                             error: type[Exception]) -> None:
    server = raw_server(lambda conn, n, request: reply, hang_up=True)
    with StaffClient(server.url, "cps_token") as api, pytest.raises(error) as refused:
        api.me()
    if error is ServerUnreachable:
        assert f"cannot reach the clinic server at {server.url}" in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_chunked_answer_and_a_refusal_are_read_whole(raw_server: Callable[..., RawServer]) -> None:
    chunked = (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
               + b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (ME[:10], ME[10:]))
               + b"0\r\n\r\n")
    refusal = json.dumps({"error": {"code": "forbidden", "message": "not yours"}}).encode()
    server = raw_server(lambda conn, n, request: chunked if n == 1 else answer(refusal, status="403 Forbidden"))
    with StaffClient(server.url, "cps_token") as api:
        assert api.me()["role"] == "psr"
        with pytest.raises(StaffApiError) as refused:
            api.me()
    assert refused.value.status == 403 and "not yours" in str(refused.value)
    assert server.accepted == 1  # both on one connection: the chunked answer was read to its end


def test_a_connection_out_when_the_client_closes_is_closed_once_its_answer_is_in(
        raw_server: Callable[..., RawServer]) -> None:
    release = threading.Event()
    server = raw_server(lambda conn, n, request: answer() if release.wait(5) else None)
    api = StaffClient(server.url, "cps_token")
    with ThreadPoolExecutor(1) as pool:
        out = pool.submit(api.me)  # a desk page's poll, still out as the page closes
        assert wait_until(lambda: len(server.requests) == 1, 5)
        api.close()
        release.set()
        assert out.result(timeout=5)["role"] == "psr"
    assert wait_until(lambda: server.hung_up == 1, 5)  # not left open in the closed client's pool


def test_tls_is_verified_against_the_ca_bundle_unless_told_which_ca() -> None:
    ca = trustme.CA()
    with https_stub(ca.issue_cert("127.0.0.1")) as url:
        with StaffClient(url, "cps_token") as api, pytest.raises(ServerUnreachable) as refused:
            api.me()  # a certificate of a CA nobody trusts
        assert "certificate" in str(refused.value).lower() and "\n" not in str(refused.value)
        context = ssl.create_default_context()
        ca.configure_trust(context)  # the clinic's own CA, as a desk's machine would be told
        with (StaffClient(url, "cps_token", transport=Http11Transport(tls=context)) as api,
              pytest.raises(StaffApiError) as answered):
            api.me()  # the stub knows no staff paths: its 404 came over verified TLS
        assert answered.value.status == 404


def test_many_threads_share_one_client(desk_server: ServerProcess) -> None:
    transport = Http11Transport()
    with StaffClient(desk_server.base_url, desk_server.tokens["psr"], transport=transport) as api:
        with ThreadPoolExecutor(8) as pool:
            roles = list(pool.map(lambda _: api.me()["role"], range(80)))
        assert roles == ["psr"] * 80
        assert all(len(idle) <= MAX_IDLE for idle in transport._idle.values())
