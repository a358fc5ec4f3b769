"""Confirming an approval into a plan (``POST /v1/applications/{id}/confirm``).

The plan takes the offer's amounts with due dates counted from today. A plan needs a payment
method on file that the PSP accepted; a pay-in-4 plan's first part is charged to it at once
(idempotency key ``installment-<planId>-1``: the plan's id is derived from the application's, so
a retried confirmation never charges twice). A declined charge leaves no plan: the approval is
cancelled (its hold released) and the checkout session stays unauthorized. The application
leaves APPROVED, the plan is created and the order's claim passes to the plan in one
transaction, which the store refuses if the approval was cancelled or expired meanwhile.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bnpl_common.clock import Clock
from bnpl_common.idempotency import StoredResponse, check_key, ensure_same_request, fingerprint
from bnpl_common.money import Money
from bnpl_common.retry import retry_on_contention

from bnpl_credit.applications.disclosure import Documents, accepted_document, market_of
from bnpl_credit.applications.model import Application, Offer
from bnpl_credit.applications.ports import ApplicationStore
from bnpl_credit.checkouts.config import CheckoutConfig
from bnpl_credit.checkouts.ports import CheckoutStore
from bnpl_credit.checkouts.shopper import authorize_write
from bnpl_credit.collections.model import PaymentDeclined, PaymentMethodRequired
from bnpl_credit.collections.ports import PaymentStore
from bnpl_credit.collections.service import Collector, charge_installment, method_on_file
from bnpl_credit.decision.schedule import due_dates
from bnpl_credit.errors import ApplicationNotFound, InvalidApplicationState
from bnpl_credit.events.model import Event, EventType
from bnpl_credit.idempotency import IdempotencyStore, NewIdempotency
from bnpl_credit.markets.catalog import Market, MarketCatalog, disclosed_rate
from bnpl_credit.plans.events import payment_applied, plan_activated
from bnpl_credit.plans.ledger import Installment, Plan, PlanTerms, late_fee_terms
from bnpl_credit.plans.model import Payment, PaymentSource, PlanDocument, PlanStatus
from bnpl_credit.plans.ports import PlanStore
from bnpl_credit.plans.schemas import PaymentPlan
from bnpl_credit.psp.records import ChargeStatus, PaymentMethodType

log = logging.getLogger("bnpl.credit.plans")


# plan ids of confirmations derive from the application's id: one plan per application, and
# the first charge's idempotency key stays the same when a confirmation is retried
PLAN_ID_NAMESPACE = uuid.UUID("6f0c1a52-5d1e-4c43-9b39-6a3a8c0f1e18")


def plan_id_for(application_id: str) -> str:
    return str(uuid.uuid5(PLAN_ID_NAMESPACE, application_id))


class ConfirmStore(ApplicationStore, PlanStore, IdempotencyStore, CheckoutStore, PaymentStore, Protocol):
    """What confirming reads and writes."""


def open_plan(
    application: Application,
    offer: Offer,
    market: Market,
    *,
    plan_id: str,
    now: datetime,
    documents: tuple[PlanDocument, ...] = (),
) -> Plan:
    """The new plan of a confirmed approval: the offer's amounts, due dates from ``now``, and the
    rate disclosed for those dates (an APRC moves with the days between the payments)."""
    schedule = offer.schedule
    order = application.order
    product = market.product(order.plan_type)
    start = now.date()
    dates = due_dates(product, len(schedule.installments), start)
    amounts = [i.amount for i in schedule.installments]
    rate = disclosed_rate(
        market,
        product,
        start=start,
        amount_financed=schedule.amount_financed,
        installments=list(zip(dates, amounts, strict=True)),
    )
    terms = PlanTerms(
        id=plan_id,
        customer_id=application.customer_id,
        application_id=application.id,
        plan_type=order.plan_type,
        merchant_id=order.merchant_id,
        order_reference=order.order_reference,
        currency=offer.currency,
        principal=schedule.amount_financed,
        finance_charge=schedule.finance_charge,
        total_of_payments=schedule.total_of_payments,
        apr_basis_points=schedule.apr_basis_points,
        created_at=now,
        rate=rate,
        market_version=market.version,
        documents=documents,
    )
    installments = [
        Installment(sequence=i.sequence, due_date=d, amount=i.amount)
        for i, d in zip(schedule.installments, dates, strict=True)
    ]
    return Plan(terms, installments)


@dataclass(frozen=True, slots=True)
class OpenedPlan:
    """A confirmation's new plan with what it records and announces."""

    plan: Plan
    payments: tuple[Payment, ...]
    events: tuple[Event, ...]


