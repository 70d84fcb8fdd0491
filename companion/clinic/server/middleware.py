"""The outer request guard (pure ASGI): protocol version, body size, security headers, access log,
last-resort 500.

It sits outside FastAPI's exception handling so that *every* answer, even for a bug, is the JSON
error shape, and so that uvicorn never logs an exception message (messages may hold patient
data; we log the exception type and stack frames). The access log names the route *template*
(``/v1/staff/patients/{patient_id}``) plus id-shaped path parameters and never the query string,
which may carry a search for a patient's name.

Every ``/v1`` answer (the device and staff API, errors included) carries
``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` and ``Cache-Control:
no-store`` (patient data must not sit in a browser's or a proxy's cache), and no answer anywhere
carries ``Access-Control-Allow-Origin: *``: the API is for the app, the staff tools and the
desk, never for scripts on other web sites.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ...core.protocol import MAX_REQUEST_BYTES, PROTOCOL_HEADER, PROTOCOL_VERSION
from .errors import ApiError, log_unexpected

access_log = logging.getLogger("companion.clinic.server.access")

_HEADER = PROTOCOL_HEADER.lower().encode("latin-1")
_UNVERSIONED = ("/healthz", "/openapi.json", "/docs", "/redoc")
_ID_SHAPE = re.compile(r"^[a-z]{2,4}_[a-z0-9]{6,40}$")
ACTOR_KEY = "companion.actor"
WRITE_TIMING_KEY = "companion.write_timing"  # a staff write's Tx.timing (database.Database.write)
API_HEADERS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
               (b"cache-control", b"no-store"))
_REPLACED = {name for name, _ in API_HEADERS}


def secure_headers(headers: list[tuple[bytes, bytes]], path: str) -> list[tuple[bytes, bytes]]:
    """``headers`` without a wildcard CORS grant and, on ``/v1``, with :data:`API_HEADERS`."""
    kept = [(n, v) for n, v in headers
            if not (n.lower() == b"access-control-allow-origin" and v.strip() == b"*")]
    if path.startswith("/v1/") or path == "/v1":
        kept = [(n, v) for n, v in kept if n.lower() not in _REPLACED] + list(API_HEADERS)
    return kept


def server_timing(timing: dict[str, float]) -> str:
    """A ``Server-Timing`` value from durations in seconds: ``wake;dur=0.300, read;dur=1.100`` (ms).
    Durations only, never names or counts: the benches show where a request's time goes."""
    return ", ".join(f"{name};dur={seconds * 1000:.3f}" for name, seconds in timing.items())


def write_timing(timing: dict[str, float], started: float) -> bytes:
    """A staff write's ``Server-Timing``: ``route`` from the guard taking the request to the write
    being asked for (routing, body, dependencies, the trip to a worker thread), then the write's own
    ``lock``, ``write`` and ``commit`` (:meth:`.database.Database.write`)."""
    parts = {"route": max(0.0, timing["asked"] - started), "lock": timing["lock"], "write": timing["write"],
             "commit": timing["commit"]}
    return server_timing(parts).encode("latin-1")


_TOO_LARGE = (413, "too_large", f"request body larger than {MAX_REQUEST_BYTES} bytes")


class BodyTooLarge(ApiError):
    """The body grew past :data:`MAX_REQUEST_BYTES` while it was read (no or a false Content-Length)."""

    def __init__(self) -> None:
        super().__init__(*_TOO_LARGE)


def _json_bytes(status: int, code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


def _protocol_problem(scope: Scope) -> tuple[int, str, str] | None:
    """``(status, code, message)`` when the Companion-Protocol header is unusable, else ``None``."""
    for name, value in scope.get("headers", ()):
        if name == _HEADER:
            text = value.decode("latin-1").strip()
            match = re.fullmatch(r"(\d{1,4})(?:\.\d{1,4})?", text)
            if match is None:
                return 422, "invalid_request", f"{PROTOCOL_HEADER} must be a version number like {PROTOCOL_VERSION}"
            if int(match.group(1)) < PROTOCOL_VERSION:
                return (426, "upgrade_required", f"this app speaks sync protocol {match.group(1)}; the clinic "
                        f"server needs {PROTOCOL_VERSION}: please update the app")
    return None


def _unstorable_url(scope: Scope) -> bool:
    """NUL in the path or query: no database can compare against it (PostgreSQL raises)."""
    query = scope.get("query_string", b"").lower()
    return "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query


def _too_large(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value) > MAX_REQUEST_BYTES
            except ValueError:
                return True
    return False


def _route_label(scope: Scope) -> str:
    route = scope.get("route")
    template = getattr(route, "path", None)
    if not isinstance(template, str):
        return "<no route>"
    ids = [v for v in scope.get("path_params", {}).values() if isinstance(v, str) and _ID_SHAPE.match(v)]
    return template + (f" [{' '.join(ids)}]" if ids else "")


class GuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = secrets.token_hex(4)
        path = scope.get("path", "")
        status_holder = {"status": 0, "started": False}
        received, overflow = 0, False
        version_header = (PROTOCOL_HEADER.lower().encode("latin-1"), str(PROTOCOL_VERSION).encode())

        async def raw_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                message = dict(message)
                headers = [*secure_headers(list(message.get("headers", [])), path), version_header]
                timing = scope.get(WRITE_TIMING_KEY)
                if timing is not None and message["status"] < 400:  # an error after the write says nothing
                    headers.append((b"server-timing", write_timing(timing, started)))
                message["headers"] = headers
            await send(message)

        async def plain(status: int, code: str, message: str) -> None:
            body = _json_bytes(status, code, message)
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await raw_send({"type": "http.response.start", "status": status, "headers": headers})
            await raw_send({"type": "http.response.body", "body": body})

        async def app_send(message: Message) -> None:
            if overflow:
                # The framework turned our BodyTooLarge into its own 400: answer 413 instead, once.
                if not status_holder["started"]:
                    await plain(*_TOO_LARGE)
                return
            await raw_send(message)

        async def limited_receive() -> Message:
            nonlocal received, overflow
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_REQUEST_BYTES:
                    overflow = True
                    raise BodyTooLarge
            return message

        try:
            problem = None if path in _UNVERSIONED else _protocol_problem(scope)
            if problem is not None:
                await plain(*problem)
            elif _unstorable_url(scope):
                await plain(422, "invalid_request", "the URL contains a NUL character")
            elif _too_large(scope):
                await plain(*_TOO_LARGE)
            else:
                await self.app(scope, limited_receive, app_send)
        except BodyTooLarge:
            if not status_holder["started"]:
                await plain(*_TOO_LARGE)
        except Exception as exc:
            log_unexpected(request_id, exc)
            if not status_holder["started"]:
                await plain(500, "internal_error", f"unexpected server error (request {request_id})")
        finally:
            self._log(scope, request_id, status_holder["status"], started)

    @staticmethod
    def _log(scope: Scope, request_id: str, status: Any, started: float) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return
        actor = scope.get(ACTOR_KEY) or "-"
        elapsed = (time.perf_counter() - started) * 1000
        access_log.info("%s %s %s %.1fms actor=%s req=%s", scope.get("method", "-"), _route_label(scope),
                        status or "-", elapsed, actor, request_id)
