"""Payment plans after confirmation: the customer's views, repayments and the lateness sweeper."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Protocol

from bnpl_common.clock import Clock
from bnpl_common.idempotency import StoredResponse, check_key, fingerprint
from bnpl_common.money import Money

from bnpl_credit.collections.model import PaymentDeclined
from bnpl_credit.collections.ports import PaymentStore
from bnpl_credit.collections.service import Collector, method_on_file
from bnpl_credit.errors import ConcurrentUpdate, PlanNotFound
from bnpl_credit.markets.catalog import MarketCatalog
from bnpl_credit.plans import interest
from bnpl_credit.plans.changes import PlanChange, PlanChangeStore, change_plan_once
from bnpl_credit.plans.events import completion, installments_late, payment_applied
from bnpl_credit.plans.ledger import late_fee_terms
from bnpl_credit.plans.model import Payment, PaymentSource, Refund
from bnpl_credit.plans.ports import PlanStore
from bnpl_credit.plans.schemas import Payment as PaymentOut
from bnpl_credit.plans.schemas import PaymentInput, PaymentPlan, PayoffQuote, PlanList, Withdrawal
from bnpl_credit.psp.records import ChargeStatus

log = logging.getLogger("bnpl.credit.plans")


async def get_plan(
    store: PlanStore, markets: MarketCatalog, clock: Clock, customer_id: str, *, plan_id: str
) -> PaymentPlan:
    plan = await store.get_plan(customer_id, plan_id)
    if plan is None:
        raise PlanNotFound("no such plan", field="planId")
    return PaymentPlan.as_of(plan, clock.now().date(), late_fee_terms(markets, plan))


async def list_plans(store: PlanStore, markets: MarketCatalog, clock: Clock, customer_id: str) -> PlanList:
    today = clock.now().date()
    plans = await store.list_plans(customer_id)
    return PlanList(items=[PaymentPlan.as_of(p, today, late_fee_terms(markets, p)) for p in plans])


class PaymentPlanStore(PlanChangeStore, PaymentStore, Protocol):
    """What a repayment reads and writes (the saved method, when payments are collected)."""


async def _charge_saved_method(
    store: PaymentPlanStore,
    markets: MarketCatalog,
    clock: Clock,
    collector: Collector,
    customer_id: str,
    *,
    plan_id: str,
    body: PaymentInput,
    key: str,
) -> str | None:
    """Charge the shopper's saved method for a repayment, before it is recorded: the amount is
    checked on a copy of the plan first (nothing is charged for a payment that would be refused),
    and the PSP key is the request's, so a retried request never charges twice. The charge's id,
    or None when the request's answer is stored already."""
    if await store.get_idempotent(customer_id, key, now=clock.now()) is not None:
        return None
    plan = await store.get_plan(customer_id, plan_id)
    if plan is None:
        raise PlanNotFound("no such plan", field="planId")
    today = clock.now().date()
    view = plan.copy()
    view.mark_late(today, late_fee_terms(markets, view))
    _, taken, _ = interest.take_payment(view, body.amount.amount, body.amount.currency, today)  # Overpayment...
    profile = await method_on_file(store, customer_id)
    assert profile.method is not None
    result = await collector.psp.charge(
        customer_id=profile.psp_customer_id,
        payment_method_id=profile.method.payment_method_id,
        amount=Money(amount=taken, currency=plan.currency),
        idempotency_key=f"payment-{customer_id}-{key}",
        description=f"payment towards plan {plan_id}",
    )
    if result.status is not ChargeStatus.SUCCEEDED:
        code = result.decline_code or str(result.status).lower()
        raise PaymentDeclined(
            f"the payment method was declined ({code}); nothing was charged",
            field="paymentMethod",
            info={"declineCode": code},
        )
    return result.charge_id


async def make_payment(
    store: PaymentPlanStore,
    markets: MarketCatalog,
    clock: Clock,
    customer_id: str,
    *,
    plan_id: str,
    body: PaymentInput,
    idempotency_key: str | None,
    collector: Collector | None = None,
) -> StoredResponse:
    """A repayment: oldest installment first, partial payments fine, more than is owed refused; a
    payment that reaches the payoff quote settles the plan at that amount. With payments collected
    (``collector``) it is charged to the saved method through the PSP first."""
    key = check_key(idempotency_key)
    request_fp = fingerprint({"op": "payment", "planId": plan_id, "body": body.model_dump(by_alias=True, mode="json")})
    charge_id = None
    if collector is not None:
        charge_id = await _charge_saved_method(
            store, markets, clock, collector, customer_id, plan_id=plan_id, body=body, key=key
        )

    async def build(now: datetime) -> PlanChange:
        plan = await store.get_plan(customer_id, plan_id)
        if plan is None:
            raise PlanNotFound("no such plan", field="planId")
        today = now.date()
        marked = plan.mark_late(today, late_fee_terms(markets, plan))  # what is owed today, fees included
        was = plan.status
        # paying the payoff quote settles the plan early: the interest not yet earned is cancelled
        allocations, taken, rebate = interest.take_payment(plan, body.amount.amount, body.amount.currency, today)
        payment = Payment(
            id=str(uuid.uuid4()),
            customer_id=plan.customer_id,
            plan_id=plan.id,
            amount=taken,  # a payment reaching the payoff quote takes only that
            currency=plan.currency,
            source=PaymentSource.SHOPPER,
            created_at=now,
            allocations=allocations,
            psp_charge_id=charge_id,
        )
        return PlanChange(
            plan=plan,
            response=PaymentOut.of(payment, plan, interest_cancelled=rebate).to_json(),
            events=[
                *installments_late(plan, marked, now),
                payment_applied(payment, plan, now),
                *completion(plan, was, now),
            ],
            payments=[payment],
        )

    outcome = await change_plan_once(store, clock, scope=customer_id, key=key, request_fp=request_fp, build=build)
    if outcome.written:
        log.info("payment applied", extra={"plan_id": plan_id, "payment_id": outcome.response.body["id"]})
    return outcome.response


