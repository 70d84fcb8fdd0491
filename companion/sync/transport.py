"""The HTTP boundary of the sync client: build a safe ``httpx.Client``, send one request.

:func:`build_client` is the only place an ``httpx.Client`` for the clinic is
made (the composition root calls it; the engine receives the client). It
refuses plain ``http://`` except to loopback addresses, never turns certificate
checks off, and with a pinned CA trusts *only* that CA (not the system store).

:func:`send_json` is the only place a request is sent: it adds the protocol
header and the bearer token, caps the response size while streaming (a
hostile or broken server cannot make the app buffer gigabytes), decodes JSON,
inflates gzip itself (the only encoding the client asks for) so that the cap
counts decompressed bytes and a zip bomb is stopped within the cap, not after
httpx has inflated a whole network chunk (up to ~1000x its size),
and converts every library failure and every non-2xx answer into the
:mod:`companion.core.errors` tree — so nothing above this module sees ``httpx``,
``ssl`` or ``json`` exceptions:

    connect/read/write failure, truncated body  -> ServerUnreachable (retried)
    certificate or TLS failure                   -> InsecureServer   (never retried)
    5xx                                          -> ServerFailed     (retried)
    429                                          -> RateLimited      (retried after Retry-After)
    401 device_revoked                           -> DeviceRevoked
    410 cursor_expired                           -> CursorExpired    (resync from scratch)
    426                                          -> UpgradeRequired
    other 4xx                                    -> RequestRejected
    2xx that is not a JSON document within limits -> ProtocolError
"""

from __future__ import annotations

import json
import ssl
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ..core.errors import (
    CursorExpired,
    DeviceRevoked,
    InsecureServer,
    ProtocolError,
    RateLimited,
    Refused,
    RequestRejected,
    ServerFailed,
    ServerUnreachable,
    UpgradeRequired,
)
from ..core.protocol import (
    MAX_REQUEST_BYTES,
    MAX_RESPONSE_BYTES,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    check_server_url,
    error_of,
    is_loopback,
)

__all__ = [
    "CursorExpired",
    "Refused",
    "Traffic",
    "Answer",
    "build_client",
    "check_server_url",
    "is_loopback",
    "load_ca_pem",
    "one_line",
    "send_json",
    "REVOKED_MESSAGE",
    "UPGRADE_MESSAGE",
]

CONNECT_TIMEOUT = 3.0
IO_TIMEOUT = 10.0
MAX_ERROR_BYTES = 64 * 1024
USER_AGENT = "patient-companion/0.1"
REVOKED_MESSAGE = (
    "this device was revoked by the clinic; its records were removed from this device. "
    "Ask the clinic for a new pairing code."
)
UPGRADE_MESSAGE = "the clinic's server needs a newer version of this app: update the app"


@dataclass(slots=True)
class Traffic:
    """What a sync phase cost on the wire: HTTP requests made and bytes received (decoded)."""

    requests: int = 0
    bytes_down: int = 0


@dataclass(frozen=True, slots=True)
class Answer:
    """A successful (2xx) answer: its status, decoded JSON body and size on the wire (decoded bytes)."""

    status: int
    data: Any
    size: int
    headers: Mapping[str, str] = field(default_factory=dict)
    received: float = 0.0  # time.perf_counter() when the body was in, before it was decoded


def load_ca_pem(ca_file: str | Path) -> str:
    """Read a PEM CA bundle for pinning; refuses a missing file or one without a certificate."""
    try:
        text = Path(ca_file).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise InsecureServer(f"cannot read the CA file {ca_file}: {getattr(exc, 'strerror', None) or exc}") from None
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise InsecureServer(f"{ca_file} holds no PEM certificate")
    return text


