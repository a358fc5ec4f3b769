"""The shared DynamoDB client and table creation, against a moto server over real HTTP."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bnpl_common.dynamodb import create_table, dynamodb_client
from bnpl_common.settings import CommonSettings
from bnpl_common.testing import TEST_REGION, moto_server, set_fake_aws_environment

DEFINITION = {
    "TableName": "replaced-by-the-given-name",
    "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
    "TimeToLiveAttribute": "ttl",
}


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def client(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    set_fake_aws_environment(monkeypatch)
    settings = CommonSettings(bnpl_env="test", aws_region=TEST_REGION, http_connect_timeout=0.5, http_read_timeout=2)
    return dynamodb_client(settings, endpoint_url=moto_endpoint)


def test_the_client_uses_the_service_timeouts_and_region(client: Any) -> None:
    config = client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (0.5, 2)
    assert config.retries["mode"] == "standard"
    assert client.meta.region_name == TEST_REGION


def test_create_table_from_a_file_is_repeatable_and_switches_ttl_on(client: Any, tmp_path: Path) -> None:
    path = tmp_path / "table.json"
    path.write_text(json.dumps(DEFINITION))
    name = f"t-{uuid.uuid4().hex[:8]}"
    create_table(client, name, path)
    create_table(client, name, path)  # exists: no error, TTL still on
    table = client.describe_table(TableName=name)["Table"]
    assert table["KeySchema"] == DEFINITION["KeySchema"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "ttl")


def test_an_existing_table_gets_its_ttl(client: Any) -> None:
    name = f"t-{uuid.uuid4().hex[:8]}"
    bare = {k: v for k, v in DEFINITION.items() if k != "TimeToLiveAttribute"}
    create_table(client, name, bare)
    assert client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"
    create_table(client, name, DEFINITION)
    assert client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
