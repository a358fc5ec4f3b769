"""The relay's publisher that also lands every event in the lake (local)."""

from __future__ import annotations

import json

from bnpl_common.aio import run_blocking

from bnpl_credit.events.relay import Message, Publisher
from bnpl_credit.lake.writer import LakeWriter, pseudonym, scrub


class LakePublisher:
    """Writes the batch to the lake, then publishes it downstream.

    A failure of either leaves the batch unmarked, so the relay sends it again: the lake may hold
    an event twice (its views keep one row per id), and the downstream publisher is at least
    once already.
    """

    def __init__(self, inner: Publisher, writer: LakeWriter) -> None:
        self._inner = inner
        self._writer = writer

    async def publish(self, events: list[Message]) -> list[str]:
        await run_blocking(self._writer.write, events)
        return await self._inner.publish(events)


class LakeEnvelopePublisher:
    """AWS: adds what the lake's Firehose needs to each published event, then publishes it.

    EventBridge cannot compute a keyed hash, so the credit service adds ``customerKey`` (the
    lake's pseudonym of ``customerId``) and ``dataJson`` (the scrubbed payload as one JSON
    string, the lake's ``data`` column); the lake's rule (infra/cloudformation/data.yaml)
    passes only those, never ``customerId``, to Firehose. Other consumers see two more fields.
    """

    def __init__(self, inner: Publisher, *, pseudonym_key: bytes) -> None:
        if not pseudonym_key:
            raise ValueError("the lake needs a pseudonymisation key")
        self._inner = inner
        self._key = pseudonym_key

    def envelope(self, message: Message) -> Message:
        data = json.dumps(scrub(message.get("data", {})), separators=(",", ":"), sort_keys=True)
        return {**message, "customerKey": pseudonym(self._key, message["customerId"]), "dataJson": data}

    async def publish(self, events: list[Message]) -> list[str]:
        return await self._inner.publish([self.envelope(e) for e in events])
