"""The DynamoDB table of the user service, defined once in ``table.json``.

``table.json`` is CreateTable's request shape (without ``TableName``) plus
``"TimeToLiveAttribute"``; tests, the docker compose init container and CloudFormation all
read it, so the table is the same everywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bnpl_common import dynamodb

TABLE_DEFINITION_PATH = Path(__file__).with_name("table.json")


def table_definition() -> dict[str, Any]:
    """The parsed ``table.json`` (a fresh copy each call)."""
    return dynamodb.load_table_definition(TABLE_DEFINITION_PATH)


def ttl_attribute() -> str:
    """The attribute DynamoDB's time to live reads (epoch seconds)."""
    return str(table_definition()["TimeToLiveAttribute"])


def create_table(client: Any, name: str) -> None:
    """Create table ``name`` from ``table.json``, wait until it is active and switch TTL on.

    ``client`` is a boto3 DynamoDB client. A table that already exists is left as it is
    (TTL is still switched on), so an init container can run this on every start.
    """
    dynamodb.create_table(client, name, TABLE_DEFINITION_PATH)
