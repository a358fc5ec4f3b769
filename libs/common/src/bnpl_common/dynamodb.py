"""DynamoDB plumbing the services share: the client, a table made from a ``table.json``,
attribute values, and transactions whose operations have names.

A ``table.json`` is CreateTable's request shape plus ``"TimeToLiveAttribute"`` (its
``TableName``, if any, is replaced by the name given). Tests, the docker compose init
container and the CloudFormation data stack all read the same file.

Attribute values: :func:`to_item` and :func:`from_item` turn plain Python values into
DynamoDB's typed maps (``{"S": ...}``, ``{"N": ...}``...) and back; integers come back as
``int`` (money is integer minor units), never ``Decimal``.

Transactions: each operation of a ``TransactWriteItems`` call gets a name
(:func:`put`, :func:`update`, :func:`delete`, :func:`condition_check`), and when DynamoDB
cancels the transaction :class:`TransactionCancelled` says which named operations' conditions
failed, so no caller depends on an operation's position in the list.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from bnpl_common.errors import ConcurrentUpdate
from bnpl_common.settings import CommonSettings

# botocore's standard retry mode (throttling, transient errors): 3 retries after the first attempt.
MAX_ATTEMPTS = 3
# Credit runs store calls in worker threads; enough connections that they never wait for one.
MAX_POOL_CONNECTIONS = 64


def dynamodb_client(settings: CommonSettings, *, endpoint_url: str | None = None) -> Any:
    """A boto3 DynamoDB client with the service's timeouts (HTTP_CONNECT_TIMEOUT,
    HTTP_READ_TIMEOUT) and region; ``endpoint_url`` for DynamoDB Local or moto. Create one per process."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=settings.http_connect_timeout,
        read_timeout=settings.http_read_timeout,
        retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
        max_pool_connections=MAX_POOL_CONNECTIONS,
    )
    return boto3.client("dynamodb", region_name=settings.aws_region, endpoint_url=endpoint_url, config=config)


def load_table_definition(path: Path) -> dict[str, Any]:
    """The parsed ``table.json`` (a fresh copy each call)."""
    definition: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return definition


def create_table(client: Any, name: str, definition: Path | Mapping[str, Any]) -> None:
    """Create table ``name`` from ``definition`` (a ``table.json`` path or its parsed content),
    wait until it is active and make sure its TTL is on.

    A table that already exists is left as it is, but its TTL is still switched on, so an
    init container can run this on every start.
    """
    request = dict(load_table_definition(definition) if isinstance(definition, Path) else definition)
    ttl_name = request.pop("TimeToLiveAttribute", None)
    request["TableName"] = name
    request.setdefault("BillingMode", "PAY_PER_REQUEST")
    with contextlib.suppress(client.exceptions.ResourceInUseException):  # exists already: wait for it below
        client.create_table(**request)
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    if ttl_name:
        current = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            client.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_name}
            )


# -- attribute values -------------------------------------------------------------------

AttributeValue = dict[str, Any]
"""One typed DynamoDB value, e.g. ``{"S": "abc"}`` or ``{"L": [{"N": "1"}]}``."""

Item = dict[str, AttributeValue]
"""An item, a key or a map of expression values, in DynamoDB's typed form."""


