"""DynamoDB plumbing the services share: the client, and a table made from a ``table.json``.

A ``table.json`` is CreateTable's request shape plus ``"TimeToLiveAttribute"`` (its
``TableName``, if any, is replaced by the name given). Tests, the docker compose init
container and the CloudFormation data stack all read the same file.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bnpl_common.settings import CommonSettings

# botocore's standard retry mode (throttling, transient errors): 3 retries after the first attempt.
MAX_ATTEMPTS = 3
# Credit runs store calls in worker threads; enough connections that they never wait for one.
MAX_POOL_CONNECTIONS = 64


def dynamodb_client(settings: CommonSettings, *, endpoint_url: str | None = None) -> Any:
    """A boto3 DynamoDB client with the service's timeouts (HTTP_CONNECT_TIMEOUT,
    HTTP_READ_TIMEOUT) and region; ``endpoint_url`` for DynamoDB Local or moto. Create one per process."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=settings.http_connect_timeout,
        read_timeout=settings.http_read_timeout,
        retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
        max_pool_connections=MAX_POOL_CONNECTIONS,
    )
    return boto3.client("dynamodb", region_name=settings.aws_region, endpoint_url=endpoint_url, config=config)


def load_table_definition(path: Path) -> dict[str, Any]:
    """The parsed ``table.json`` (a fresh copy each call)."""
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def create_table(client: Any, name: str, definition: Path | Mapping[str, Any]) -> None:
    """Create table ``name`` from ``definition`` (a ``table.json`` path or its parsed content),
    wait until it is active and make sure its TTL is on.

    A table that already exists is left as it is, but its TTL is still switched on, so an
    init container can run this on every start.
    """
    request = dict(load_table_definition(definition) if isinstance(definition, Path) else definition)
    ttl_name = request.pop("TimeToLiveAttribute", None)
    request["TableName"] = name
    request.setdefault("BillingMode", "PAY_PER_REQUEST")
    with contextlib.suppress(client.exceptions.ResourceInUseException):  # exists already: wait for it below
        client.create_table(**request)
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    if ttl_name:
        current = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            client.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_name}
            )
