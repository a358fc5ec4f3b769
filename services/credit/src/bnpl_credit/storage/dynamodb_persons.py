"""Persons and their accounts on DynamoDB (mixed into ``DynamoStore``).

Items: ``CUST#<sub>``/``PERSON`` (``personKey``, ``linkedAt``: which person an account belongs
to) and ``PERSON#<personKey>``/``MEMBER#<linkedAt>#<sub>`` (the person's members, first linked
first), written together in one transaction conditional on the first being absent.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from bnpl_common.aio import run_blocking
from bnpl_common.dynamodb import TransactionCancelled, from_item, put, to_item, transact_write
from bnpl_common.timefmt import format_instant

from bnpl_credit.credit_line.ports import PersonLine


class DynamoPersons:
    """The person part of the credit-line port."""

    _client: Any
    table: str

    def _person_line_sync(self, customer_id: str) -> PersonLine | None:
        out = self._client.get_item(
            TableName=self.table, Key=to_item({"PK": f"CUST#{customer_id}", "SK": "PERSON"}), ConsistentRead=True
        )
        if "Item" not in out:
            return None
        person_key = str(from_item(out["Item"])["personKey"])
        members: list[str] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :member)",
            "ExpressionAttributeValues": to_item({":pk": f"PERSON#{person_key}", ":member": "MEMBER#"}),
            "ConsistentRead": True,
        }
        while True:
            page = self._client.query(**kwargs)
            members += [str(from_item(item)["customerId"]) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        if customer_id not in members:  # cannot happen: both items are written together
            members.append(customer_id)
        return PersonLine(person_key, tuple(members))

    async def link_person(self, person_key: str, customer_id: str, *, now: datetime) -> PersonLine:
        def link() -> PersonLine:
            line = self._person_line_sync(customer_id)
            if line is not None:
                return line
            at = format_instant(now)
            # a concurrent request may have linked it meanwhile: then read what stands
            with contextlib.suppress(TransactionCancelled):
                transact_write(
                    self._client,
                    [
                        put(
                            "person",
                            self.table,
                            {"PK": f"CUST#{customer_id}", "SK": "PERSON", "personKey": person_key, "linkedAt": at},
                            condition="attribute_not_exists(PK)",
                        ),
                        put(
                            "member",
                            self.table,
                            {
                                "PK": f"PERSON#{person_key}",
                                "SK": f"MEMBER#{at}#{customer_id}",
                                "customerId": customer_id,
                            },
                            condition="attribute_not_exists(PK)",
                        ),
                    ],
                )
            linked = self._person_line_sync(customer_id)
            if linked is None:
                raise RuntimeError("the person link was neither written nor found")
            return linked

        return await run_blocking(link)

    async def person_of(self, customer_id: str) -> PersonLine | None:
        return await run_blocking(self._person_line_sync, customer_id)
