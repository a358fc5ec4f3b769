"""Shapes of ``/v1/plans``, of confirming an application into a plan and of repayments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from bnpl_credit.markets.catalog import LateFeeRules
from bnpl_credit.markets.interest import PayoffQuote as EarlyQuote
from bnpl_credit.plans.interest import WithdrawalTerms
from bnpl_credit.plans.ledger import Plan
from bnpl_credit.plans.model import Payment as PaymentRecord
from bnpl_credit.schemas import NOMINAL_APR, CamelModel, InputModel, Money, MoneyInput, PlanType, RateFields

InstallmentStatus = Literal["DUE", "PAID", "LATE", "REFUNDED"]
PlanStatus = Literal["AUTHORIZED", "ACTIVE", "COMPLETED", "REFUNDED"]


class PlanInstallment(CamelModel):
    sequence: int
    due_date: date
    amount: Money = Field(description="as scheduled")
    late_fee: Money
    refunded: Money = Field(description="taken off by merchant refunds")
    amount_due: Money = Field(description="amount + lateFee - refunded - interestCancelled")
    amount_paid: Money = Field(description="paid and kept (net of what refunds returned)")
    status: InstallmentStatus
    late_since: date | None
    interest_cancelled: Money = Field(description="interest not earned, cancelled (early settlement, refund)")


class PaymentPlan(RateFields):
    id: str
    application_id: str
    status: PlanStatus
    plan_type: PlanType
    merchant_id: str
    order_reference: str
    principal: Money = Field(description="amount financed")
    finance_charge: Money
    total_of_payments: Money
    apr: float = Field(description=NOMINAL_APR)
    apr_basis_points: int = Field(description="apr in basis points")
    late_fees: Money
    refunded: Money = Field(description="merchant refunds so far (at most the principal)")
    total_due: Money = Field(description="totalOfPayments + lateFees - what refunds took off")
    amount_paid: Money
    amount_outstanding: Money
    returned_to_shopper: Money
    interest_cancelled: Money = Field(
        description="interest not earned that was cancelled: early settlement, "
        "withdrawal, the schedule a partial refund recomputed"
    )
    interest_charged: Money = Field(description="financeCharge - interestCancelled: the interest the shopper pays")
    withdrawn_on: date | None = Field(description="the day the shopper withdrew from the agreement")
    installments: list[PlanInstallment]
    created_at: datetime

    @classmethod
    def as_of(cls, plan: Plan, today: date, fees: LateFeeRules) -> PaymentPlan:
        """The plan as it stands ``today``: lateness derived on a copy, fees shown."""
        return cls.of(plan.as_of(today, fees), today=today, grace_days=fees.grace_days)

    @classmethod
    def of(cls, plan: Plan, *, today: date, grace_days: int) -> PaymentPlan:
        """The plan exactly as ``plan`` holds it (see :meth:`as_of` for a read)."""
        t, currency = plan.terms, plan.currency
        totals = plan.totals()
        return cls(
            id=t.id,
            application_id=t.application_id,
            status=plan.status.value,
            plan_type=t.plan_type,
            merchant_id=t.merchant_id,
            order_reference=t.order_reference,
            principal=Money.of(t.principal, currency),
            finance_charge=Money.of(t.finance_charge, currency),
            total_of_payments=Money.of(t.total_of_payments, currency),
            apr=t.apr,
            apr_basis_points=t.apr_basis_points,
            **RateFields.of_rate(t.rate),
            late_fees=Money.of(totals.late_fees, currency),
            refunded=Money.of(plan.refunded, currency),
            total_due=Money.of(totals.total_due, currency),
            amount_paid=Money.of(totals.amount_paid, currency),
            amount_outstanding=Money.of(totals.amount_outstanding, currency),
            returned_to_shopper=Money.of(totals.returned_to_shopper, currency),
            interest_cancelled=Money.of(totals.rebated, currency),
            interest_charged=Money.of(t.finance_charge - totals.rebated, currency),
            withdrawn_on=plan.withdrawn_on,
            installments=[
                PlanInstallment(
                    sequence=i.sequence,
                    due_date=i.due_date,
                    amount=Money.of(i.amount, currency),
                    late_fee=Money.of(i.late_fee, currency),
                    refunded=Money.of(i.credited, currency),
                    amount_due=Money.of(i.due, currency),
                    amount_paid=Money.of(i.net_paid, currency),
                    status=i.status(today, grace_days).value,
                    late_since=i.late_on,
                    interest_cancelled=Money.of(i.rebated, currency),
                )
                for i in plan.installments
            ],
            created_at=t.created_at,
        )


class PlanList(CamelModel):
    items: list[PaymentPlan]


class ConfirmInput(InputModel):
    accepted_document_hash: str | None = Field(
        default=None,
        pattern=r"^[0-9a-fA-F]{64}$",
        description="the pre-contract document's contentHash (SHA-256, hex): the shopper accepted it",
    )


class PaymentInput(InputModel):
    amount: MoneyInput


class Allocation(CamelModel):
    sequence: int
    amount: Money


class Payment(CamelModel):
    id: str
    plan_id: str
    amount: Money
    source: Literal["SHOPPER", "CONFIRMATION", "SCHEDULED"]
    created_at: datetime
    allocations: list[Allocation]
    plan_status: PlanStatus
    amount_outstanding: Money
    interest_cancelled: Money = Field(description="what paying off early cancelled (the payoff quote's rebate)")

    @classmethod
    def of(cls, payment: PaymentRecord, plan: Plan, *, interest_cancelled: int = 0) -> Payment:
        """The payment with where it left ``plan``."""
        currency = payment.currency
        return cls(
            id=payment.id,
            plan_id=payment.plan_id,
            amount=Money.of(payment.amount, currency),
            source=payment.source.value,
            created_at=payment.created_at,
            allocations=[
                Allocation(sequence=a.sequence, amount=Money.of(a.amount, currency)) for a in payment.allocations
            ],
            plan_status=plan.status.value,
            amount_outstanding=Money.of(plan.totals().amount_outstanding, currency),
            interest_cancelled=Money.of(interest_cancelled, currency),
        )


class PayoffQuote(CamelModel):
    amount: Money = Field(description="what settles the plan today")
    as_of: date
    rebate: Money = Field(description="the installments still to come less amount: the interest not earned")
    remaining: Money = Field(description="the installments still to come, as scheduled")

    @classmethod
    def of(cls, quote: EarlyQuote, currency: str) -> PayoffQuote:
        return cls(
            amount=Money.of(quote.amount, currency),
            as_of=quote.as_of,
            rebate=Money.of(quote.rebate, currency),
            remaining=Money.of(quote.remaining, currency),
        )


class Withdrawal(CamelModel):
    plan_id: str
    withdrawn_on: date
    principal: Money = Field(description="the principal still financed, repaid")
    interest: Money = Field(description="interest at the borrowing rate for the days used")
    days: int = Field(description="days the credit was used")
    amount_paid: Money = Field(description="taken now: principal + interest - what was already paid")
    returned_to_shopper: Money = Field(description="paid beyond principal + interest: given back to the shopper")
    plan: PaymentPlan

    @classmethod
    def of(cls, terms: WithdrawalTerms, plan: PaymentPlan, currency: str) -> Withdrawal:
        assert plan.withdrawn_on is not None
        return cls(
            plan_id=plan.id,
            withdrawn_on=plan.withdrawn_on,
            principal=Money.of(terms.principal, currency),
            interest=Money.of(terms.interest, currency),
            days=terms.days,
            amount_paid=Money.of(terms.to_pay, currency),
            returned_to_shopper=Money.of(terms.to_return, currency),
            plan=plan,
        )