def open_confirmed_plan(
    application: Application,
    markets: MarketCatalog,
    *,
    now: datetime,
    authorize_only: bool = False,
    documents: tuple[PlanDocument, ...] = (),
    plan_id: str | None = None,
    first_charge_id: str | None = None,
) -> OpenedPlan:
    """The plan of a held approval: its offer's amounts, due dates from today; a pay-in-4 plan's
    first part is due, and taken, at once (``first_charge_id``: the PSP's payment of it).
    ``authorize_only`` (a checkout session's approval): the plan is AUTHORIZED and its dates are
    set again at the merchant's first capture (``checkouts.service``); its first part is taken
    now only if it was charged (``first_charge_id``)."""
    offer = application.offer_to_confirm(now)
    # the terms the shopper was offered, even if a newer version came into force during the hold
    version = offer.schedule.market_version
    market = (markets.version(version) if version else None) or markets.for_currency(offer.currency)
    if market is None:
        # the market stopped lending in this currency while the approval was held
        raise InvalidApplicationState(f"{offer.currency} is no longer lent in", field="applicationId")
    plan = open_plan(application, offer, market, plan_id=plan_id or str(uuid.uuid4()), now=now, documents=documents)
    first_due = market.product(application.order.plan_type).first_due_at_start
    if authorize_only:
        plan = Plan(plan.terms, plan.installments, status=PlanStatus.AUTHORIZED)
        if not (first_due and first_charge_id):
            return OpenedPlan(plan, (), ())
    elif not first_due:
        return OpenedPlan(plan, (), (plan_activated(plan, now),))
    first = plan.installments[0].amount
    payment = Payment(
        id=str(uuid.uuid4()),
        customer_id=plan.customer_id,
        plan_id=plan.id,
        amount=first,
        currency=plan.currency,
        source=PaymentSource.CONFIRMATION,
        created_at=now,
        allocations=plan.take_payment(first, plan.currency, now.date(), before_start=authorize_only),
        psp_charge_id=first_charge_id,
    )
    if authorize_only:
        return OpenedPlan(plan, (payment,), (payment_applied(payment, plan, now),))
    return OpenedPlan(plan, (payment,), (plan_activated(plan, now), payment_applied(payment, plan, now)))


def first_part_due_at_start(application: Application, markets: MarketCatalog) -> bool:
    return market_of(markets, application).product(application.order.plan_type).first_due_at_start


async def _release_after_decline(store: ConfirmStore, application: Application, now: datetime) -> None:
    """A declined first charge: the approval is cancelled, so its hold is released at once."""
    event = Event.new(
        EventType.APPLICATION_CANCELLED,
        now=now,
        customer_id=application.customer_id,
        data={
            "applicationId": application.id,
            "reason": "payment declined",
            "released": {"amount": application.held_amount, "currency": application.order.currency},
        },
    )
    await store.save_cancellation(application.cancel(now), events=[event])


