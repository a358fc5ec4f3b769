"""What only the DynamoDB adapter has: the table file, its creation, the item layout and TTLs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from bnpl_common.testing import TokenMinter
from bnpl_user.profiles.repository import Challenge, ProfileRecord, StoredResponse
from bnpl_user.profiles.schemas import ProfileInput
from bnpl_user.settings import Settings
from bnpl_user.storage import table as table_module
from bnpl_user.storage.dynamodb import DynamoProfileRepository
from bnpl_user.storage.table import create_table, table_definition
from bnpl_user.testing import in_process_client, profile_input

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
DEST = "destination-a"


def test_table_json_is_a_create_table_request() -> None:
    path = Path(table_module.__file__).with_name("table.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw == table_definition()
    assert raw["BillingMode"] == "PAY_PER_REQUEST"
    assert raw["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    assert raw["TimeToLiveAttribute"] == "ttl"
    assert set(raw) <= {
        "AttributeDefinitions",
        "KeySchema",
        "GlobalSecondaryIndexes",
        "BillingMode",
        "TimeToLiveAttribute",
    }


def test_create_table_is_repeatable_and_switches_ttl_on(dynamodb_client: Any, dynamodb_table: str) -> None:
    create_table(dynamodb_client, dynamodb_table)  # the fixture made it already: no error
    described = dynamodb_client.describe_table(TableName=dynamodb_table)["Table"]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert [k["AttributeName"] for k in described["KeySchema"]] == ["PK", "SK"]
    ttl = dynamodb_client.describe_time_to_live(TableName=dynamodb_table)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "ttl")


def _item(client: Any, table: str, sk: str) -> dict[str, Any]:
    key = {"PK": {"S": "CUSTOMER#customer-a"}, "SK": {"S": sk}}
    return client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]


def test_single_table_items_and_their_ttl(dynamodb_client: Any, dynamodb_table: str) -> None:
    repo = DynamoProfileRepository(dynamodb_client, dynamodb_table)
    data = ProfileInput.model_validate(profile_input())
    record = ProfileRecord("customer-a", data, False, NOW, NOW)
    challenge = Challenge("c1", "customer-a", "hash", data.phone_number, NOW, NOW + timedelta(minutes=10), 5)

    async def scenario() -> None:
        await repo.create(record, key="key-00000001", response=StoredResponse("fp", 201, {"id": "customer-a"}))
        await repo.start_challenge(challenge, throttle_since=NOW - timedelta(seconds=30), destination_key=DEST)

    anyio.run(scenario)
    profile = _item(dynamodb_client, dynamodb_table, "PROFILE")
    assert "ttl" not in profile  # profiles are kept
    assert profile["phoneNumber"] == {"S": "+447700900789"}
    assert json.loads(profile["profile"]["S"])["monthlyIncome"] == {"amount": 350000, "currency": "GBP"}

    idempotency = _item(dynamodb_client, dynamodb_table, "IDEMPOTENCY#key-00000001")
    kept = int(idempotency["ttl"]["N"]) - int(NOW.timestamp())
    assert kept >= 24 * 3600

    otp = _item(dynamodb_client, dynamodb_table, "OTP")
    assert int(otp["ttl"]["N"]) > int(challenge.expires_at.timestamp())
    assert (otp["attempts"], otp["maxAttempts"], otp["codeHash"]) == ({"N": "0"}, {"N": "5"}, {"S": "hash"})


def test_retention_below_a_day_is_refused(dynamodb_client: Any) -> None:
    with pytest.raises(ValueError, match="24 hours"):
        DynamoProfileRepository(dynamodb_client, "t", idempotency_retention=timedelta(hours=1))


def test_readyz_needs_the_table(settings: Settings, minter: TokenMinter, moto_endpoint: str, aws_env: None) -> None:
    missing = settings.model_copy(
        update={"user_store": "dynamodb", "user_table": "no-such-table", "dynamodb_endpoint": moto_endpoint}
    )
    with in_process_client(missing, minter=minter) as client:
        assert client.get("/readyz").status_code == 503
        assert client.get("/livez").status_code == 200


@pytest.mark.parametrize("store", ["dynamodb"], indirect=True)
def test_readyz_with_the_table(settings: Settings, minter: TokenMinter) -> None:
    with in_process_client(settings, minter=minter) as client:
        assert client.get("/readyz").status_code == 200