async def payoff_quote(
    store: PlanStore, markets: MarketCatalog, clock: Clock, customer_id: str, *, plan_id: str
) -> PayoffQuote:
    """What settles the plan today, and the interest that settling cancels."""
    plan = await store.get_plan(customer_id, plan_id)
    if plan is None:
        raise PlanNotFound("no such plan", field="planId")
    today = clock.now().date()
    view = plan.as_of(today, late_fee_terms(markets, plan))
    return PayoffQuote.of(interest.payoff_quote(view, today), view.currency)


async def withdraw(
    store: PlanChangeStore,
    markets: MarketCatalog,
    clock: Clock,
    customer_id: str,
    *,
    plan_id: str,
    idempotency_key: str | None,
) -> StoredResponse:
    """Withdraw from the agreement within the market's period: repay the principal with interest
    for the days used (taken now, as any payment); everything else still owed is cancelled."""
    key = check_key(idempotency_key)
    request_fp = fingerprint({"op": "withdraw", "planId": plan_id})

    async def build(now: datetime) -> PlanChange:
        plan = await store.get_plan(customer_id, plan_id)
        if plan is None:
            raise PlanNotFound("no such plan", field="planId")
        today = now.date()
        market = markets.version(plan.terms.market_version or "") or markets.for_currency(plan.currency)
        if market is None:
            raise PlanNotFound("no such plan", field="planId")
        marked = plan.mark_late(today, late_fee_terms(markets, plan))
        terms = interest.withdrawal_terms(plan, market, today)
        allocations, returns = interest.withdraw(plan, terms, today)
        payments = []
        if terms.to_pay:
            payments.append(
                Payment(
                    id=str(uuid.uuid4()),
                    customer_id=plan.customer_id,
                    plan_id=plan.id,
                    amount=terms.to_pay,
                    currency=plan.currency,
                    source=PaymentSource.SHOPPER,
                    created_at=now,
                    allocations=allocations,
                )
            )
        # paid beyond what withdrawing costs: given back, recorded as a return (no principal refunded)
        given_back = [
            Refund(
                id=str(uuid.uuid4()),
                customer_id=plan.customer_id,
                plan_id=plan.id,
                merchant_id=plan.terms.merchant_id,
                order_reference=plan.terms.order_reference,
                amount=0,
                currency=plan.currency,
                reason="withdrawal: paid beyond what withdrawing costs, given back",
                full=False,
                credits=(),
                returned_to_shopper=sum(a.amount for a in returns),
                plan_status=plan.status,
                amount_outstanding=0,
                created_at=now,
                by="shopper",
            )
            for _ in returns[:1]
        ]
        view = PaymentPlan.of(plan, today=today, grace_days=late_fee_terms(markets, plan).grace_days)
        return PlanChange(
            plan=plan,
            response=Withdrawal.of(terms, view, plan.currency).to_json(),
            events=[*installments_late(plan, marked, now), *(payment_applied(p, plan, now) for p in payments)],
            payments=payments,
            refunds=given_back,
        )

    outcome = await change_plan_once(store, clock, scope=customer_id, key=key, request_fp=request_fp, build=build)
    if outcome.written:
        log.info("plan withdrawn", extra={"plan_id": plan_id})
    return outcome.response


async def sweep_lateness(store: PlanStore, markets: MarketCatalog, clock: Clock) -> int:
    """Mark installments that became LATE (fee + ``installment.late``); how many were marked."""
    marked_total = 0
    for plan in await store.list_open_plans():
        now = clock.now()
        marked = plan.mark_late(now.date(), late_fee_terms(markets, plan))
        if not marked:
            continue
        try:
            await store.update_plan(plan, idempotency=None, events=installments_late(plan, marked, now))
        except ConcurrentUpdate:
            continue  # a payment or refund moved it and marked lateness itself; the next sweep looks again
        marked_total += len(marked)
        log.info("installments late", extra={"plan_id": plan.id, "count": len(marked)})
    return marked_total
