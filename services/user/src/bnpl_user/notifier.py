"""Sending SMS: the ``Notifier`` port and its adapters.

``OutboxNotifier`` appends to a local JSON-lines file (the developer's SMS inbox, and
the only place a code is ever written in clear); ``EndUserMessagingNotifier`` sends
through AWS End User Messaging SMS (``pinpoint-sms-voice-v2`` ``SendTextMessage``).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Protocol

from bnpl_common.aio import run_blocking
from bnpl_common.clock import Clock, SystemClock
from botocore.exceptions import BotoCoreError, ClientError


class NotifierError(Exception):
    """The message could not be handed to the SMS channel."""


class Notifier(Protocol):
    async def send_sms(self, to: str, body: str) -> None: ...


class OutboxNotifier:
    """Appends ``{"to", "body", "sent_at"}`` as one JSON line per message."""

    def __init__(self, path: Path, *, clock: Clock | None = None) -> None:
        self.path = Path(path)
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()

    def _append(self, line: str) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")

    async def send_sms(self, to: str, body: str) -> None:
        # A developer's inbox, not storage or an API: its lines keep the shape they always had.
        line = json.dumps({"to": to, "body": body, "sent_at": self._clock.now().isoformat()})
        try:
            await run_blocking(self._append, line)
        except OSError as exc:
            raise NotifierError("could not write the SMS outbox") from exc


class EndUserMessagingNotifier:
    """AWS End User Messaging SMS through a boto3 ``pinpoint-sms-voice-v2`` client."""

    def __init__(self, client: Any, origination_identity: str | None = None) -> None:
        self._client = client
        self._origination_identity = origination_identity

    async def send_sms(self, to: str, body: str) -> None:
        params: dict[str, Any] = {
            "DestinationPhoneNumber": to,
            "MessageBody": body,
            "MessageType": "TRANSACTIONAL",
        }
        if self._origination_identity:
            params["OriginationIdentity"] = self._origination_identity
        try:
            await run_blocking(self._client.send_text_message, **params)
        except (ClientError, BotoCoreError) as exc:
            raise NotifierError("End User Messaging refused or did not answer") from exc
