"""The DynamoDB outbox index, sharded (``dynamodb_shards``): pending events spread over
``OUTBOX#0`` ... ``OUTBOX#<n-1>`` of GSI3 instead of one ``OUTBOX`` partition.

Every decision writes one pending event and every publication removes it from the index, so a
single ``OUTBOX`` key is the first hot partition at scale. The relay reads the oldest pending
events of every shard and merges them, so it still gets the oldest ``limit`` events overall, in
the order they occurred. ``OUTBOX`` (events written before the sharding) is read too, until it
drains.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from bnpl_credit.storage.dynamodb_shards import SHARDS, merge_sorted, shard_partition, shard_partitions

Row = TypeVar("Row", bound=Mapping[str, Any])

OUTBOX_SHARDS = SHARDS
LEGACY_OUTBOX = "OUTBOX"


def outbox_partition(event_id: str, *, shards: int = OUTBOX_SHARDS) -> str:
    """The GSI3 partition of a pending event."""
    return shard_partition(LEGACY_OUTBOX, event_id, shards=shards)


def outbox_partitions(*, shards: int = OUTBOX_SHARDS) -> list[str]:
    """Every partition the relay reads, the legacy one included."""
    return shard_partitions(LEGACY_OUTBOX, shards=shards)


def oldest(rows_by_partition: Iterable[Sequence[Row]], *, limit: int) -> list[Row]:
    """The ``limit`` oldest rows of several partitions, each already sorted by ``GSI3SK``."""
    return merge_sorted(rows_by_partition, limit=limit)
