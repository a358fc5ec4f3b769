"""One timestamp format for storage and APIs: ISO 8601, UTC, microseconds, trailing ``Z``.

``2026-03-15T12:00:00.000000Z``: fixed width, so stored timestamps sort as text in the
order of time (DynamoDB sort keys and condition expressions compare them as strings).
Reading also accepts any ISO 8601 offset (``+00:00`` is what earlier versions stored),
so data written before this format stays readable.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def format_instant(moment: datetime) -> str:
    """``moment`` as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (converted to UTC); a naive datetime is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a timestamp must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_instant(text: str) -> datetime:
    """The aware UTC datetime of an ISO 8601 timestamp with ``Z`` or an offset; text without
    an offset is refused (it would be a guess)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a timezone: {text!r}")
    return moment.astimezone(UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_micros(moment: datetime) -> int:
    """Microseconds since the Unix epoch (exact, for storing moments as integers)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a timestamp must be timezone-aware")
    return (moment - _EPOCH) // timedelta(microseconds=1)


def from_epoch_micros(value: int) -> datetime:
    """The aware UTC datetime of :func:`epoch_micros`."""
    return _EPOCH + timedelta(microseconds=value)
