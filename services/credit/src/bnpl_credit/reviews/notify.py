"""Telling the shopper a review's outcome by SMS, without calling the user service: the phone
number is the one the decision's profile snapshot held.

``OutboxSms`` appends to the local SMS outbox (the same JSON lines as the user service's, so
``make run`` shows every message in one file); ``EndUserMessagingSms`` sends through AWS End
User Messaging. Sending happens after the outcome is stored: a failure is logged (without the
number or the text) and does not undo the decision.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from bnpl_common.aio import run_blocking
from bnpl_common.clock import Clock

log = logging.getLogger("bnpl.credit.reviews")


class Sms(Protocol):
    async def send_sms(self, to: str, body: str) -> None: ...


class OutboxSms:
    def __init__(self, path: Path, clock: Clock) -> None:
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()

    def _append(self, line: str) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")

    async def send_sms(self, to: str, body: str) -> None:
        sent_at: datetime = self._clock.now()
        await run_blocking(self._append, json.dumps({"to": to, "body": body, "sent_at": sent_at.isoformat()}))


class EndUserMessagingSms:
    def __init__(self, client: Any, origination_identity: str | None = None) -> None:
        self._client = client
        self._origination_identity = origination_identity

    async def send_sms(self, to: str, body: str) -> None:
        params: dict[str, Any] = {"DestinationPhoneNumber": to, "MessageBody": body, "MessageType": "TRANSACTIONAL"}
        if self._origination_identity:
            params["OriginationIdentity"] = self._origination_identity
        await run_blocking(self._client.send_text_message, **params)


async def tell_shopper(sms: Sms | None, phone: object, body: str, *, case_id: str) -> None:
    """Best effort, after the outcome is stored."""
    if sms is None or not isinstance(phone, str) or not phone:
        log.info("review outcome not sent by sms", extra={"case_id": case_id, "reason": "no channel or number"})
        return
    try:
        await sms.send_sms(phone, body)
    except Exception as exc:  # the outcome stands; the page shows it anyway
        log.warning("review sms failed", extra={"case_id": case_id, "error_class": type(exc).__name__})