def to_attribute(value: Any) -> AttributeValue:
    """The typed value of ``value``: ``None`` NULL, ``bool`` BOOL, ``int``/``float``/``Decimal``
    N, ``str`` S, a mapping with string keys M, a list or tuple L. Anything else (and a
    float that is not finite) is refused with ``TypeError``/``ValueError``."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):  # before int: bool is an int subclass
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, float | Decimal):
        if not math.isfinite(value):
            raise ValueError(f"DynamoDB numbers must be finite, not {value!r}")
        return {"N": repr(value) if isinstance(value, float) else str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, Mapping):
        return {"M": to_item(value)}
    if isinstance(value, list | tuple):
        return {"L": [to_attribute(v) for v in value]}
    raise TypeError(f"no DynamoDB attribute type for {type(value).__name__}")


def from_attribute(attribute: Mapping[str, Any]) -> Any:
    """The Python value of a typed value (the inverse of :func:`to_attribute`): N is an
    ``int`` when it is written without a fraction or exponent, else a ``float``."""
    if len(attribute) != 1:
        raise ValueError(f"an attribute value has exactly one type, got {sorted(attribute)}")
    [(kind, raw)] = attribute.items()
    if kind == "S":
        return str(raw)
    if kind == "N":
        text = str(raw)
        return float(text) if any(c in text for c in ".eE") else int(text)
    if kind == "BOOL":
        return bool(raw)
    if kind == "NULL":
        return None
    if kind == "M":
        return from_item(raw)
    if kind == "L":
        return [from_attribute(v) for v in raw]
    raise TypeError(f"attribute type {kind!r} is not used here")


def to_item(values: Mapping[str, Any]) -> Item:
    """A typed item (or key, or expression values) from a mapping of plain values."""
    item: Item = {}
    for name, value in values.items():
        if not isinstance(name, str):
            raise TypeError(f"attribute names are strings, not {type(name).__name__}")
        item[name] = to_attribute(value)
    return item


def from_item(item: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The plain values of a typed item (as ``get_item``/``query`` return them)."""
    return {name: from_attribute(value) for name, value in item.items()}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since the Unix epoch: the number DynamoDB's time to live reads."""
    if moment.tzinfo is None:
        raise ValueError("a timestamp must be timezone-aware")
    return (moment - _EPOCH) // timedelta(seconds=1)


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` (``""`` for anything else)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, Mapping):
        return ""
    return str(response.get("Error", {}).get("Code", ""))


# -- transactions -------------------------------------------------------------------------

Action = Literal["Put", "Update", "Delete", "ConditionCheck"]

MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit per TransactWriteItems call

CONDITION_FAILED = "ConditionalCheckFailed"
TRANSACTION_CONFLICT = "TransactionConflict"
# Whole-call errors that mean "another transaction was writing these items": contention.
_CONTENTION_ERRORS = frozenset({"TransactionConflictException", "TransactionInProgressException"})


@dataclass(frozen=True, slots=True)
class TransactOp:
    """One named operation of a ``TransactWriteItems`` call (build it with :func:`put`,
    :func:`update`, :func:`delete` or :func:`condition_check`)."""

    name: str
    action: Action
    params: Mapping[str, Any]

    def request(self) -> dict[str, Any]:
        """The element of ``TransactItems``: ``{"Put": {...}}`` etc."""
        return {self.action: dict(self.params)}


def _expression(
    condition: str | None, names: Mapping[str, str] | None, values: Mapping[str, Any] | None
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if condition is not None:
        params["ConditionExpression"] = condition
    if names:
        params["ExpressionAttributeNames"] = dict(names)
    if values:
        params["ExpressionAttributeValues"] = to_item(values)
    return params


def put(
    name: str,
    table: str,
    item: Mapping[str, Any],
    *,
    condition: str | None = None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    return_old_on_failure: bool = False,
) -> TransactOp:
    """Put ``item`` (plain values) if ``condition`` holds. With ``return_old_on_failure`` a failed
    condition brings the existing item back (:meth:`TransactionCancelled.old_item`)."""
    params: dict[str, Any] = {"TableName": table, "Item": to_item(item), **_expression(condition, names, values)}
    if return_old_on_failure:
        params["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return TransactOp(name, "Put", params)


def update(
    name: str,
    table: str,
    key: Mapping[str, Any],
    *,
    expression: str,
    condition: str | None = None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    return_old_on_failure: bool = False,
) -> TransactOp:
    """Apply the update ``expression`` to the item at ``key`` if ``condition`` holds."""
    params: dict[str, Any] = {
        "TableName": table,
        "Key": to_item(key),
        "UpdateExpression": expression,
        **_expression(condition, names, values),
    }
    if return_old_on_failure:
        params["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return TransactOp(name, "Update", params)


def delete(
    name: str,
    table: str,
    key: Mapping[str, Any],
    *,
    condition: str | None = None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> TransactOp:
    """Delete the item at ``key`` if ``condition`` holds (a missing item is no failure without one)."""
    params = {"TableName": table, "Key": to_item(key), **_expression(condition, names, values)}
    return TransactOp(name, "Delete", params)


def condition_check(
    name: str,
    table: str,
    key: Mapping[str, Any],
    *,
    condition: str,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> TransactOp:
    """Write nothing, but cancel the transaction unless ``condition`` holds on the item at ``key``."""
    params = {"TableName": table, "Key": to_item(key), **_expression(condition, names, values)}
    return TransactOp(name, "ConditionCheck", params)


def transaction_request(operations: Sequence[TransactOp]) -> dict[str, Any]:
    """The keyword arguments of ``client.transact_write_items`` for ``operations``, in order."""
    names = [op.name for op in operations]
    if not operations or len(operations) > MAX_TRANSACTION_ITEMS:
        raise ValueError(f"a transaction has 1 to {MAX_TRANSACTION_ITEMS} operations, not {len(operations)}")
    if len(set(names)) != len(names):
        raise ValueError(f"operation names must be unique in a transaction: {names}")
    return {"TransactItems": [op.request() for op in operations]}


@dataclass(frozen=True, slots=True)
class CancellationReason:
    """Why DynamoDB refused one operation of a cancelled transaction (``code`` ``"None"``: it
    did not, another one did)."""

    code: str
    message: str | None = None
    item: Item | None = None  # the existing item, when the operation asked for it


class TransactionCancelled(Exception):
    """A ``TransactWriteItems`` call was cancelled; the reasons are keyed by operation name."""

    def __init__(self, reasons: Mapping[str, CancellationReason]) -> None:
        self.reasons: dict[str, CancellationReason] = dict(reasons)
        super().__init__(", ".join(f"{n}: {r.code}" for n, r in self.reasons.items() if r.code != "None"))

    @property
    def failed_conditions(self) -> frozenset[str]:
        """The names of the operations whose condition expression was false."""
        return frozenset(n for n, r in self.reasons.items() if r.code == CONDITION_FAILED)

    def condition_failed(self, name: str) -> bool:
        return name in self.failed_conditions

    def old_item(self, name: str) -> dict[str, Any] | None:
        """The item the failed operation ``name`` found (plain values), if it asked for it."""
        reason = self.reasons.get(name)
        return from_item(reason.item) if reason is not None and reason.item else None


def cancellation(operations: Sequence[TransactOp], exc: BaseException) -> TransactionCancelled | None:
    """The :class:`TransactionCancelled` that a ``TransactionCanceledException`` of a call made
    with ``operations`` means (its CancellationReasons are in the same order); None for any
    other error."""
    if error_code(exc) != "TransactionCanceledException":
        return None
    raw: Sequence[Mapping[str, Any]] = getattr(exc, "response", {}).get("CancellationReasons") or []
    reasons: dict[str, CancellationReason] = {}
    for index, op in enumerate(operations):
        found = raw[index] if index < len(raw) else {}
        reasons[op.name] = CancellationReason(
            code=str(found.get("Code") or "None"), message=found.get("Message"), item=found.get("Item")
        )
    return TransactionCancelled(reasons)


def transact_write(client: Any, operations: Sequence[TransactOp]) -> None:
    """Write ``operations`` in one ``TransactWriteItems`` call (blocking: run it with
    :func:`bnpl_common.aio.run_blocking`).

    Raises :class:`TransactionCancelled` when a condition failed (the caller decides what
    that means), and :class:`~bnpl_common.errors.ConcurrentUpdate` when the call lost only to
    another transaction on the same items, which a retry of the whole step resolves.
    """
    request = transaction_request(operations)
    try:
        client.transact_write_items(**request)
    except Exception as exc:
        if error_code(exc) in _CONTENTION_ERRORS:
            raise ConcurrentUpdate() from exc
        cancelled = cancellation(operations, exc)
        if cancelled is None:
            raise
        codes = {reason.code for reason in cancelled.reasons.values()}
        if TRANSACTION_CONFLICT in codes and CONDITION_FAILED not in codes:
            raise ConcurrentUpdate() from exc
        raise cancelled from exc
