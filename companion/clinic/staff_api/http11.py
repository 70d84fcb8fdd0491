"""The staff client's HTTP/1.1 transport: ``httpx`` above, the standard library's parser below.

    http = httpx.Client(base_url=url, transport=Http11Transport())

Why not ``httpx``'s own transport (``httpcore`` and ``h11``): a PSR's message is on a live change's
path (its commit is what wakes a watching phone), and ``httpcore`` writes the headers and the body
apart, which the server then reads as two events, with ``h11``'s bookkeeping around each. This
transport writes each request as **one** ``sendall`` of the bytes ``httpx`` built and validated
(request line, headers, body) and reads the answer with :class:`http.client.HTTPResponse` (status
line, headers, a ``Content-Length`` or chunked body, whether the server keeps the connection).
Side by side on one server: a staff message 4.07 → 3.77 ms (p50, 50 ms between messages, as the
bench sends them), 1.84 → 1.67 ms back to back.

- **Connections** are kept alive and reused, one request at a time each, a few idle ones per
  address (:data:`MAX_IDLE`); one the server has closed meanwhile (its keep-alive ran out) is found
  readable before reuse and dropped, never written to. An answer not read to its end closes its
  connection (a refused over-long answer leaves nothing behind for the next request).
- **Timeouts** are ``httpx``'s: ``connect`` for the connection, ``read`` (and ``write``) for every
  socket call after it.
- **TLS** verifies the certificate and the host name against the same CA bundle ``httpx`` used
  (``certifi``); ``http://`` reaches only this computer anyway (:mod:`.wire` checks the address).
- **Failures** are ``httpx``'s exceptions (``ConnectError``, ``ConnectTimeout``, ``ReadTimeout``,
  ``RemoteProtocolError`` …), so :func:`.wire.exchange` turns them into the one error tree as before.

Requests are sent as they are: no retry (a POST that may have reached the server is never sent
twice), no proxy (the staff client never used the environment's), no redirects (``httpx`` above
does not follow them for this client).
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
from collections.abc import Iterator

import certifi
import httpx

__all__ = ["MAX_IDLE", "Http11Transport"]

MAX_IDLE = 4  # idle connections kept per address (a desk page's inbox poll and its screen's calls overlap)
CHUNK = 64 * 1024

Address = tuple[str, str, int]


def _timeouts(request: httpx.Request) -> tuple[float | None, float | None]:
    """(connect, read) seconds of ``request`` (``httpx`` puts its ``Timeout`` in the extensions)."""
    timeout = request.extensions.get("timeout", {})
    return timeout.get("connect"), timeout.get("read")


def _request_bytes(request: httpx.Request) -> bytes:
    """The whole request as it goes on the wire: request line, ``httpx``'s headers, body."""
    head = [request.method.encode("ascii") + b" " + request.url.raw_path + b" HTTP/1.1"]
    head += [name + b": " + value for name, value in request.headers.raw]
    return b"\r\n".join(head) + b"\r\n\r\n" + request.read()


class _Body(httpx.SyncByteStream):
    """An answer's body as it is read; the connection goes back to the pool only once it is all read."""

    def __init__(self, transport: Http11Transport, address: Address, connection: http.client.HTTPConnection,
                 response: http.client.HTTPResponse, request: httpx.Request) -> None:
        self.transport, self.address, self.connection = transport, address, connection
        self.response, self.request = response, request
        self.done = False

    def __iter__(self) -> Iterator[bytes]:
        while True:
            try:
                chunk = self.response.read(CHUNK)
            except (OSError, http.client.HTTPException) as exc:
                raise _read_failure(exc, self.request) from None
            if not chunk:
                if self.response.length:  # http.client returns a cut-off Content-Length body as if whole
                    raise httpx.RemoteProtocolError("the answer ended before its end", request=self.request)
                self.done = True
                return
            yield chunk

    def close(self) -> None:
        reusable = self.done and not self.response.will_close
        self.response.close()
        if reusable:
            self.transport.give_back(self.address, self.connection)
        else:
            self.connection.close()


def _read_failure(exc: OSError | http.client.HTTPException, request: httpx.Request) -> httpx.HTTPError:
    """``httpx``'s exception for a failure once the connection is up (sending, or reading the answer)."""
    if isinstance(exc, TimeoutError):
        return httpx.ReadTimeout("no answer in time", request=request)
    if isinstance(exc, http.client.HTTPException):
        return httpx.RemoteProtocolError(_reason(exc), request=request)
    return httpx.ReadError(_reason(exc), request=request)


def _reason(exc: BaseException) -> str:
    """A short technical reason (``connection refused``…), never empty."""
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return (text.splitlines() or [""])[0][:120] or type(exc).__name__


def _closed_meanwhile(connection: http.client.HTTPConnection) -> bool:
    """Whether an idle connection is no good: the server closed it (EOF is readable) or sent unasked bytes."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class Http11Transport(httpx.BaseTransport):
    """See the module docstring. Thread-safe: each request has a connection of its own while it runs."""

    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self._tls = tls
        self._idle: dict[Address, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._closed = False  # closed while a request was out: its connection is closed, not kept

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        address: Address = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        connect_timeout, read_timeout = _timeouts(request)
        connection = self._take(address) or self._connect(address, connect_timeout, request)
        assert connection.sock is not None
        response = http.client.HTTPResponse(connection.sock, method=request.method)
        try:
            connection.sock.settimeout(read_timeout)
            connection.sock.sendall(_request_bytes(request))
            response.begin()
        except BaseException as exc:
            response.close()
            connection.close()
            if isinstance(exc, (OSError, http.client.HTTPException)):
                raise _read_failure(exc, request) from None
            raise
        return httpx.Response(response.status, headers=response.getheaders(),
                              stream=_Body(self, address, connection, response, request),
                              extensions={"http_version": b"HTTP/1.1",
                                          "reason_phrase": response.reason.encode("latin-1", "replace")})

    def _connect(self, address: Address, timeout: float | None, request: httpx.Request) -> http.client.HTTPConnection:
        scheme, host, port = address
        connection: http.client.HTTPConnection
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context(cafile=certifi.where())
            connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=self._tls)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            connection.connect()
            assert connection.sock is not None
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except TimeoutError:
            connection.close()
            raise httpx.ConnectTimeout("no answer in time", request=request) from None
        except OSError as exc:  # refused, unreachable, a certificate that does not verify (ssl.SSLError)
            connection.close()
            raise httpx.ConnectError(_reason(exc), request=request) from None
        return connection

    def _take(self, address: Address) -> http.client.HTTPConnection | None:
        while True:
            with self._lock:
                idle = self._idle.get(address)
                if not idle:
                    return None
                connection = idle.pop()
            if not _closed_meanwhile(connection):
                return connection
            connection.close()

    def give_back(self, address: Address, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(address, [])
            if not self._closed and len(idle) < MAX_IDLE:
                idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle = [c for cs in self._idle.values() for c in cs]
            self._idle.clear()
        for connection in idle:
            connection.close()
