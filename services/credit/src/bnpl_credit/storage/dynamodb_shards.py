"""Sharded GSI3 partitions: a queue written by every decision or plan spreads over
``<name>#0`` ... ``<name>#<n-1>`` instead of one ``<name>`` key.

One partition key takes about 1,000 writes a second, and a throttled index throttles the
table's transactions. An item's shard is a hash of its id (stable, spread evenly); a reader
queries every shard and merges the rows by ``GSI3SK``, so it gets what one partition would
have given, in the same order. For the first ``limit`` items a reader pages each shard
(``shard_page``) and reads a shard's next page only when the merge reaches its end: about
``limit`` items in 17 queries, not ``limit`` items from each shard. The unsharded ``<name>``
(items written before the sharding) is read too, until it drains: a write that keeps an item
in the queue moves it to its shard, one that takes it out removes the key.

Sharded this way: the outbox (``OUTBOX``, pending events by occurrence), the approvals holding credit
(``HELD``, the expiry sweeper's queue), the ACTIVE plans (``OPENPLAN``, read by the lateness
sweeper and the collections scheduler) and the checkout sessions with a deadline (``CHKDUE``,
the checkout sweeper's queue, ``dynamodb_checkouts``).
"""

from __future__ import annotations

import heapq
import itertools
import zlib
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

Row = TypeVar("Row", bound=Mapping[str, Any])

SHARDS = 16
OUTBOX_QUEUE = "OUTBOX"  # events not yet published, oldest first
HELD_QUEUE = "HELD"  # approvals still holding credit, by end of hold
OPEN_PLANS_QUEUE = "OPENPLAN"  # ACTIVE plans, by id
CHECKOUT_DEADLINES_QUEUE = "CHKDUE"  # checkout sessions OPEN, APPROVED or AUTHORIZED, by deadline


def shard_partition(name: str, item_id: str, *, shards: int = SHARDS) -> str:
    """The GSI3 partition of item ``item_id`` in the queue ``name``."""
    return f"{name}#{zlib.crc32(item_id.encode()) % shards}"


def shard_partitions(name: str, *, shards: int = SHARDS) -> list[str]:
    """Every partition a reader of the queue ``name`` queries, the unsharded one first."""
    return [name, *(f"{name}#{n}" for n in range(shards))]


def shard_page(limit: int, *, shards: int = SHARDS) -> int:
    """How many items to read from each shard at a time for the first ``limit`` overall: twice
    an even share, so that a shard rarely needs a second page and the reads stay near ``limit``
    items (not ``limit`` from every shard)."""
    return max(1, min(limit, -(-2 * limit // shards)))


def merge_sorted(rows_by_partition: Iterable[Iterable[Row]], *, limit: int | None = None) -> list[Row]:
    """The rows of several partitions, each already sorted by ``GSI3SK``, in one ``GSI3SK``
    order; the first ``limit`` of them. Lazy: a partition's rows are taken only as far as the
    merge needs them."""
    merged = heapq.merge(*rows_by_partition, key=lambda row: str(row["GSI3SK"]))
    return list(itertools.islice(merged, limit))
