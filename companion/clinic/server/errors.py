"""HTTP errors of the clinic server, always answered as ``{"error": {"code", "message"}}``.

Code raises :class:`ApiError` (or one of the shortcuts below); :func:`install_error_handlers`
turns it, FastAPI's validation errors, Starlette's 404/405 for unknown routes and any unexpected
exception into that one JSON shape. Messages name fields and ids, never submitted values, so
an error can be logged or shown without leaking patient data.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ...core.errors import CompanionError, NotAllowed, RecordError

log = logging.getLogger("companion.clinic.server")
T = TypeVar("T")

_STATUS_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    406: "not_acceptable", 409: "conflict", 410: "gone", 413: "too_large", 415: "unsupported_media_type",
    422: "invalid_request", 426: "upgrade_required", 429: "rate_limited", 500: "internal_error",
    503: "unavailable",
}


class ApiError(CompanionError):
    """An expected failure with its HTTP status, machine code and one-line message.

    Part of the one tree (:mod:`companion.core.errors`); the HTTP status lives here, on the server.
    """

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        super().__init__(message)


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def found(row: T | None, what: str) -> T:
    """``row`` itself, or 404 naming what was looked for."""
    if row is None:
        raise not_found(what)
    return row


def invalid(message: str) -> ApiError:
    return ApiError(422, "invalid_request", message)


def conflict(message: str) -> ApiError:
    return ApiError(409, "conflict", message)


def error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=dict(headers or {}))


def _describe_validation(errors: Sequence[Any]) -> str:
    """First problem as ``body.field: problem`` — the location and pydantic's text, no input value."""
    if not errors:
        return "invalid request"
    first = errors[0] if isinstance(errors[0], Mapping) else {}
    if first.get("type") == "json_invalid":
        return "the request body is not valid JSON"
    loc = ".".join(str(p) for p in first.get("loc", ()) if p != "body" or len(first.get("loc", ())) == 1)
    msg = str(first.get("msg", "invalid value"))[:200]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{loc or 'request'}: {msg}{more}"


async def _nothing_first(request: Request) -> None:
    return None


def install_error_handlers(app: FastAPI, *,
                           before_refusal: Callable[[Request], Awaitable[None]] = _nothing_first) -> None:
    """``before_refusal``: awaited before a body that does not validate is refused (its ApiError, a
    401 or 403, is the answer instead: see :func:`.auth.admit_before_refusal`)."""
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(RecordError)
    async def _record_error(request: Request, exc: RecordError) -> JSONResponse:
        return error_response(422, "invalid_request", f"{exc.field}: {exc.problem}")

    @app.exception_handler(NotAllowed)
    async def _not_allowed(request: Request, exc: NotAllowed) -> JSONResponse:
        return error_response(409, "conflict", str(exc))  # a visit or bill rule (see companion.core.care_rules)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        try:
            await before_refusal(request)
        except ApiError as first:
            return error_response(first.status, first.code, first.message, first.headers)
        return error_response(422, "invalid_request", _describe_validation(exc.errors()))

    @app.exception_handler(sa.exc.DataError)
    async def _data_error(request: Request, exc: sa.exc.DataError) -> JSONResponse:
        # A value the database refused (out of range, bad encoding): the caller's input, not our bug.
        log.warning("database refused a value (%s)", type(exc.orig).__name__)
        return error_response(422, "invalid_request", "a value in the request cannot be stored")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = "no such endpoint" if exc.status_code == 404 else str(exc.detail)[:200]
        return error_response(exc.status_code, code, message, getattr(exc, "headers", None))


def log_unexpected(request_id: str, exc: BaseException) -> None:
    """Log an unexpected exception by type and stack frames only: its message may hold patient data."""
    frames = "".join(traceback.format_tb(exc.__traceback__)[-8:])
    log.error("request %s failed with %s\n%s", request_id, type(exc).__name__, frames)
