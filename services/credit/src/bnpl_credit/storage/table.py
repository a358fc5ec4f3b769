"""The DynamoDB table, defined once in ``table.json`` (CreateTable's JSON shape plus the TTL
attribute under ``TimeToLiveAttribute``). Tests, docker compose's init and the
CloudFormation template all read this file; ``python -m bnpl_credit.storage.table`` creates
the table (``CREDIT_TABLE``, ``DYNAMODB_ENDPOINT``, ``AWS_REGION``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bnpl_common import dynamodb

TABLE_DEFINITION_PATH = Path(__file__).with_name("table.json")


def table_definition(table_name: str | None = None) -> dict[str, Any]:
    """The CreateTable request (without the TTL key), for ``table_name`` if given."""
    definition = dynamodb.load_table_definition(TABLE_DEFINITION_PATH)
    definition.pop("TimeToLiveAttribute", None)
    if table_name:
        definition["TableName"] = table_name
    return definition


def create_table(client: Any, table_name: str) -> None:
    """Create the table (an existing one is kept), wait until it is active and switch TTL on."""
    dynamodb.create_table(client, table_name, TABLE_DEFINITION_PATH)


def main() -> None:
    from bnpl_credit.settings import Settings

    settings = Settings()
    create_table(dynamodb.dynamodb_client(settings, endpoint_url=settings.dynamodb_endpoint), settings.credit_table)
    print(f"table {settings.credit_table} ready")


if __name__ == "__main__":
    main()
