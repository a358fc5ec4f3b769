"""The storage adapter that ``USER_STORE`` names."""

from __future__ import annotations

from bnpl_common.dynamodb import dynamodb_client

from bnpl_user.settings import Settings
from bnpl_user.storage.dynamodb import DynamoUserStore
from bnpl_user.storage.port import UserStore
from bnpl_user.storage.sqlite import SqliteUserStore


def build_store(settings: Settings) -> UserStore:
    """SQLite (``USER_DB_PATH``) or DynamoDB (``USER_TABLE``); call ``await store.prepare()``
    before use. The DynamoDB table is not created here: CloudFormation, the compose init
    container or the tests make it from ``storage/table.json``."""
    if settings.user_store == "dynamodb":
        return DynamoUserStore(dynamodb_client(settings, endpoint_url=settings.dynamodb_endpoint), settings.user_table)
    return SqliteUserStore(settings.user_db_path)
