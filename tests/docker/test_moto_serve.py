"""The compose stack's moto server (docker/moto/serve.py) under concurrent DynamoDB writes.

CI found moto's server failing a transaction with "dictionary changed size during iteration"
while other threads wrote to the same table: moto deep-copies a table for a transaction's
rollback, unguarded. ``serialised_app`` runs one request at a time; these tests drive it over
real HTTP with parallel transactions and puts and require every one to succeed.
"""

from __future__ import annotations

import importlib.util
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from bnpl_common.testing import TEST_REGION, set_fake_aws_environment
from botocore.config import Config
from werkzeug.serving import make_server

SERVE = Path(__file__).resolve().parents[2] / "docker" / "moto" / "serve.py"


def load_serve() -> ModuleType:
    spec = importlib.util.spec_from_file_location("moto_serve", SERVE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    set_fake_aws_environment(monkeypatch)
    app = load_serve().serialised_app()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def test_parallel_transactions_and_puts_all_succeed(endpoint: str) -> None:
    client: Any = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=TEST_REGION,
        # No retries: a 500 from the server must fail the test, not be hidden by a retry.
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, max_pool_connections=16),
    )
    client.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    # Enough items that a deep copy of the table takes long enough for a write to land during it.
    for i in range(300):
        client.put_item(TableName="t", Item={"pk": {"S": f"seed-{i}"}, "v": {"S": "x" * 200}})

    def transact(_: int) -> None:
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {"pk": {"S": f"tx-{uuid.uuid4()}"}}}},
                {"Put": {"TableName": "t", "Item": {"pk": {"S": f"tx-{uuid.uuid4()}"}}}},
            ]
        )

    def put(_: int) -> None:
        client.put_item(TableName="t", Item={"pk": {"S": f"put-{uuid.uuid4()}"}})

    with ThreadPoolExecutor(12) as pool:
        futures = [pool.submit(transact if i % 2 else put, i) for i in range(600)]
        for future in futures:
            future.result()  # raises the server's 500 as a ClientError

    count = client.scan(TableName="t", Select="COUNT")["Count"]
    assert count == 300 + 300 * 2 + 300
