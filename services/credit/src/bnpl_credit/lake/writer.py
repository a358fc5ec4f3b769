"""Writing published events to the lake as Parquet, pseudonymised.

One file per relay batch and partition (event type, UTC date of the event). Files are written
to a temporary name and renamed, so a reader never sees half a file; a batch that fails is
retried by the relay, so an event may land twice: the query views keep one row per event id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from bnpl_common.timefmt import parse_instant

# Keys that would put a person in the lake; events carry none today, and this keeps it so.
PERSONAL_KEYS = frozenset(
    {
        "email",
        "phone",
        "phoneNumber",
        "givenName",
        "familyName",
        "name",
        "address",
        "dateOfBirth",
        "shopper",
        "customerId",
    }
)

SCHEMA = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("occurred_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("customer_key", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("data", pa.string(), nullable=False),  # the event's payload as JSON, scrubbed
    ]
)


def pseudonym(key: bytes, customer_id: str) -> str:
    """The customer's id in the lake: HMAC-SHA256 under a key the lake's readers never hold."""
    return hmac.new(key, customer_id.encode(), hashlib.sha256).hexdigest()[:32]


def scrub(value: Any) -> Any:
    """The payload without any key that names a person (recursively)."""
    if isinstance(value, Mapping):
        return {k: scrub(v) for k, v in value.items() if k not in PERSONAL_KEYS}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


class LakeWriter:
    def __init__(self, root: str | Path, *, pseudonym_key: bytes) -> None:
        if not pseudonym_key:
            raise ValueError("the lake needs a pseudonymisation key")
        self.root = Path(root)
        self._key = pseudonym_key

    def row(self, message: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "event_id": message["id"],
            "occurred_at": parse_instant(message["occurredAt"]),
            "customer_key": pseudonym(self._key, message["customerId"]),
            "source": message.get("source", ""),
            "data": json.dumps(scrub(message.get("data", {})), separators=(",", ":"), sort_keys=True),
        }

    def write(self, messages: Iterable[Mapping[str, Any]]) -> list[Path]:
        """Write the events (published messages); the files written."""
        parts: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for message in messages:
            row = self.row(message)
            occurred: datetime = row["occurred_at"]
            parts[(str(message["type"]), occurred.date().isoformat())].append(row)
        written = []
        for (event_type, day), rows in sorted(parts.items()):
            folder = self.root / "events" / f"type={event_type}" / f"date={day}"
            folder.mkdir(parents=True, exist_ok=True)
            name = f"part-{datetime.now().strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:12]}.parquet"
            tmp = folder / f".{name}.tmp"
            pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), tmp, compression="zstd")
            os.replace(tmp, folder / name)
            written.append(folder / name)
        return written
