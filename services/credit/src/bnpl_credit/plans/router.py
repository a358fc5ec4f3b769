"""HTTP routes of payment plans and repayments."""

from __future__ import annotations

from bnpl_common.errors import ERROR_RESPONSES
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from bnpl_credit.deps import AppClock, AppCollector, CurrentCustomer, CurrentMarkets, IdempotencyKey, Store
from bnpl_credit.plans import service
from bnpl_credit.plans.schemas import Payment, PaymentInput, PaymentPlan, PayoffQuote, PlanList, Withdrawal

router = APIRouter(prefix="/v1/plans", tags=["plans"], responses=ERROR_RESPONSES)


@router.get("", response_model=PlanList)
async def list_plans(customer: CurrentCustomer, store: Store, markets: CurrentMarkets, clock: AppClock) -> PlanList:
    """The caller's payment plans, newest first."""
    return await service.list_plans(store, markets, clock, customer.sub)


@router.get("/{plan_id}", response_model=PaymentPlan, responses={404: {"description": "Not found"}})
async def get_plan(
    plan_id: str, customer: CurrentCustomer, store: Store, markets: CurrentMarkets, clock: AppClock
) -> PaymentPlan:
    """One of the caller's payment plans."""
    return await service.get_plan(store, markets, clock, customer.sub, plan_id=plan_id)


@router.post(
    "/{plan_id}/payments",
    status_code=201,
    response_model=Payment,
    responses={404: {"description": "Not found"}, 409: {"description": "Idempotency key reused"}},
)
async def make_payment(
    plan_id: str,
    body: PaymentInput,
    customer: CurrentCustomer,
    store: Store,
    markets: CurrentMarkets,
    clock: AppClock,
    collector: AppCollector,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Pay towards a plan with the saved payment method; the oldest installments are paid first."""
    stored = await service.make_payment(
        store,
        markets,
        clock,
        customer.sub,
        plan_id=plan_id,
        body=body,
        idempotency_key=idempotency_key,
        collector=collector,
    )
    return JSONResponse(stored.body, status_code=stored.status_code)


@router.get("/{plan_id}/payoff-quote", response_model=PayoffQuote, responses={404: {"description": "Not found"}})
async def payoff_quote(
    plan_id: str, customer: CurrentCustomer, store: Store, markets: CurrentMarkets, clock: AppClock
) -> PayoffQuote:
    """What settles the plan today (pay it as a payment) and the interest it cancels."""
    return await service.payoff_quote(store, markets, clock, customer.sub, plan_id=plan_id)


@router.post(
    "/{plan_id}/withdrawal",
    status_code=201,
    response_model=Withdrawal,
    responses={404: {"description": "Not found"}, 409: {"description": "Period over, not active or key reused"}},
)
async def withdraw(
    plan_id: str,
    customer: CurrentCustomer,
    store: Store,
    markets: CurrentMarkets,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Withdraw from the plan within the market's period: repay principal and interest for the days used."""
    stored = await service.withdraw(
        store, markets, clock, customer.sub, plan_id=plan_id, idempotency_key=idempotency_key
    )
    return JSONResponse(stored.body, status_code=stored.status_code)
