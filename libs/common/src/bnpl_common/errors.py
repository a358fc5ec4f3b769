"""One error hierarchy for every service, and the one handler that renders it.

REST body: ``{"error": {"type": ..., "message": ..., "field": ...}}``. The gateway maps
``type`` onto AppSync's ``errorType`` unchanged, so a business error reads the same at
every layer.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("bnpl.errors")


class AppError(Exception):
    """An expected failure with a status code, a stable type name and an optional field."""

    status_code: int = 400
    error_type: str = "BadRequest"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        status_code: int | None = None,
        error_type: str | None = None,
        info: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.info = info or {}
        if status_code is not None:
            self.status_code = status_code
        if error_type is not None:
            self.error_type = error_type

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.error_type, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        if self.info:
            body["info"] = self.info
        return body


class ValidationFailed(AppError):
    status_code = 422
    error_type = "ValidationError"


class Unauthorized(AppError):
    status_code = 401
    error_type = "UnauthorizedException"


class Forbidden(AppError):
    status_code = 403
    error_type = "AccessDeniedException"


class NotFound(AppError):
    status_code = 404
    error_type = "NotFound"


class Conflict(AppError):
    status_code = 409
    error_type = "Conflict"


class ConcurrentUpdate(Conflict):
    """A write lost a race to another request (an optimistic-concurrency check failed).

    Storage adapters raise it; services re-run the read-decide-write step under
    :mod:`bnpl_common.retry`, and only when every attempt lost does the caller see a 409.
    """

    error_type = "ConcurrentUpdate"

    def __init__(
        self, message: str = "the data changed while this request was handled; try again", **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)


class IdempotencyConflict(AppError):
    status_code = 409
    error_type = "IdempotencyConflict"


class PreconditionFailed(AppError):
    status_code = 422
    error_type = "PreconditionFailed"


class DependencyFailed(AppError):
    status_code = 502
    error_type = "DependencyFailed"


def error_from_body(status_code: int, body: Any) -> AppError:
    """Rebuild an AppError from another service's error body (for callers of our services)."""
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return DependencyFailed(f"upstream answered {status_code}")
    return AppError(
        str(err.get("message", "error")),
        field=err.get("field"),
        status_code=status_code,
        error_type=str(err.get("type", "BadRequest")),
        info=err.get("info") or None,
    )


def _field_of(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


# AWS error codes that say "not now" rather than "no": the request may succeed when retried.
_UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


# SQLite result codes that say "not now" (full disk, I/O failure, locked, read-only file):
# the transaction was rolled back whole, as a DynamoDB one is.
_SQLITE_UNAVAILABLE = ("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_BUSY", "SQLITE_READONLY", "SQLITE_CANTOPEN")


def dependency_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says a dependency (DynamoDB, an AWS API, the SQLite file) cannot be
    reached or is overloaded: no connection, a connection cut or timed out, a throttling answer,
    a full disk. A transaction either happened whole or not at all, and every write carries its
    idempotency record in the same transaction, so the caller may retry with the same key: a
    503, not an internal failure."""
    if isinstance(exc, sqlite3.OperationalError):
        return str(getattr(exc, "sqlite_errorname", "")).startswith(_SQLITE_UNAVAILABLE)
    if isinstance(exc, ConnectionError | HTTPClientError):
        return True
    if isinstance(exc, ClientError):
        # Any 5xx from AWS (botocore has retried it already) is "not now"; so is a 5xx whose
        # body had no error code (a proxy's or an emulator's HTML page).
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return exc.response.get("Error", {}).get("Code", "") in _UNAVAILABLE_CODES or status >= 500
    return isinstance(exc, BotoCoreError) and "timeout" in type(exc).__name__.lower()


def _body_error(message: str) -> JSONResponse:
    return JSONResponse({"error": {"type": "ValidationError", "message": message, "field": "body"}}, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    """Render AppError, request validation errors and HTTP errors in the one shape; mask the rest."""

    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return JSONResponse({"error": exc.to_dict()}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if errors and errors[0].get("type") == "json_invalid":
            # FastAPI puts the character offset where a field name belongs
            reason = str((errors[0].get("ctx") or {}).get("error", "JSON decode error"))
            return _body_error(f"body: is not valid JSON ({reason})")
        first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
        field = _field_of(first.get("loc", ()))
        message = f"{field}: {first.get('msg', 'invalid value')}"
        details = [{"field": _field_of(e.get("loc", ())), "message": str(e.get("msg", ""))} for e in errors]
        body = {"type": "ValidationError", "message": message, "field": field, "info": {"errors": details}}
        return JSONResponse({"error": body}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            # FastAPI's undeclared 400 for a JSON body that is not UTF-8: the caller's input is
            # wrong like any other malformed body, so it is the same declared 422
            return _body_error("body: is not valid UTF-8 JSON")
        kind = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HttpError")
        return JSONResponse(
            {"error": {"type": kind, "message": str(exc.detail)}},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    # Storage and AWS errors get the handler by their own classes, not only through the
    # catch-all: Starlette re-raises what the catch-all (Exception) renders, and uvicorn then
    # closes the connection, resetting the caller's next request on it. A full disk or a
    # throttled table is an answer, not a crash.
    @app.exception_handler(sqlite3.Error)
    @app.exception_handler(BotoCoreError)
    @app.exception_handler(ClientError)
    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        if dependency_unavailable(exc):
            log.warning("dependency unavailable", extra={"error_class": type(exc).__name__})
            return JSONResponse(
                {"error": {"type": "ServiceUnavailable", "message": "a dependency is unavailable; retry later"}},
                status_code=503,
                headers={"Retry-After": "1"},
            )
        log.exception("unhandled error", extra={"error_class": type(exc).__name__})
        return JSONResponse({"error": {"type": "InternalFailure", "message": "internal error"}}, status_code=500)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or invalid user token"},
    403: {"description": "Missing or invalid SigV4 signature"},
    422: {
        "description": "Invalid input; `error.field` names the offending field (`body` for a body that is "
        "not a JSON object, not valid JSON or not UTF-8)"
    },
    503: {"description": "A dependency (the database, its disk) is unavailable; nothing was changed, retry later"},
}
