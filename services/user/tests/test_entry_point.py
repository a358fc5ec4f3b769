"""``python -m bnpl_user`` as the container runs it: a real process, JSON logs only."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
from bnpl_common.testing import TEST_CLIENT_ID, TEST_POOL_ID, ServiceProcess, free_port


def test_python_m_serves_the_app_with_json_logs_and_no_uvicorn_access_log(tmp_path: Path) -> None:
    port = free_port()
    service = ServiceProcess(
        name="user",
        args=[sys.executable, "-m", "bnpl_user"],
        health_url=f"http://127.0.0.1:{port}/livez",
        env={
            "BNPL_ENV": "test",
            "USER_PORT": str(port),
            "USER_DB_PATH": str(tmp_path / "user.sqlite3"),
            "SMS_OUTBOX_PATH": str(tmp_path / "sms.jsonl"),
            "COGNITO_USER_POOL_ID": TEST_POOL_ID,
            "COGNITO_CLIENT_IDS": TEST_CLIENT_ID,
        },
        log_path=tmp_path / "user.log",
    ).start()
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/v1/profile").status_code == 403  # unsigned
    finally:
        service.stop()
    lines = [json.loads(line) for line in service.logs().splitlines() if line.strip()]
    assert {line["service"] for line in lines} == {"user"}
    access = [line for line in lines if line.get("path") == "/v1/profile"]
    assert [(a["logger"], a["status"]) for a in access] == [("bnpl.access", 403)]  # ours, not uvicorn's
