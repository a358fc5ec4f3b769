"""The adapter chosen by ``CREDIT_STORE``."""

from __future__ import annotations

from datetime import timedelta

from bnpl_credit.settings import Settings
from bnpl_credit.storage.port import CreditStore


def build_store(settings: Settings) -> CreditStore:
    ttl = timedelta(hours=settings.idempotency_ttl_hours)
    if settings.credit_store == "dynamodb":
        from bnpl_common.dynamodb import dynamodb_client

        from bnpl_credit.storage.dynamodb import DynamoStore

        client = dynamodb_client(settings, endpoint_url=settings.dynamodb_endpoint)
        return DynamoStore(client, table_name=settings.credit_table, idempotency_ttl=ttl)
    from bnpl_credit.storage.sqlite import SqliteStore

    return SqliteStore(settings.credit_db_path, idempotency_ttl=ttl)
