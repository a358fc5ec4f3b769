"""Merchant refunds: reduce what the shopper owes (last installments first), return what was
overpaid; refunds reaching the principal undo the plan (REFUNDED)."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from bnpl_common.clock import Clock
from bnpl_common.idempotency import check_key, fingerprint

from bnpl_credit.decision.offers import money
from bnpl_credit.decision.policy import Policy
from bnpl_credit.errors import (
    AmbiguousOrder,
    CurrencyMismatch,
    PlanNotActive,
    PlanNotFound,
    RefundExceedsPrincipal,
)
from bnpl_credit.events.outbox import new_event
from bnpl_credit.plans import ledger
from bnpl_credit.plans.service import PlanChange, change_plan_once, late_events
from bnpl_credit.refunds.auth import MerchantCaller
from bnpl_credit.refunds.schemas import Refund, RefundInput
from bnpl_credit.storage.port import CreditStore, PlanRecord, StoredResponse
from bnpl_credit.timefmt import iso

log = logging.getLogger("bnpl.credit.refunds")


async def _find(store: CreditStore, caller: MerchantCaller, body: RefundInput) -> tuple[dict[str, Any], int]:
    if body.plan_id is not None:
        found = await store.find_plan(body.plan_id)
    else:
        assert body.merchant_id is not None and body.order_reference is not None
        plans = await store.find_plans_by_order(body.merchant_id, body.order_reference)
        if len(plans) > 1 and caller.may_act_for(body.merchant_id):
            # merchantId and orderReference come from the checkout link, which the shopper controls:
            # never guess which of the plans is meant
            raise AmbiguousOrder(
                "more than one plan carries this order; refund by planId",
                field="planId",
                info={"matchingPlans": len(plans)},
            )
        found = await store.find_plan(plans[0]["id"]) if plans else None
    # another merchant's plan is as good as absent
    if found is None or not caller.may_act_for(found[0]["merchantId"]):
        raise PlanNotFound("no such plan for this merchant", field="planId" if body.plan_id else "orderReference")
    if body.merchant_id is not None and found[0]["merchantId"] != body.merchant_id:
        raise PlanNotFound("no such plan for this merchant", field="merchantId")
    return found


async def refund(
    store: CreditStore,
    policy: Policy,
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
        plan, version = await _find(store, caller, body)
        cur = plan["currency"]
        if body.amount.currency != cur:
            raise CurrencyMismatch(f"this plan is in {cur}", field="amount.currency")
        if plan["status"] == "REFUNDED":
            raise PlanNotActive("this plan was refunded in full", field="planId", info={"status": plan["status"]})
        refundable = plan["principal"] - plan.get("refunded", 0)
        if body.amount.amount > refundable:
            raise RefundExceedsPrincipal(
                f"at most {refundable} minor units of this plan's principal can still be refunded",
                field="amount.amount",
                info={"refundable": refundable},
            )
        marked = ledger.apply_lateness(plan, now.date(), policy.late_fees)
        outcome = ledger.apply_refund(plan, body.amount.amount, now.date())
        t = ledger.totals(plan)
        doc = {
            "id": str(uuid.uuid4()),
            "customerId": plan["customerId"],
            "planId": plan["id"],
            "merchantId": plan["merchantId"],
            "orderReference": plan["orderReference"],
            "amount": money(body.amount.amount, cur),
            "reason": body.reason,
            "full": outcome["full"],
            "credits": [{"sequence": c["sequence"], "amount": money(c["amount"], cur)} for c in outcome["credits"]],
            "returnedToShopper": money(outcome["returnedToShopper"], cur),
            "planStatus": plan["status"],
            "amountOutstanding": money(t["amountOutstanding"], cur),
            "createdAt": iso(now),
            "by": caller.access_key_id,
        }
        event = new_event(
            "refund.applied",
            now=now,
            customer_id=plan["customerId"],
            data={
                "planId": plan["id"],
                "refundId": doc["id"],
                "merchantId": plan["merchantId"],
                "orderReference": plan["orderReference"],
                "amount": doc["amount"],
                "returnedToShopper": doc["returnedToShopper"],
                "planStatus": plan["status"],
            },
        )
        return PlanChange(
            plan=plan,
            version=version,
            records=[PlanRecord("refund", doc)],
            events=[*late_events(plan, marked, now), event],
            response=Refund.model_validate(doc).model_dump(by_alias=True, mode="json"),
        )

    stored, written = await change_plan_once(
        store, clock, scope=caller.scope, key=key, request_fp=request_fp, build=build
    )
    if written:
        log.info("refund applied", extra={"plan_id": stored.body["planId"], "refund_id": stored.body["id"]})
    return stored
