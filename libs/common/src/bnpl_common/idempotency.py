"""Idempotency keys: a retry returns the first response; the same key with another body is refused."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from bnpl_common.errors import IdempotencyConflict, ValidationFailed

IDEMPOTENCY_HEADER = "Idempotency-Key"
_KEY_RE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """What an idempotent call answered the first time: a retry with the same key gets it back."""

    fingerprint: str
    status_code: int
    body: dict[str, Any]


def fingerprint(payload: Any) -> str:
    """A stable hash of a JSON-able request body (key order does not matter)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str | None) -> str:
    """Validate an idempotency key (8-128 of ``A-Za-z0-9._:-``)."""
    if not key or not _KEY_RE.match(key):
        raise ValidationFailed(
            "Idempotency-Key must be 8 to 128 characters of letters, digits, '.', '_', ':' or '-'",
            field="idempotencyKey",
        )
    return key


def ensure_same_request(stored_fingerprint: str, new_fingerprint: str) -> None:
    """Raise when a key is reused with a different request body."""
    if stored_fingerprint != new_fingerprint:
        raise IdempotencyConflict(
            "this idempotency key was already used with a different request", field="idempotencyKey"
        )
