"""The DynamoDB table, defined once in ``table.json`` (CreateTable's JSON shape plus the TTL
attribute under ``TimeToLiveAttribute``). Tests, docker compose's init and the
CloudFormation template all read this file; ``python -m bnpl_credit.storage.table`` creates
the table (``CREDIT_TABLE``, ``DYNAMODB_ENDPOINT``, ``AWS_REGION``)."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

TABLE_DEFINITION_PATH = Path(__file__).with_name("table.json")


def table_definition(table_name: str | None = None) -> dict[str, Any]:
    """The CreateTable request (without the TTL key), for ``table_name`` if given."""
    definition = json.loads(TABLE_DEFINITION_PATH.read_text())
    definition.pop("TimeToLiveAttribute", None)
    if table_name:
        definition["TableName"] = table_name
    return definition


def ttl_attribute() -> str:
    return str(json.loads(TABLE_DEFINITION_PATH.read_text())["TimeToLiveAttribute"])


def create_table(client: Any, table_name: str, *, exist_ok: bool = True) -> None:
    """Create the table and switch TTL on; an existing table is left as it is."""
    try:
        client.create_table(**copy.deepcopy(table_definition(table_name)))
    except client.exceptions.ResourceInUseException:
        if not exist_ok:
            raise
        return
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    client.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute()}
    )


def main() -> None:
    from bnpl_credit.storage.dynamodb import dynamodb_client

    name = os.environ.get("CREDIT_TABLE", "bnpl-credit")
    client = dynamodb_client(
        region=os.environ.get("AWS_REGION", "us-east-1"), endpoint_url=os.environ.get("DYNAMODB_ENDPOINT")
    )
    create_table(client, name)
    print(f"table {name} ready")


if __name__ == "__main__":
    main()
