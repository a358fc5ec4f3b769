"""Verified phone numbers and their owners on DynamoDB (mixed into ``DynamoUserStore``).

Item ``PK = NUMBER#<HMAC of the number>``, ``SK = OWNER``: ``sub``, ``personKey``, ``claimedAt``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bnpl_common.aio import run_blocking
from bnpl_common.dynamodb import error_code, from_item, to_item
from bnpl_common.timefmt import format_instant

from bnpl_user.verification.model import NumberOwner

OWNER_SK = "OWNER"


def number_pk(number_key: str) -> str:
    return f"NUMBER#{number_key}"


class DynamoNumberClaims:
    """The number-owner part of the verification port."""

    _client: Any
    _table: str

    async def number_owner(self, number_key: str) -> NumberOwner | None:
        def get() -> NumberOwner | None:
            out = self._client.get_item(
                TableName=self._table,
                Key=to_item({"PK": number_pk(number_key), "SK": OWNER_SK}),
                ConsistentRead=True,
            )
            if "Item" not in out:
                return None
            item = from_item(out["Item"])
            return NumberOwner(item["sub"], item["personKey"])

        return await run_blocking(get)

    async def claim_number(self, number_key: str, owner: NumberOwner, *, replacing: str | None = None) -> None:
        def claim() -> None:
            item = {
                "PK": number_pk(number_key),
                "SK": OWNER_SK,
                "sub": owner.sub,
                "personKey": owner.person_key,
                "claimedAt": format_instant(datetime.now(UTC)),
            }
            try:
                self._client.put_item(
                    TableName=self._table,
                    Item=to_item(item),
                    ConditionExpression="attribute_not_exists(PK) OR #sub = :replacing",
                    ExpressionAttributeNames={"#sub": "sub"},
                    ExpressionAttributeValues=to_item({":replacing": replacing or ""}),
                )
            except Exception as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise  # it has a live owner: nothing changes

        await run_blocking(claim)
