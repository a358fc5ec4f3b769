"""Shapes of ``/v1/plans``, of confirming an application into a plan and of repayments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from bnpl_credit.schemas import CamelModel, InputModel, Money, MoneyInput, PlanType

InstallmentStatus = Literal["DUE", "PAID", "LATE", "REFUNDED"]
PlanStatus = Literal["ACTIVE", "COMPLETED", "REFUNDED"]


class PlanInstallment(CamelModel):
    sequence: int
    due_date: date
    amount: Money = Field(description="as scheduled")
    late_fee: Money
    refunded: Money = Field(description="taken off by merchant refunds")
    amount_due: Money = Field(description="amount + lateFee - refunded")
    amount_paid: Money = Field(description="paid and kept (net of what refunds returned)")
    status: InstallmentStatus
    late_since: date | None


class PaymentPlan(CamelModel):
    id: str
    application_id: str
    status: PlanStatus
    plan_type: PlanType
    merchant_id: str
    order_reference: str
    principal: Money = Field(description="amount financed")
    finance_charge: Money
    total_of_payments: Money
    apr: float
    apr_basis_points: int
    late_fees: Money
    refunded: Money = Field(description="merchant refunds so far (at most the principal)")
    total_due: Money = Field(description="totalOfPayments + lateFees - what refunds took off")
    amount_paid: Money
    amount_outstanding: Money
    returned_to_shopper: Money
    installments: list[PlanInstallment]
    created_at: datetime


class PlanList(CamelModel):
    items: list[PaymentPlan]


class PaymentInput(InputModel):
    amount: MoneyInput


class Allocation(CamelModel):
    sequence: int
    amount: Money


class Payment(CamelModel):
    id: str
    plan_id: str
    amount: Money
    source: Literal["SHOPPER", "CONFIRMATION"]
    created_at: datetime
    allocations: list[Allocation]
    plan_status: PlanStatus
    amount_outstanding: Money
