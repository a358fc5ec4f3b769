"""The DynamoDB outbox index, sharded: pending events spread over ``OUTBOX#0`` ...
``OUTBOX#<n-1>`` of GSI3 instead of one ``OUTBOX`` partition.

One partition key takes about 1,000 writes a second; every decision writes one pending event
and every publication removes it from the index, so a single ``OUTBOX`` key is the first hot
partition at scale. An event's shard is a hash of its id (stable, spread evenly); the relay
reads the oldest pending events of every shard and merges them, so it still gets the oldest
``limit`` events overall, in the order they occurred. ``OUTBOX`` (events written before the
sharding) is read too, until it drains.
"""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

Row = TypeVar("Row", bound=Mapping[str, Any])

OUTBOX_SHARDS = 16
LEGACY_OUTBOX = "OUTBOX"


def outbox_partition(event_id: str, *, shards: int = OUTBOX_SHARDS) -> str:
    """The GSI3 partition of a pending event."""
    return f"OUTBOX#{zlib.crc32(event_id.encode()) % shards}"


def outbox_partitions(*, shards: int = OUTBOX_SHARDS) -> list[str]:
    """Every partition the relay reads, the legacy one included."""
    return [LEGACY_OUTBOX, *(f"OUTBOX#{n}" for n in range(shards))]


def oldest(rows_by_partition: Iterable[Sequence[Row]], *, limit: int) -> list[Row]:
    """The ``limit`` oldest rows of several partitions, each already sorted by ``GSI3SK``."""
    return list(heapq.merge(*rows_by_partition, key=lambda row: str(row["GSI3SK"])))[:limit]
