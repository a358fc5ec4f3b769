"""Merchant refunds: reduce what the shopper owes (a plan with interest: the remaining schedule
recomputed, so interest is charged only on what is still financed; interest-free: the last
installments first), return what was overpaid; refunds reaching the principal undo the plan
(REFUNDED). The arithmetic is the
plan's own (:meth:`Plan.refund`); this finds the plan the merchant means and records it."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Protocol

from bnpl_common.clock import Clock
from bnpl_common.idempotency import StoredResponse, check_key, fingerprint

from bnpl_credit.checkouts.ports import CheckoutStore
from bnpl_credit.errors import AmbiguousOrder, PlanNotActive, PlanNotFound
from bnpl_credit.markets.catalog import MarketCatalog
from bnpl_credit.plans.changes import PlanChange, PlanChangeStore, change_plan_once
from bnpl_credit.plans.events import completion, installments_late, refund_applied
from bnpl_credit.plans.interest import refund_recomputation
from bnpl_credit.plans.ledger import Plan, late_fee_terms
from bnpl_credit.plans.model import Refund
from bnpl_credit.plans.ports import PlanStore
from bnpl_credit.refunds.model import MerchantCaller
from bnpl_credit.refunds.schemas import Refund as RefundOut
from bnpl_credit.refunds.schemas import RefundInput

log = logging.getLogger("bnpl.credit.refunds")


class RefundStore(PlanChangeStore, CheckoutStore, Protocol):
    """What a refund reads and writes."""


async def _find(store: PlanStore, caller: MerchantCaller, body: RefundInput) -> Plan:
    if body.plan_id is not None:
        found = await store.find_plan(body.plan_id)
    else:
        assert body.merchant_id is not None and body.order_reference is not None  # the schema requires both
        plans = await store.find_plans_by_order(body.merchant_id, body.order_reference)
        if len(plans) > 1 and caller.may_act_for(body.merchant_id):
            # merchantId and orderReference come from the checkout link, which the shopper controls:
            # never guess which of the plans is meant
            raise AmbiguousOrder(
                "more than one plan carries this order; refund by planId",
                field="planId",
                info={"matchingPlans": len(plans)},
            )
        found = await store.find_plan(plans[0].id) if plans else None
    # another merchant's plan is as good as absent
    if found is None or not caller.may_act_for(found.terms.merchant_id):
        raise PlanNotFound("no such plan for this merchant", field="planId" if body.plan_id else "orderReference")
    if body.merchant_id is not None and found.terms.merchant_id != body.merchant_id:
        raise PlanNotFound("no such plan for this merchant", field="merchantId")
    return found


async def refund(
    store: RefundStore,
    markets: MarketCatalog,
    clock: Clock,
    caller: MerchantCaller,
    *,
    body: RefundInput,
    idempotency_key: str | None,
) -> StoredResponse:
    """Refund part or all of a plan's principal for the merchant ``caller`` may act for."""
    key = check_key(idempotency_key)
    request_fp = fingerprint({"op": "refund", "body": body.model_dump(by_alias=True, mode="json")})

    async def build(now: datetime) -> PlanChange:
        plan = await _find(store, caller, body)
        if await store.checkout_by_application(plan.terms.application_id) is not None:
            # its captured and refunded amounts live on the session: only the checkout route keeps them true
            raise PlanNotActive(
                "this plan belongs to a checkout session: refund it with POST /v1/merchant/checkouts/{id}/refunds",
                field="planId",
            )
        today = now.date()
        marked = plan.mark_late(today, late_fee_terms(markets, plan))
        was = plan.status
        # a plan with interest: the remaining schedule is recomputed on what is still financed
        recomputed = (
            refund_recomputation(plan, body.amount.amount, today) if body.amount.currency == plan.currency else None
        )
        outcome = plan.refund(body.amount.amount, body.amount.currency, today, recomputed=recomputed)
        t = plan.terms
        record = Refund(
            id=str(uuid.uuid4()),
            customer_id=t.customer_id,
            plan_id=t.id,
            merchant_id=t.merchant_id,
            order_reference=t.order_reference,
            amount=body.amount.amount,
            currency=t.currency,
            reason=body.reason,
            full=outcome.full,
            credits=outcome.credits,
            returned_to_shopper=outcome.returned_to_shopper,
            plan_status=plan.status,
            amount_outstanding=plan.totals().amount_outstanding,
            created_at=now,
            by=caller.access_key_id,
        )
        return PlanChange(
            plan=plan,
            response=RefundOut.of(record).to_json(),
            events=[*installments_late(plan, marked, now), refund_applied(record, now), *completion(plan, was, now)],
            refunds=[record],
        )

    outcome = await change_plan_once(store, clock, scope=caller.scope, key=key, request_fp=request_fp, build=build)
    if outcome.written:
        body_out = outcome.response.body
        log.info("refund applied", extra={"plan_id": body_out["planId"], "refund_id": body_out["id"]})
    return outcome.response
