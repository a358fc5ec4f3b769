"""The data lake: events land as partitioned Parquet, pseudonymised, once per id in the views."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from bnpl_common.clock import FixedClock
from bnpl_credit.events.model import Event, EventType
from bnpl_credit.events.relay import LogPublisher, relay_once
from bnpl_credit.lake.publisher import LakeEnvelopePublisher, LakePublisher
from bnpl_credit.lake.query import sql
from bnpl_credit.lake.writer import LakeWriter, pseudonym, scrub

pytestmark = pytest.mark.anyio

KEY = b"test-lake-key"
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def decision(customer: str = "sub-123", status: str = "APPROVED", **data: Any) -> dict[str, Any]:
    event = Event.new(
        EventType.DECISION_MADE,
        now=NOW,
        customer_id=customer,
        data={
            "applicationId": "app-1",
            "status": status,
            "planType": "PAY_IN_4",
            "amount": {"amount": 24_900, "currency": "EUR"},
            "features": {"Income": 5.0, "Home": "rent"},
            "score": 640,
            "pd": 0.08,
            **data,
        },
    )
    return event.to_message()


def test_events_land_partitioned_by_type_and_day(tmp_path: Path) -> None:
    written = LakeWriter(tmp_path, pseudonym_key=KEY).write([decision()])
    assert len(written) == 1
    assert written[0].parent == tmp_path / "events" / "type=decision.made" / "date=2026-11-29"
    table = pq.read_table(written[0])
    assert table.column_names == ["event_id", "occurred_at", "customer_key", "source", "data"]


def test_customer_is_pseudonymised_with_a_keyed_hash(tmp_path: Path) -> None:
    LakeWriter(tmp_path, pseudonym_key=KEY).write([decision(customer="sub-123")])
    _, rows = sql(tmp_path, "SELECT customer_key, data FROM events")
    key, data = rows[0]
    assert key == pseudonym(KEY, "sub-123") and "sub-123" not in key
    assert pseudonym(b"other-key", "sub-123") != key  # without the key the pseudonym cannot be recomputed
    assert "sub-123" not in str(data)


def test_personal_keys_never_reach_the_lake(tmp_path: Path) -> None:
    message = decision(shopper={"email": "a@example.com", "phoneNumber": "+34600000000"}, email="a@example.com")
    message["data"]["items"] = [{"name": "Espresso machine", "quantity": 1}]
    LakeWriter(tmp_path, pseudonym_key=KEY).write([message])
    _, rows = sql(tmp_path, "SELECT data FROM events")
    text = str(rows[0][0])
    assert "a@example.com" not in text and "+34600000000" not in text and "Espresso" not in text
    assert scrub({"a": [{"email": "x", "b": 1}]}) == {"a": [{"b": 1}]}


def test_a_batch_written_twice_is_one_row_per_event(tmp_path: Path) -> None:
    writer = LakeWriter(tmp_path, pseudonym_key=KEY)
    batch = [decision(), decision(status="DECLINED")]
    writer.write(batch)
    writer.write(batch)  # the relay retried after a failure
    _, rows = sql(tmp_path, "SELECT status, count(*) FROM decisions GROUP BY status ORDER BY status")
    assert rows == [("APPROVED", 1), ("DECLINED", 1)]


def test_views_read_the_decision_as_scored(tmp_path: Path) -> None:
    LakeWriter(tmp_path, pseudonym_key=KEY).write([decision()])
    columns, rows = sql(tmp_path, "SELECT amount, currency, pd, score, features FROM decisions")
    record = dict(zip(columns, rows[0], strict=True))
    assert record["amount"] == 24_900 and record["currency"] == "EUR" and record["pd"] == 0.08
    assert json.loads(record["features"]) == {"Home": "rent", "Income": 5.0}


def test_an_empty_lake_has_empty_views(tmp_path: Path) -> None:
    assert sql(tmp_path, "SELECT count(*) FROM decisions")[1] == [(0,)]


def test_writer_refuses_an_empty_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="key"):
        LakeWriter(tmp_path, pseudonym_key=b"")


class BrokenWriter(LakeWriter):
    def write(self, messages: Any) -> list[Path]:
        raise OSError("disk full")


async def test_nothing_goes_downstream_when_the_lake_write_fails(tmp_path: Path) -> None:
    inner = LogPublisher()
    event = Event.new(EventType.DECISION_MADE, now=NOW, customer_id="sub-1", data={"status": "APPROVED"})
    publisher = LakePublisher(inner, BrokenWriter(tmp_path / "lake", pseudonym_key=KEY))
    with pytest.raises(OSError):
        await publisher.publish([event.to_message()])
    assert list(inner.published) == []  # the relay marks nothing, so it retries the whole batch


async def test_relay_writes_the_lake_then_marks_published(tmp_path: Path) -> None:
    class Outbox:
        def __init__(self) -> None:
            self.events = [
                Event.new(EventType.DECISION_MADE, now=NOW, customer_id="sub-1", data={"status": "APPROVED"})
            ]
            self.marked: list[str] = []

        async def pending_events(self, *, limit: int) -> list[Event]:
            return [e for e in self.events if e.id not in self.marked][:limit]

        async def mark_published(self, event_ids: Any, *, published_at: datetime) -> None:
            self.marked += list(event_ids)

    outbox = Outbox()
    publisher = LakePublisher(LogPublisher(), LakeWriter(tmp_path, pseudonym_key=KEY))
    assert await relay_once(outbox, publisher, FixedClock(NOW)) == 1
    assert outbox.marked == [outbox.events[0].id]
    assert sql(tmp_path, "SELECT event_id FROM events")[1] == [(outbox.events[0].id,)]


def test_cli_runs_a_query_and_names_a_bad_one(tmp_path: Path) -> None:
    LakeWriter(tmp_path, pseudonym_key=KEY).write([decision()])
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "bnpl_credit.lake",
            "--lake",
            str(tmp_path),
            "sql",
            "SELECT status FROM decisions",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0 and json.loads(ok.stdout) == {"status": "APPROVED"}
    bad = subprocess.run(
        [sys.executable, "-m", "bnpl_credit.lake", "--lake", str(tmp_path), "sql", "SELECT nope FROM decisions"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "nope" in bad.stderr and "Traceback" not in bad.stderr


async def test_the_aws_envelope_carries_the_pseudonym_and_the_scrubbed_payload() -> None:
    inner = LogPublisher()
    message = decision(customer="sub-9", shopper={"email": "a@example.com"})
    await LakeEnvelopePublisher(inner, pseudonym_key=KEY).publish([message])
    sent = inner.published[0]
    assert sent["customerKey"] == pseudonym(KEY, "sub-9")
    assert json.loads(sent["dataJson"]) == scrub(message["data"]) and "a@example.com" not in sent["dataJson"]
    assert sent["id"] == message["id"] and sent["data"] == message["data"]  # other consumers: unchanged


def test_aws_needs_a_real_pseudonym_key() -> None:
    from bnpl_credit.settings import Settings

    real = {
        "bnpl_env": "aws",
        "event_publisher": "eventbridge",
        "service_auth_keys": {"AKIAX": "real-secret"},
        "merchant_auth_keys": "AKIAM:real-merchant-secret:shop-1",
        "profile_verify_keys": "",  # no key: every application refused (fails closed)
    }
    with pytest.raises(ValueError, match="LAKE_PSEUDONYM_KEY"):
        Settings(**real)  # type: ignore[arg-type] - pydantic parses the settings
    assert Settings(**real, lake_pseudonym_key="a-real-key-from-secrets-manager").lake_pseudonym_key  # type: ignore[arg-type]


async def test_the_log_publisher_keeps_only_its_most_recent_events() -> None:
    """A service running for days publishes millions of events: it must not hold them all."""
    publisher = LogPublisher(keep=3)
    events = [Event.new(EventType.DECISION_MADE, now=NOW, customer_id=f"sub-{i}", data={}) for i in range(5)]
    for event in events:
        assert await publisher.publish([event.to_message()]) == [event.id]
    assert [m["id"] for m in publisher.published] == [e.id for e in events[2:]]
