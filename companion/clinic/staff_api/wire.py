"""The staff API's HTTP boundary: which addresses it talks to, how much it reads, what a failure is.

:class:`~companion.clinic.staff_api.client.StaffClient` sends every request through :func:`exchange`,
so each rule holds once for the desk, ``companion-psr``, the demo and the tests:

- The address is checked before any connection by the rule the app's sync uses
  (:func:`companion.core.protocol.check_server_url`): ``https://``, or plain ``http://`` only to
  this computer (``localhost``, 127.0.0.0/8, ::1); staff tokens and patient records never cross
  a network in clear text.
- Answers are read while streaming and refused past a cap (8 MiB by default): a broken or hostile
  server cannot make a desk or a script buffer without end. ``Accept-Encoding: identity`` keeps
  the cap counting what is decoded.
- Every failure becomes one error of :mod:`companion.core.errors`; nothing above sees ``httpx``::

      connect or read failure, timeout       -> ServerUnreachable
      http:// to another host, bad address   -> InsecureServer      (before any request)
      2xx that is not one JSON document      -> ProtocolError
      answer over the cap                    -> ProtocolError
      401                                    -> SignedOut           (StaffApiError)
      429                                    -> TooManyTries        (StaffApiError, retry_after)
      any other 4xx or 5xx                   -> StaffApiError       (status, code, message)

  The one-line wording of a refusal or of an unreachable server is the caller's
  (:class:`Wording`): the CLI names the HTTP status, the desk speaks to people.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

import httpx

from ...core.errors import ProtocolError, ServerUnreachable, SignedOut, StaffApiError, TooManyTries
from ...core.protocol import MAX_RESPONSE_BYTES, PROTOCOL_HEADER, PROTOCOL_VERSION, check_server_url, error_of

__all__ = ["MAX_ERROR_BYTES", "MAX_RESPONSE_BYTES", "Wording", "check_server_url", "exchange", "protocol_headers"]

MAX_ERROR_BYTES = 64 * 1024  # an error answer longer than this is read as "no reason given"
DEFAULT_RETRY_AFTER = 30


class Wording(Protocol):
    """How a failure reads, as one line: the caller's voice, the client's facts."""

    def refused(self, status: int, code: str, message: str, retry_after: int) -> str:
        """The server said no: its HTTP ``status``, error ``code`` and one-line ``message``."""
        ...

    def unreachable(self, reason: str) -> str:
        """No answer from the server; ``reason`` is short and technical (``timed out`` …)."""
        ...


def protocol_headers() -> dict[str, str]:
    """Headers every staff request carries (the protocol version, and an answer the cap can count)."""
    return {PROTOCOL_HEADER: str(PROTOCOL_VERSION), "Accept": "application/json", "Accept-Encoding": "identity"}


def _body(response: httpx.Response, cap: int) -> bytes | None:
    """The whole body, or ``None`` as soon as it proves longer than ``cap`` bytes."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        return None
    if response.is_stream_consumed:  # an in-memory answer (a test transport): already read
        return response.content if len(response.content) <= cap else None
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > cap:
            return None
    return bytes(body)


def _retry_after(headers: httpx.Headers) -> int:
    value = headers.get("retry-after", "")
    return min(3600, max(1, int(value))) if value.isdigit() else DEFAULT_RETRY_AFTER


def _one_line(text: str, limit: int = 300) -> str:
    line = "".join(ch for ch in (text.strip().splitlines() or [""])[0] if ch.isprintable())
    return line[:limit]


def _refusal(status: int, raw: bytes | None, headers: httpx.Headers, wording: Wording) -> StaffApiError:
    try:
        data = json.loads(raw) if raw else None
    except ValueError:  # a proxy's HTML error page is still a refusal
        data = None
    code, message = error_of(data)
    code, message = _one_line(code, 100) or "unknown", _one_line(message) or "no reason given"
    wait = _retry_after(headers)
    text = wording.refused(status, code, message, wait)
    if status == 401:
        return SignedOut(text, code)
    if status == 429:
        return TooManyTries(wait, text, code)
    return StaffApiError(status, text, code)


def exchange(http: httpx.Client, method: str, path: str, *, wording: Wording, cap: int = MAX_RESPONSE_BYTES,
             headers: Mapping[str, str] | None = None, params: Mapping[str, Any] | None = None,
             body: Any = None) -> Any:
    """Send one request; the decoded JSON of a 2xx answer (``None`` for 204), else raise (see above)."""
    what = f"{method} {path}"
    try:
        with http.stream(method, path, headers=headers, params=params, json=body) as response:
            status = response.status_code
            raw = _body(response, cap if status < 400 else MAX_ERROR_BYTES)
    except RuntimeError:  # httpx's word for a closed client: a desk tab closed while its poller was on its way
        if http.is_closed:
            raise ServerUnreachable(wording.unreachable("this connection was closed")) from None
        raise
    except httpx.TimeoutException:
        raise ServerUnreachable(wording.unreachable("no answer in time")) from None
    except httpx.HTTPError as exc:
        reason = (str(exc).splitlines() or [""])[0][:120] or type(exc).__name__
        raise ServerUnreachable(wording.unreachable(reason)) from None
    if status >= 400:
        raise _refusal(status, raw, response.headers, wording)
    if raw is None:
        raise ProtocolError(f"the server's answer to {what} is larger than the {cap} bytes this client reads")
    if status == 204:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise ProtocolError(f"the server's answer to {what} was not JSON") from None
