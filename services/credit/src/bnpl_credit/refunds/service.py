"""Merchant refunds: reduce what the shopper owes (last installments first), return what was
overpaid; refunds reaching the principal undo the plan (REFUNDED)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from bnpl_common.clock import Clock
from bnpl_common.idempotency import check_key, ensure_same_request, fingerprint

from bnpl_credit.decision.policy import Policy
from bnpl_credit.errors import (
    ConcurrentUpdate,
    CurrencyMismatch,
    PlanNotActive,
    PlanNotFound,
    RefundExceedsPrincipal,
)
from bnpl_credit.events.outbox import new_event
from bnpl_credit.plans import ledger
from bnpl_credit.refunds.auth import MerchantCaller
from bnpl_credit.refunds.schemas import Refund, RefundInput
from bnpl_credit.storage.port import CreditStore, NewIdempotency, PlanRecord, StoredResponse
from bnpl_credit.timefmt import iso

log = logging.getLogger("bnpl.credit.refunds")

_WRITE_ATTEMPTS = 5


async def _find(store: CreditStore, caller: MerchantCaller, body: RefundInput) -> tuple[dict[str, Any], int]:
    if body.plan_id is not None:
        found = await store.find_plan(body.plan_id)
    else:
        assert body.merchant_id is not None and body.order_reference is not None
        plans = await store.find_plans_by_order(body.merchant_id, body.order_reference)
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
    key = check_key(idempotency_key)
    request_fp = fingerprint({"op": "refund", "body": body.model_dump(by_alias=True, mode="json")})
    for attempt in range(_WRITE_ATTEMPTS):
        now = clock.now()
        stored = await store.get_idempotent(caller.scope, key, now=now)
        if stored is not None:
            ensure_same_request(stored.fingerprint, request_fp)
            return stored
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
            "amount": {"amount": body.amount.amount, "currency": cur},
            "reason": body.reason,
            "full": outcome["full"],
            "credits": [
                {"sequence": c["sequence"], "amount": {"amount": c["amount"], "currency": cur}}
                for c in outcome["credits"]
            ],
            "returnedToShopper": {"amount": outcome["returnedToShopper"], "currency": cur},
            "planStatus": plan["status"],
            "amountOutstanding": {"amount": t["amountOutstanding"], "currency": cur},
            "createdAt": iso(now),
            "by": caller.access_key_id,
        }
        response = Refund.model_validate(doc).model_dump(by_alias=True, mode="json")
        late_events = [
            new_event(
                "installment.late",
                now=now,
                customer_id=plan["customerId"],
                data={
                    "planId": plan["id"],
                    "sequence": m["sequence"],
                    "dueDate": m["dueDate"],
                    "lateFee": {"amount": m["lateFee"], "currency": cur},
                },
            )
            for m in marked
        ]
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
        try:
            winner = await store.update_plan(
                plan=plan,
                expected_version=version,
                records=[PlanRecord("refund", doc)],
                idempotency=NewIdempotency(caller.scope, key, request_fp, 201, response, now),
                events=[*late_events, event],
            )
        except ConcurrentUpdate:
            if attempt == _WRITE_ATTEMPTS - 1:
                raise
            continue
        if winner is not None:
            ensure_same_request(winner.fingerprint, request_fp)
            return winner
        log.info("refund applied", extra={"plan_id": plan["id"], "refund_id": doc["id"]})
        return StoredResponse(request_fp, 201, response)
    raise ConcurrentUpdate("the plan changed meanwhile; try again", field="planId")  # pragma: no cover
