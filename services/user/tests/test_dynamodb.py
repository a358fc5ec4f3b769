"""What only the DynamoDB adapter has: the table file, its creation, the item layout and TTLs."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from bnpl_common.idempotency import StoredResponse
from bnpl_common.testing import TokenMinter
from bnpl_user.profiles.model import Profile
from bnpl_user.profiles.schemas import ProfileInput
from bnpl_user.settings import Settings
from bnpl_user.storage import table as table_module
from bnpl_user.storage.dynamodb import DynamoUserStore
from bnpl_user.storage.table import create_table, table_definition
from bnpl_user.testing import in_process_client, profile_input
from bnpl_user.verification.model import Challenge

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


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
    item: dict[str, Any] = client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    return item


def test_single_table_items_and_their_ttl(dynamodb_client: Any, dynamodb_table: str) -> None:
    store = DynamoUserStore(dynamodb_client, dynamodb_table)
    details = ProfileInput.model_validate(profile_input()).to_details()
    profile = Profile("customer-a", details, False, NOW, NOW)
    challenge = Challenge("c1", "customer-a", "hash", details.phone_number, NOW, NOW + timedelta(minutes=10), 5)

    async def scenario() -> None:
        await store.create_profile(
            profile, key="key-00000001", response=StoredResponse("fp", 201, {"id": "customer-a"})
        )
        await store.save_challenge(challenge, replacing=None, profile=replace(profile, version=1), usage=[])

    anyio.run(scenario)
    item = _item(dynamodb_client, dynamodb_table, "PROFILE")
    assert "ttl" not in item  # profiles are kept
    assert item["phoneNumber"] == {"S": "+447700900789"}
    assert json.loads(item["profile"]["S"])["monthlyIncome"] == {"amount": 350000, "currency": "GBP"}

    idempotency = _item(dynamodb_client, dynamodb_table, "IDEMPOTENCY#key-00000001")
    kept = int(idempotency["ttl"]["N"]) - int(NOW.timestamp())
    assert kept >= 24 * 3600

    otp = _item(dynamodb_client, dynamodb_table, "OTP")
    assert int(otp["ttl"]["N"]) > int(challenge.expires_at.timestamp())
    assert (otp["attempts"], otp["maxAttempts"], otp["codeHash"]) == ({"N": "0"}, {"N": "5"}, {"S": "hash"})


def test_retention_below_a_day_is_refused(dynamodb_client: Any) -> None:
    with pytest.raises(ValueError, match="24 hours"):
        DynamoUserStore(dynamodb_client, "t", idempotency_retention=timedelta(hours=1))


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


def test_items_written_by_earlier_versions_stay_readable(dynamodb_client: Any, dynamodb_table: str) -> None:
    """Earlier versions wrote ``isoformat()`` timestamps (``+00:00``) and ``createdAtMicros``."""
    details = json.dumps(ProfileInput.model_validate(profile_input()).model_dump(mode="json"))
    pk = {"S": "CUSTOMER#customer-a"}
    dynamodb_client.put_item(
        TableName=dynamodb_table,
        Item={
            "PK": pk,
            "SK": {"S": "PROFILE"},
            "sub": {"S": "customer-a"},
            "profile": {"S": details},
            "phoneNumber": {"S": "+447700900789"},
            "phoneVerified": {"BOOL": False},
            "createdAt": {"S": "2026-03-15T12:00:00+00:00"},
            "updatedAt": {"S": "2026-03-15T12:00:00+00:00"},
            "version": {"N": "3"},
        },
    )
    dynamodb_client.put_item(
        TableName=dynamodb_table,
        Item={
            "PK": pk,
            "SK": {"S": "OTP"},
            "sub": {"S": "customer-a"},
            "challengeId": {"S": "c1"},
            "codeHash": {"S": "hash"},
            "phoneNumber": {"S": "+447700900789"},
            "createdAt": {"S": "2026-03-15T12:00:00+00:00"},
            "createdAtMicros": {"N": str(int(NOW.timestamp()) * 1_000_000)},
            "expiresAt": {"S": "2026-03-15T12:10:00+00:00"},
            "attempts": {"N": "2"},
            "maxAttempts": {"N": "5"},
            "ttl": {"N": "1773709800"},
        },
    )
    store = DynamoUserStore(dynamodb_client, dynamodb_table)
    state = anyio.run(store.verification_state, "customer-a")
    assert state.profile is not None and state.challenge is not None
    assert (state.profile.created_at, state.profile.version) == (NOW, 3)
    assert state.profile.details == ProfileInput.model_validate(profile_input()).to_details()
    assert (state.challenge.expires_at, state.challenge.attempts_remaining) == (NOW + timedelta(minutes=10), 3)
