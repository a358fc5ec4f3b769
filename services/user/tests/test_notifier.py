"""SMS adapters: the End User Messaging call (botocore Stubber) and the outbox line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import boto3
import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.testing import set_fake_aws_environment
from bnpl_user.notifier import EndUserMessagingNotifier, NotifierError, OutboxNotifier
from botocore.stub import Stubber


@pytest.fixture
def sms_client(monkeypatch: pytest.MonkeyPatch) -> Any:
    set_fake_aws_environment(monkeypatch)
    return boto3.client("pinpoint-sms-voice-v2", region_name="us-east-1")


def test_end_user_messaging_sends_a_transactional_sms(sms_client: Any) -> None:
    notifier = EndUserMessagingNotifier(sms_client, "+15555550100")
    with Stubber(sms_client) as stub:
        stub.add_response(
            "send_text_message",
            {"MessageId": "msg-1"},
            expected_params={
                "DestinationPhoneNumber": "+447700900789",
                "MessageBody": "hello",
                "MessageType": "TRANSACTIONAL",
                "OriginationIdentity": "+15555550100",
            },
        )
        anyio.run(notifier.send_sms, "+447700900789", "hello")
        stub.assert_no_pending_responses()


def test_end_user_messaging_without_origination_identity(sms_client: Any) -> None:
    notifier = EndUserMessagingNotifier(sms_client)
    with Stubber(sms_client) as stub:
        stub.add_response(
            "send_text_message",
            {"MessageId": "msg-2"},
            expected_params={
                "DestinationPhoneNumber": "+447700900789",
                "MessageBody": "hello",
                "MessageType": "TRANSACTIONAL",
            },
        )
        anyio.run(notifier.send_sms, "+447700900789", "hello")
        stub.assert_no_pending_responses()


def test_end_user_messaging_errors_become_notifier_errors(sms_client: Any) -> None:
    notifier = EndUserMessagingNotifier(sms_client)
    with Stubber(sms_client) as stub:
        stub.add_client_error("send_text_message", service_error_code="ThrottlingException", http_status_code=429)
        with pytest.raises(NotifierError):
            anyio.run(notifier.send_sms, "+447700900789", "hello")


def test_outbox_appends_one_json_line_per_message(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "outbox.jsonl"
    notifier = OutboxNotifier(path, clock=FixedClock(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)))
    anyio.run(notifier.send_sms, "+447700900789", "first")
    anyio.run(notifier.send_sms, "+33612345678", "second")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines == [
        {"to": "+447700900789", "body": "first", "sent_at": "2026-01-02T03:04:05+00:00"},
        {"to": "+33612345678", "body": "second", "sent_at": "2026-01-02T03:04:05+00:00"},
    ]


def test_outbox_write_failure_is_a_notifier_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(NotifierError):
        anyio.run(OutboxNotifier(blocker / "outbox.jsonl").send_sms, "+447700900789", "x")
