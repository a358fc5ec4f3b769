"""The relay's publisher that also lands every event in the lake (local)."""

from __future__ import annotations

from bnpl_common.aio import run_blocking

from bnpl_credit.events.relay import Message, Publisher
from bnpl_credit.lake.writer import LakeWriter


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
