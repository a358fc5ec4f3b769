"""The shared DynamoDB plumbing: client, table creation, attribute values and named
transactions, against a moto server over real HTTP."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from bnpl_common.dynamodb import (
    MAX_TRANSACTION_ITEMS,
    TransactionCancelled,
    TransactOp,
    condition_check,
    create_table,
    delete,
    dynamodb_client,
    epoch_seconds,
    error_code,
    from_attribute,
    from_item,
    put,
    to_attribute,
    to_item,
    transact_write,
    transaction_request,
    update,
)
from bnpl_common.errors import ConcurrentUpdate
from bnpl_common.settings import CommonSettings
from bnpl_common.testing import TEST_REGION, moto_server, set_fake_aws_environment
from botocore.exceptions import ClientError

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


# -- attribute values ------------------------------------------------------------------------


def test_plain_values_round_trip_and_integers_stay_ints() -> None:
    values = {
        "s": "text",
        "n": 350000,
        "negative": -12,
        "big": 10**15,
        "ratio": 0.125,
        "yes": True,
        "nothing": None,
        "map": {"amount": 100, "currency": "EUR", "nested": {"l": [1, "two", False, None]}},
        "list": [1, 2, 3],
        "empty": [],
    }
    item = to_item(values)
    assert item["n"] == {"N": "350000"}
    assert item["yes"] == {"BOOL": True}  # not N: bool is checked before int
    assert item["nothing"] == {"NULL": True}
    assert item["map"]["M"]["amount"] == {"N": "100"}
    back = from_item(item)
    assert back == values
    assert type(back["n"]) is int and type(back["big"]) is int and type(back["map"]["amount"]) is int
    assert type(back["ratio"]) is float


def test_refused_values() -> None:
    with pytest.raises(TypeError):
        to_attribute({1, 2})
    with pytest.raises(TypeError):
        to_item({1: "x"})  # type: ignore[dict-item]  # the point: a key that is not a string
    with pytest.raises(ValueError, match="finite"):
        to_attribute(float("nan"))
    with pytest.raises(TypeError):
        from_attribute({"B": b"x"})
    with pytest.raises(ValueError):
        from_attribute({"S": "a", "N": "1"})


def test_values_survive_dynamodb(client: Any) -> None:
    name = f"t-{uuid.uuid4().hex[:8]}"
    create_table(client, name, DEFINITION)
    values = {"PK": "k", "amount": 10**12, "doc": {"lines": [{"qty": 3, "price": 1999}]}, "flag": False}
    client.put_item(TableName=name, Item=to_item(values))
    stored = client.get_item(TableName=name, Key=to_item({"PK": "k"}), ConsistentRead=True)["Item"]
    assert from_item(stored) == values


def test_epoch_seconds() -> None:
    assert epoch_seconds(datetime(1970, 1, 2, tzinfo=UTC)) == 86400
    assert epoch_seconds(datetime(2026, 3, 15, 13, 0, 0, 999999, tzinfo=timezone(timedelta(hours=1)))) == int(
        datetime(2026, 3, 15, 12, tzinfo=UTC).timestamp()
    )
    with pytest.raises(ValueError):
        epoch_seconds(datetime(2026, 1, 1))


# -- transactions ------------------------------------------------------------------------------


def test_transaction_request_keeps_the_order_and_wants_unique_names() -> None:
    ops = [
        put("order", "t", {"PK": "o"}, condition="attribute_not_exists(PK)"),
        update("account", "t", {"PK": "a"}, expression="SET v = v + :one", values={":one": 1}),
        delete("claim", "t", {"PK": "c"}),
        condition_check("limit", "t", {"PK": "l"}, condition="#n < :max", names={"#n": "n"}, values={":max": 5}),
    ]
    request = transaction_request(ops)
    assert [next(iter(i)) for i in request["TransactItems"]] == ["Put", "Update", "Delete", "ConditionCheck"]
    assert request["TransactItems"][1]["Update"]["ExpressionAttributeValues"] == {":one": {"N": "1"}}
    assert request["TransactItems"][3]["ConditionCheck"]["ExpressionAttributeNames"] == {"#n": "n"}
    with pytest.raises(ValueError, match="unique"):
        transaction_request([put("same", "t", {"PK": "1"}), put("same", "t", {"PK": "2"})])
    with pytest.raises(ValueError):
        transaction_request([])
    with pytest.raises(ValueError):
        transaction_request([put(f"p{i}", "t", {"PK": str(i)}) for i in range(MAX_TRANSACTION_ITEMS + 1)])


@pytest.fixture
def table(client: Any) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    create_table(client, name, DEFINITION)
    return name


def _absent(name: str, table: str, pk: str, **more: Any) -> TransactOp:
    return put(name, table, {"PK": pk, **more}, condition="attribute_not_exists(PK)", return_old_on_failure=True)


def test_a_failed_condition_is_reported_by_operation_name(client: Any, table: str) -> None:
    transact_write(client, [_absent("key", table, "IDEM#1", answer=201), _absent("profile", table, "PROFILE#a")])
    # Only the second operation's condition fails now: the name says so, whatever its position.
    with pytest.raises(TransactionCancelled) as cancelled:
        transact_write(client, [_absent("other-key", table, "IDEM#2"), _absent("profile", table, "PROFILE#a")])
    assert cancelled.value.failed_conditions == {"profile"}
    assert cancelled.value.condition_failed("profile") and not cancelled.value.condition_failed("other-key")
    assert cancelled.value.reasons["other-key"].code == "None"
    assert cancelled.value.old_item("profile") == {"PK": "PROFILE#a"}
    assert cancelled.value.old_item("other-key") is None
    # nothing of a cancelled transaction is written
    assert "Item" not in client.get_item(TableName=table, Key=to_item({"PK": "IDEM#2"}))

    with pytest.raises(TransactionCancelled) as both:
        transact_write(client, [_absent("profile", table, "PROFILE#a"), _absent("key", table, "IDEM#1")])
    assert both.value.failed_conditions == {"profile", "key"}
    assert both.value.old_item("key") == {"PK": "IDEM#1", "answer": 201}


def test_version_checked_update(client: Any, table: str) -> None:
    transact_write(client, [put("account", table, {"PK": "A", "version": 1})])
    bump = update(
        "account",
        table,
        {"PK": "A"},
        expression="SET #v = #v + :one",
        condition="#v = :seen",
        names={"#v": "version"},
        values={":one": 1, ":seen": 1},
    )
    transact_write(client, [bump])
    with pytest.raises(TransactionCancelled) as stale:
        transact_write(client, [bump])  # read version 1, the item is at 2 now
    assert stale.value.failed_conditions == {"account"}
    assert from_item(client.get_item(TableName=table, Key=to_item({"PK": "A"}))["Item"])["version"] == 2


class _FakeClient:
    """Answers ``transact_write_items`` with one prepared botocore error (the codes DynamoDB
    sends under contention, which a single-threaded moto server cannot produce)."""

    def __init__(self, code: str, reasons: list[dict[str, Any]] | None = None) -> None:
        self.error: Any = {"Error": {"Code": code, "Message": code}}
        if reasons is not None:
            self.error["CancellationReasons"] = reasons

    def transact_write_items(self, **_: Any) -> None:
        raise ClientError(self.error, "TransactWriteItems")


def test_contention_is_a_concurrent_update_and_other_errors_pass_through() -> None:
    ops = [put("a", "t", {"PK": "a"}), put("b", "t", {"PK": "b"})]
    for client in (
        _FakeClient("TransactionConflictException"),
        _FakeClient("TransactionInProgressException"),
        _FakeClient("TransactionCanceledException", [{"Code": "None"}, {"Code": "TransactionConflict"}]),
    ):
        with pytest.raises(ConcurrentUpdate):
            transact_write(client, ops)
    mixed = _FakeClient(
        "TransactionCanceledException", [{"Code": "ConditionalCheckFailed"}, {"Code": "TransactionConflict"}]
    )
    with pytest.raises(TransactionCancelled) as cancelled:
        transact_write(mixed, ops)
    assert cancelled.value.failed_conditions == {"a"}
    with pytest.raises(ClientError):
        transact_write(_FakeClient("ValidationException"), ops)
    assert error_code(ClientError({"Error": {"Code": "X"}}, "op")) == "X"
    assert error_code(ValueError()) == ""
