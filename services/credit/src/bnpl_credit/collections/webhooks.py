"""The PSP's signed webhooks: what the scheduler would otherwise learn only by asking.

A verified event is applied once (by its id) through the same code as the rest of collections:

- a charge that settled (a SEPA debit that succeeded or failed): the scheduler runs now
  (:class:`~bnpl_credit.collections.scheduler.Collection`), which asks the PSP where the debit
  stands with the installment's key and records it exactly as on its own runs;
- a setup that succeeded after 3-D Secure: the method is kept as if the shopper had come back to
  the page (:func:`~bnpl_credit.collections.service.complete_setup`), if it is the customer's
  latest setup;
- a refund's outcome: logged (the refund to the card is recorded when it is asked for).

Anything else is acknowledged and ignored. An event is marked applied only after it was applied,
so a failure answers 5xx and the PSP delivers it again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum

from bnpl_common.clock import Clock
from bnpl_common.errors import AppError

from bnpl_credit.collections.ports import PaymentStore
from bnpl_credit.collections.scheduler import Collection
from bnpl_credit.collections.service import Collector, complete_setup
from bnpl_credit.psp.records import PspEvent, PspEventType, RefundStatus

log = logging.getLogger("bnpl.credit.collections")

EVENT_KEPT = timedelta(days=30)  # Stripe redelivers for up to 3 days


class WebhookOutcome(StrEnum):
    APPLIED = "APPLIED"
    DUPLICATE = "DUPLICATE"
    IGNORED = "IGNORED"


async def receive(
    store: PaymentStore,
    collector: Collector,
    collection: Collection | None,
    clock: Clock,
    *,
    payload: bytes,
    headers: Mapping[str, str],
) -> tuple[PspEvent, WebhookOutcome]:
    """Verify, apply once, remember. A bad signature raises ``WebhookSignatureInvalid`` (400)
    before anything in the body is read."""
    event = collector.psp.parse_webhook(payload, headers)
    if await store.psp_event_seen(event.id):
        log.info("psp webhook already applied", extra={"psp_event_id": event.id, "psp_type": event.psp_type})
        return event, WebhookOutcome.DUPLICATE
    outcome = await _apply(store, collector, collection, clock, event)
    expires = int((clock.now() + EVENT_KEPT).timestamp())
    await store.mark_psp_event(event.id, expires_at=expires)
    log.info(
        "psp webhook received",
        extra={"psp_event_id": event.id, "psp_type": event.psp_type, "outcome": str(outcome)},
    )
    return event, outcome


async def _apply(
    store: PaymentStore, collector: Collector, collection: Collection | None, clock: Clock, event: PspEvent
) -> WebhookOutcome:
    if event.type in (PspEventType.CHARGE_SUCCEEDED, PspEventType.CHARGE_FAILED) and event.charge is not None:
        if collection is None:
            return WebhookOutcome.IGNORED  # no scheduler in this process (tests without background tasks)
        await collection.run()  # asks where each settling debit stands, with the installment's key
        return WebhookOutcome.APPLIED
    if event.type is PspEventType.SETUP_SUCCEEDED and event.setup is not None:
        return await _setup_succeeded(store, collector, clock, event.setup.setup_id)
    if event.type is PspEventType.REFUND_UPDATED and event.refund is not None:
        refund = event.refund
        level = logging.WARNING if refund.status in (RefundStatus.FAILED, RefundStatus.CANCELED) else logging.INFO
        log.log(
            level,
            "refund to the payment method updated",
            extra={"psp_refund_id": refund.id, "status": str(refund.status)},
        )
        return WebhookOutcome.APPLIED
    return WebhookOutcome.IGNORED


async def _setup_succeeded(store: PaymentStore, collector: Collector, clock: Clock, setup_id: str) -> WebhookOutcome:
    owner = await store.get_setup_owner(setup_id)
    profile = await store.get_payment_profile(owner) if owner else None
    if owner is None or profile is None or not profile.setups or profile.setups[-1] != setup_id:
        return WebhookOutcome.IGNORED  # not ours, or an older setup: the latest one decides
    state = await collector.psp.get_setup(setup_id)
    if profile.method is not None and profile.method.payment_method_id == state.payment_method_id:
        return WebhookOutcome.DUPLICATE  # the shopper came back to the page first
    try:
        await complete_setup(store, collector, clock, owner, setup_id=setup_id)
    except AppError as exc:  # not succeeded after all: the page tells the shopper
        log.info("setup not completed by webhook", extra={"setup_id": setup_id, "error_type": exc.error_type})
        return WebhookOutcome.IGNORED
    return WebhookOutcome.APPLIED
