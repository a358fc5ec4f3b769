"""Readiness tells the truth about writes (issue 17, item 9): with the disk full, every write
failed clearly but ``/readyz`` still answered 200.

A real user service process, its disk made "full": RLIMIT_FSIZE (set from outside with
``prlimit``) stops every file of the process from growing past the WAL's size, and writes fail
as they do with ENOSPC (Python ignores SIGXFSZ). The test holds a connection to the file, as a
busy service does, so the WAL and its index stay and reads keep working.
"""

from __future__ import annotations

import json
import resource
import sqlite3
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from bnpl_common.testing import TEST_CLIENT_ID, TEST_POOL_ID, TEST_REGION, ServiceProcess, TokenMinter, free_port
from bnpl_user.testing import UserApi

pytestmark = pytest.mark.skipif(not hasattr(resource, "prlimit"), reason="needs Linux prlimit")


@pytest.fixture
def jwks_endpoint(minter: TokenMinter) -> Iterator[str]:
    """Cognito's JWKS document for ``minter``'s tokens, over real HTTP."""
    body = json.dumps(minter.jwks()).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def service(tmp_path: Path, jwks_endpoint: str) -> Iterator[tuple[ServiceProcess, str, Path]]:
    port = free_port()
    db = tmp_path / "user.sqlite3"
    process = ServiceProcess(
        name="user",
        args=[sys.executable, "-m", "bnpl_user"],
        health_url=f"http://127.0.0.1:{port}/readyz",
        env={
            "BNPL_ENV": "test",
            "USER_HOST": "127.0.0.1",
            "USER_PORT": str(port),
            "USER_DB_PATH": str(db),
            "SMS_OUTBOX_PATH": str(tmp_path / "outbox.jsonl"),
            "AWS_REGION": TEST_REGION,
            "COGNITO_USER_POOL_ID": TEST_POOL_ID,
            "COGNITO_CLIENT_IDS": TEST_CLIENT_ID,
            "COGNITO_ENDPOINT": jwks_endpoint,
        },
        log_path=tmp_path / "user.log",
    ).start()
    try:
        yield process, f"http://127.0.0.1:{port}", db
    finally:
        process.stop()


def test_readyz_is_503_while_the_store_cannot_write(
    service: tuple[ServiceProcess, str, Path], minter: TokenMinter, tmp_path: Path
) -> None:
    process, url, db = service
    assert process.proc is not None
    with httpx.Client(base_url=url, timeout=10) as client:
        api = UserApi(client, minter, tmp_path / "outbox.jsonl")
        assert api.create_profile().status_code == 201
        held = sqlite3.connect(db)
        try:
            held.execute("SELECT COUNT(*) FROM profiles").fetchone()
            _, hard = resource.prlimit(process.proc.pid, resource.RLIMIT_FSIZE)
            resource.prlimit(process.proc.pid, resource.RLIMIT_FSIZE, (Path(f"{db}-wal").stat().st_size, hard))

            failed = api.call("PATCH", "/v1/profile", json={"familyName": "King"})
            assert failed.status_code == 503, failed.text
            assert failed.json()["error"]["type"] == "ServiceUnavailable"
            assert api.call("GET", "/v1/profile").json()["familyName"] == "Lovelace"  # reads still work
            assert client.get("/livez").status_code == 200
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json() == {"status": "not ready"}

            resource.prlimit(process.proc.pid, resource.RLIMIT_FSIZE, (hard, hard))
            assert client.get("/readyz").status_code == 200
            assert api.call("PATCH", "/v1/profile", json={"familyName": "King"}).status_code == 200
        finally:
            held.close()
