"""The DynamoDB table of the user service, defined once in ``table.json``.

``table.json`` is CreateTable's request shape (without ``TableName``) plus
``"TimeToLiveAttribute"``; tests, the docker compose init container and CloudFormation all
read it, so the table is the same everywhere.
"""

from __future__ import annotations

import contextlib
import json
from importlib import resources
from typing import Any

DEFINITION_FILE = "table.json"


def table_definition() -> dict[str, Any]:
    """The parsed ``table.json`` (a fresh copy each call)."""
    text = resources.files(__package__).joinpath(DEFINITION_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def ttl_attribute() -> str:
    """The attribute DynamoDB's time to live reads (epoch seconds)."""
    return str(table_definition()["TimeToLiveAttribute"])


def create_table(client: Any, name: str) -> None:
    """Create table ``name`` from ``table.json``, wait until it is active and switch TTL on.

    ``client`` is a boto3 DynamoDB client. A table that already exists is left as it is
    (TTL is still switched on), so an init container can run this on every start.
    """
    definition = table_definition()
    ttl_name = definition.pop("TimeToLiveAttribute", None)
    with contextlib.suppress(client.exceptions.ResourceInUseException):
        client.create_table(TableName=name, **definition)
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    if ttl_name:
        current = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            client.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_name}
            )