def _tls_context(ca_pem: str | None) -> ssl.SSLContext:
    """Verification always on; with ``ca_pem`` only that CA is trusted (no system store)."""
    try:
        # With cadata the system store is NOT loaded: only the clinic's CA is trusted.
        ctx = ssl.create_default_context(cadata=ca_pem) if ca_pem is not None else ssl.create_default_context()
    except (ssl.SSLError, ValueError) as exc:
        raise InsecureServer(f"the pinned CA certificate is not usable: {exc}") from None
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def build_client(
    server_url: str,
    *,
    ca_pem: str | None = None,
    ca_file: str | Path | None = None,
    timeout: float = IO_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An ``httpx.Client`` for the clinic at ``server_url`` (see module docstring for what it refuses).

    ``ca_file`` (a path) or ``ca_pem`` (its text, as stored in the vault) pins the
    clinic's CA. ``transport`` is for tests that stand in for a hostile server.
    The caller owns the client and closes it.
    """
    base = check_server_url(server_url)
    if ca_file is not None and ca_pem is None:
        ca_pem = load_ca_pem(ca_file)
    return httpx.Client(
        base_url=base,
        verify=_tls_context(ca_pem),
        timeout=httpx.Timeout(timeout, connect=CONNECT_TIMEOUT),
        headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION), "User-Agent": USER_AGENT, "Accept": "application/json",
                 "Accept-Encoding": "gzip"},  # the one encoding _read_capped inflates
        follow_redirects=False,  # a redirect could downgrade to http:// or leave the clinic
        trust_env=False,  # no proxy or CA bundle from the environment silently changes who we talk to
        transport=transport,
        limits=httpx.Limits(max_connections=8, max_keepalive_connections=4),
    )


def _tls_reason(exc: BaseException) -> str | None:
    """The certificate/TLS failure behind ``exc``, if any (walks the cause chain)."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ssl.SSLCertVerificationError):
            return cur.verify_message or "certificate verification failed"
        if isinstance(cur, ssl.SSLError):
            return cur.reason or "TLS handshake failed"
        cur = cur.__cause__ or cur.__context__
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text:
        return text.split("(_ssl")[0][:200]
    return None


def _read_capped(response: httpx.Response, cap: int) -> bytes:
    """The body, decompressed, refused as soon as it exceeds ``cap`` decoded bytes.

    Reads the raw stream and inflates gzip here with a bounded output per step, so
    memory never holds much more than ``cap`` however well a hostile body compresses.
    """
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise ProtocolError(f"malformed server answer: {int(declared)} bytes is more than the {cap} allowed")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        raise ProtocolError("malformed server answer: an encoding the app did not ask for")
    if response.is_stream_consumed:  # built in memory (a test's stand-in server): httpx already decoded it
        if len(response.content) > cap:
            raise ProtocolError(f"malformed server answer: more than the {cap} bytes allowed")
        return response.content
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding == "gzip" else None
    buf = bytearray()
    try:
        for chunk in response.iter_raw():
            data = chunk
            while data:
                if inflater is None:
                    buf += data
                    data = b""
                else:
                    buf += inflater.decompress(data, cap + 1 - len(buf))
                    data = inflater.unconsumed_tail
                if len(buf) > cap:
                    raise ProtocolError(f"malformed server answer: more than the {cap} bytes allowed")
        if inflater is not None:
            buf += inflater.flush()
            if not inflater.eof:
                raise ProtocolError("malformed server answer: the body could not be decoded")
    except zlib.error:
        raise ProtocolError("malformed server answer: the body could not be decoded") from None
    if len(buf) > cap:
        raise ProtocolError(f"malformed server answer: more than the {cap} bytes allowed")
    return bytes(buf)


def _decode(raw: bytes) -> Any:
    """A JSON document in UTF-8 (RFC 8259), else ProtocolError; absurd nesting is refused, not a crash."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise ProtocolError("malformed server answer: not a UTF-8 JSON document") from None


def _retry_after(headers: httpx.Headers) -> float:
    value = headers.get("retry-after", "")
    try:
        return min(3600.0, max(0.0, float(value)))
    except ValueError:
        return 5.0


def one_line(text: str, limit: int = 300) -> str:
    """First line of a message, bounded: a server's words reach the user as one short line."""
    line = (text.strip().splitlines() or [""])[0]
    line = "".join(ch for ch in line if ch.isprintable())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _raise_for_status(status: int, raw: bytes, headers: httpx.Headers) -> None:
    try:
        data = _decode(raw) if raw else None
    except ProtocolError:
        data = None  # a proxy's HTML error page is still an error answer
    code, message = error_of(data)
    code, message = one_line(code, 100), one_line(message) or "no reason given"
    if status == 401 and code == "device_revoked":
        raise DeviceRevoked(REVOKED_MESSAGE)
    if status == 401:
        raise RequestRejected(401, code, "the clinic does not recognise this device: pair it again")
    if status == 410 and code == "cursor_expired":
        raise CursorExpired(410, code, message)
    if status == 426:
        raise UpgradeRequired(UPGRADE_MESSAGE)
    if status == 429:
        raise RateLimited(_retry_after(headers))
    if status >= 500:
        raise ServerFailed(f"the clinic's server failed (HTTP {status}); try again later")
    raise Refused(status, code, message)


def send_json(
    client: httpx.Client,
    method: str,
    path: str,
    *,
    token: str | None = None,
    params: Mapping[str, str | int] | None = None,
    body: Any = None,
    json_body: bytes | None = None,
    timeout: float | None = None,
    max_bytes: int = MAX_RESPONSE_BYTES,
    extra_headers: Mapping[str, str] | None = None,
) -> Answer:
    """Send one request and return its decoded 2xx JSON body; anything else raises (see module docstring).

    ``body`` is encoded as compact UTF-8 JSON; ``json_body`` is such a body already encoded (a push
    encodes each mutation once, to size its batches). ``timeout`` bounds the read (long polls pass
    their wait plus a margin).
    Message bodies and tokens never appear in an exception message.
    """
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    headers.update(extra_headers or {})
    content: bytes | None = json_body
    if body is not None:
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if content is not None:
        if len(content) > MAX_REQUEST_BYTES:
            raise ProtocolError(f"request of {len(content)} bytes is over the {MAX_REQUEST_BYTES} allowed")
        headers["Content-Type"] = "application/json"
    extra: dict[str, Any] = {}
    if timeout is not None:
        extra["timeout"] = httpx.Timeout(max(0.5, timeout), connect=min(CONNECT_TIMEOUT, max(0.5, timeout)))
    try:
        with client.stream(method, path, params=params, content=content, headers=headers, **extra) as response:
            status = response.status_code
            cap = max_bytes if 200 <= status < 300 else MAX_ERROR_BYTES
            try:
                raw = _read_capped(response, cap)
            except ProtocolError:
                if 200 <= status < 300:
                    raise
                raw = b""
    except httpx.DecodingError:
        raise ProtocolError("malformed server answer: the body could not be decoded") from None
    except (httpx.TransportError, OSError) as exc:
        reason = _tls_reason(exc)
        if reason is not None:
            raise InsecureServer(f"the server's certificate was refused: {reason}") from None
        if isinstance(exc, httpx.TimeoutException):
            raise ServerUnreachable("the clinic's server did not answer in time") from None
        raise ServerUnreachable(f"cannot reach the clinic's server ({type(exc).__name__})") from None
    received = time.perf_counter()
    if not 200 <= status < 300:
        _raise_for_status(status, raw, response.headers)
    return Answer(status=status, data=_decode(raw), size=len(raw), headers=response.headers, received=received)
