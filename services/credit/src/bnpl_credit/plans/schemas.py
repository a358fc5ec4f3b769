"""Shapes of ``/v1/plans`` and of confirming an application into a plan."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from bnpl_credit.schemas import CamelModel, Money, MoneyInput, PlanType


class PlanInstallment(CamelModel):
    sequence: int
    due_date: date
    amount: Money
    amount_paid: Money
    status: Literal["DUE", "PAID", "LATE"]


class PaymentPlan(CamelModel):
    id: str
    application_id: str
    status: Literal["ACTIVE", "COMPLETED"]
    plan_type: PlanType
    merchant_id: str
    order_reference: str
    principal: Money
    finance_charge: Money
    total_of_payments: Money
    apr: float
    apr_basis_points: int
    amount_paid: Money
    amount_outstanding: Money
    installments: list[PlanInstallment]
    created_at: datetime


class PlanList(CamelModel):
    items: list[PaymentPlan]


class PaymentInput(CamelModel):
    amount: MoneyInput


class Allocation(CamelModel):
    sequence: int
    amount: Money


class Payment(CamelModel):
    id: str
    plan_id: str
    amount: Money
    created_at: datetime
    allocations: list[Allocation]