async def confirm_application(
    store: ConfirmStore,
    markets: MarketCatalog,
    clock: Clock,
    customer_id: str,
    *,
    application_id: str,
    idempotency_key: str | None,
    checkout_config: CheckoutConfig | None = None,
    documents: Documents | None = None,
    accepted_document_hash: str | None = None,
    collector: Collector | None = None,
) -> StoredResponse:
    """Turn a held approval into an active plan; a pay-in-4 plan's first part is taken now. A
    checkout session's approval becomes an AUTHORIZED plan and the session AUTHORIZED. The
    accepted pre-contract document (its hash checked) is kept with the plan; a market that
    requires acceptance refuses a confirmation without it."""
    key = check_key(idempotency_key)
    request: dict[str, str] = {"op": "confirm", "applicationId": application_id}
    if accepted_document_hash is not None:
        request["acceptedDocumentHash"] = accepted_document_hash.lower()
    request_fp = fingerprint(request)

    async def attempt() -> StoredResponse:
        now = clock.now()
        stored = await store.get_idempotent(customer_id, key, now=now)
        if stored is not None:
            ensure_same_request(stored.fingerprint, request_fp)
            return stored
        application = await store.get_application(customer_id, application_id)
        if application is None:
            raise ApplicationNotFound("no such application", field="applicationId")
        application.offer_to_confirm(now)  # InvalidApplicationState unless it holds
        session = await store.checkout_by_application(application_id)
        kept: tuple[PlanDocument, ...] = ()
        if documents is not None:
            accepted = await accepted_document(
                documents,
                application,
                market_of(markets, application),
                accepted_document_hash,
                today=now.date(),
                from_checkout=session is not None,
            )
            kept = (accepted,) if accepted is not None else ()
        plan_id = plan_id_for(application_id)
        charge_id: str | None = None
        if collector is not None:
            profile = await method_on_file(store, customer_id)  # PaymentMethodRequired
            if first_part_due_at_start(application, markets):
                if profile.method is not None and profile.method.type != PaymentMethodType.CARD:
                    # a SEPA debit settles days later: the plan would be made on money not yet
                    # taken, or refused (its hold released) while the debit still goes through
                    raise PaymentMethodRequired(
                        "the first part of this plan is charged now: add a card (a direct debit settles days later)",
                        field="paymentMethod",
                        info={"methodType": profile.method.type},
                    )
                offer = application.offer_to_confirm(now)
                first = offer.schedule.installments[0].amount
                result = await charge_installment(
                    collector, profile, plan_id=plan_id, sequence=1, amount=Money(amount=first, currency=offer.currency)
                )
                if result.status is not ChargeStatus.SUCCEEDED:
                    await _release_after_decline(store, application, now)
                    code = result.decline_code or str(result.status).lower()
                    raise PaymentDeclined(
                        f"the payment method was declined ({code}); nothing was charged and no plan was made",
                        field="paymentMethod",
                        info={"declineCode": code},
                    )
                charge_id = result.charge_id
        opened = open_confirmed_plan(
            application,
            markets,
            now=now,
            authorize_only=session is not None,
            documents=kept,
            plan_id=plan_id,
            first_charge_id=charge_id,
        )
        plan = opened.plan
        checkout = None
        if session is not None:
            config = checkout_config or CheckoutConfig()
            checkout = authorize_write(session, plan_id=plan.id, amount=plan.terms.principal, now=now, config=config)
        body = PaymentPlan.as_of(plan, now.date(), late_fee_terms(markets, plan)).to_json()
        winner = await store.save_confirmation(
            plan=plan,
            application=application.confirm(plan.id, now),
            idempotency=NewIdempotency(customer_id, key, request_fp, 201, body, now),
            payments=opened.payments,
            events=opened.events,
            checkout=checkout,
        )
        if winner is not None:
            ensure_same_request(winner.fingerprint, request_fp)
            return winner
        log.info("plan activated", extra={"application_id": application_id, "plan_id": plan.id})
        return StoredResponse(request_fp, 201, body)

    # another write to the same items (the sweeper expiring it) got in the way: read again
    return await retry_on_contention(attempt)
