"""The one error handler: a dependency that cannot be reached is a 503 to retry, not a 500."""

from __future__ import annotations

import pytest
from bnpl_common.app import install_common
from bnpl_common.errors import install_error_handlers
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from fastapi import FastAPI
from fastapi.testclient import TestClient


def _client_error(code: str, status: int = 400) -> ClientError:
    error = {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(error, "TransactWriteItems")  # type: ignore[arg-type]


def _app(exc: Exception) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise exc

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(
    "exc",
    [
        EndpointConnectionError(endpoint_url="http://dynamodb:8000"),
        ConnectTimeoutError(endpoint_url="http://dynamodb:8000"),
        ReadTimeoutError(endpoint_url="http://dynamodb:8000"),
        _client_error("ProvisionedThroughputExceededException"),
        _client_error("ThrottlingException"),
        _client_error("InternalServerError", 500),
        # A 500 whose body carried no AWS error code (an emulator's or a proxy's HTML page):
        # botocore names the error after the status.
        _client_error("500", 500),
    ],
    ids=lambda e: type(e).__name__ if not isinstance(e, ClientError) else e.response["Error"]["Code"],
)
def test_an_unreachable_or_throttling_dependency_is_a_503_to_retry(exc: Exception) -> None:
    response = _app(exc).get("/boom")
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "ServiceUnavailable"
    assert response.headers["Retry-After"] == "1"


@pytest.mark.parametrize("exc", [ValueError("bug"), _client_error("ValidationException"), KeyError("x")])
def test_anything_else_unexpected_stays_a_masked_500(exc: Exception) -> None:
    response = _app(exc).get("/boom")
    assert response.status_code == 500
    assert response.json() == {"error": {"type": "InternalFailure", "message": "internal error"}}


def test_the_access_log_records_the_503_the_caller_got(caplog: pytest.LogCaptureFixture) -> None:
    # The service's own access log (what the container fault test and an operator read) must
    # agree with the response: a 503 handled inside the app, not a 500 logged on the way out.
    app = FastAPI()
    install_common(app)

    @app.get("/v1/boom")
    async def boom() -> None:
        raise EndpointConnectionError(endpoint_url="http://dynamodb:8000")

    with caplog.at_level("INFO", logger="bnpl.access"):
        response = TestClient(app, raise_server_exceptions=False).get("/v1/boom")
    assert response.status_code == 503
    assert [getattr(r, "status", None) for r in caplog.records if r.name == "bnpl.access"] == [503]


@pytest.mark.parametrize(
    "message",
    ["database or disk is full", "disk I/O error", "database is locked", "attempt to write a readonly database"],
)
def test_a_full_disk_or_a_locked_sqlite_file_is_a_503_to_retry(message: str) -> None:
    import sqlite3

    errors = {
        "database or disk is full": "SQLITE_FULL",
        "disk I/O error": "SQLITE_IOERR_WRITE",
        "database is locked": "SQLITE_BUSY",
        "attempt to write a readonly database": "SQLITE_READONLY",
    }
    exc = sqlite3.OperationalError(message)
    exc.sqlite_errorname = errors[message]  # as the sqlite3 module sets it
    response = _app(exc).get("/boom")
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "ServiceUnavailable"


def test_an_sqlite_programming_error_stays_a_masked_500() -> None:
    import sqlite3

    exc = sqlite3.OperationalError("no such table: profiles")
    exc.sqlite_errorname = "SQLITE_ERROR"
    assert _app(exc).get("/boom").status_code == 500
