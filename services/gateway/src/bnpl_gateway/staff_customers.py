"""Staff reads of customers: lookup by e-mail, phone, application or plan (masked), a
customer's applications and plans, a plan's payments and refunds, and the full profile for a
stated reason. The user service records every read of a profile, the credit service every view
of a customer's business; ``profileAudit`` shows the user service's records to approvers."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import strawberry

from bnpl_gateway.context import GatewayContext
from bnpl_gateway.convert import build
from bnpl_gateway.errors import GatewayError
from bnpl_gateway.staff import _segment
from bnpl_gateway.types import Address, Allocation, Employment, Housing, Money, PaymentPlan
from bnpl_gateway.upstream import NotFoundUpstream

Info = strawberry.Info[GatewayContext, None]


@strawberry.type(description="A customer as a lookup shows them: enough to pick the right one, masked.")
class CustomerMatch:
    customer_id: strawberry.ID
    email: str | None = strawberry.field(description="Masked: first letter and domain.")
    phone_number: str = strawberry.field(description="Masked: country prefix and last three digits.")
    given_name: str
    family_initial: str
    phone_verified: bool
    created_at: dt.datetime


@strawberry.type(description="The full profile, shown to staff for a stated reason (the view is audited).")
class CustomerProfile:
    id: strawberry.ID
    email: str | None
    given_name: str
    family_name: str
    date_of_birth: dt.date
    phone_number: str
    phone_verified: bool
    address: Address
    monthly_income: Money
    monthly_expenses: Money
    housing: Housing
    employment: Employment
    employment_years: int
    created_at: dt.datetime


@strawberry.type(description="One of a customer's applications, as staff see it.")
class ApplicationSummary:
    id: strawberry.ID
    status: str
    decision: str
    amount: Money
    merchant_id: str
    order_reference: str
    plan_type: str
    created_at: dt.datetime
    plan_id: strawberry.ID | None


@strawberry.type(description="A customer's business with the platform (no personal data).")
class CustomerOverview:
    customer_id: strawberry.ID
    applications: list[ApplicationSummary]
    plans: list[PaymentPlan]


@strawberry.type
class StaffPayment:
    id: strawberry.ID
    amount: Money
    source: str
    created_at: dt.datetime
    allocations: list[Allocation]


@strawberry.type(description="A merchant's refund of a plan's order.")
class StaffRefund:
    id: strawberry.ID
    amount: Money
    reason: str
    full: bool
    returned_to_shopper: Money
    created_at: dt.datetime


@strawberry.type(description="A plan with its payments and refunds (the view is audited).")
class StaffPlan:
    customer_id: strawberry.ID
    plan: PaymentPlan
    payments: list[StaffPayment]
    refunds: list[StaffRefund]


@strawberry.type(description="Who looked a customer up or read their profile (the user service's record).")
class ProfileAuditRecord:
    id: strawberry.ID
    at: dt.datetime
    actor: str
    actor_groups: list[str]
    action: str
    customer_ids: list[str]
    reason: str | None
    case_id: strawberry.ID | None
    details: str = strawberry.field(description="JSON text.")


@strawberry.type(description="A page of a customer's profile audit, newest first.")
class ProfileAuditConnection:
    items: list[ProfileAuditRecord]
    next_token: str | None = strawberry.field(description="The next (older) page's; null on the last.")


def _one_of(**given: str | None) -> tuple[str, str]:
    named = [(k, v) for k, v in given.items() if v]
    if len(named) != 1:
        raise GatewayError(
            "ValidationError",
            "look up by exactly one of email, phone, applicationId or planId",
            info={"field": "email"},
        )
    return named[0]


@strawberry.type
class StaffCustomerQuery:
    @strawberry.field(
        description="Staff: customers by e-mail, verified phone number, application id or plan id; masked "
        "(the lookup is audited)."
    )
    async def customer_lookup(
        self,
        info: Info,
        email: str | None = None,
        phone: str | None = None,
        application_id: strawberry.ID | None = None,
        plan_id: strawberry.ID | None = None,
    ) -> list[CustomerMatch]:
        ctx = info.context
        await ctx.ensure_live()  # a staff token Cognito no longer honours does nothing
        name, value = _one_of(email=email, phone=phone, applicationId=application_id, planId=plan_id)
        params: dict[str, Any]
        if name in ("applicationId", "planId"):
            try:
                owner = await ctx.upstreams.credit.call(
                    "GET", "/v1/staff/owners", token=ctx.token, params={name: _segment(value, name)}
                )
            except NotFoundUpstream:
                return []
            params = {"customerId": owner["customerId"]}
        else:
            params = {name: value}
        data = await ctx.upstreams.user.call(
            "GET", "/v1/staff/customers", token=ctx.token, params=params, field_map={"email": "email", "phone": "phone"}
        )
        return [build(CustomerMatch, m) for m in data["items"]]

    @strawberry.field(description="Staff: a customer's latest applications and plans (the view is audited).")
    async def customer_overview(self, info: Info, customer_id: strawberry.ID) -> CustomerOverview:
        ctx = info.context
        await ctx.ensure_live()  # a staff token Cognito no longer honours does nothing
        data = await ctx.upstreams.credit.call(
            "GET", f"/v1/staff/customers/{_segment(customer_id, 'customerId')}/overview", token=ctx.token
        )
        return CustomerOverview(
            customer_id=data["customerId"],
            applications=[build(ApplicationSummary, a) for a in data["applications"]],
            plans=[build(PaymentPlan, p) for p in data["plans"]],
        )

    @strawberry.field(
        description="Staff: the full profile, for a reason that is recorded with who asked (and the case)."
    )
    async def customer_profile(
        self, info: Info, customer_id: strawberry.ID, reason: str, case_id: strawberry.ID | None = None
    ) -> CustomerProfile | None:
        ctx = info.context
        await ctx.ensure_live()  # a staff token Cognito no longer honours does nothing
        body: dict[str, Any] = {"reason": reason}
        if case_id:
            body["caseId"] = case_id
        try:
            data = await ctx.upstreams.user.call(
                "POST",
                f"/v1/staff/customers/{_segment(customer_id, 'customerId')}/profile-views",
                token=ctx.token,
                json=body,
                field_map={"reason": "reason", "caseId": "caseId"},
            )
        except NotFoundUpstream:
            return None
        return build(CustomerProfile, data)

    @strawberry.field(description="Staff: a plan with its payments and refunds (the view is audited).")
    async def staff_plan(self, info: Info, plan_id: strawberry.ID) -> StaffPlan | None:
        ctx = info.context
        await ctx.ensure_live()  # a staff token Cognito no longer honours does nothing
        try:
            data = await ctx.upstreams.credit.call(
                "GET", f"/v1/staff/plans/{_segment(plan_id, 'planId')}", token=ctx.token
            )
        except NotFoundUpstream:
            return None
        return StaffPlan(
            customer_id=data["customerId"],
            plan=build(PaymentPlan, data["plan"]),
            payments=[build(StaffPayment, p) for p in data["payments"]],
            refunds=[build(StaffRefund, r) for r in data["refunds"]],
        )

    @strawberry.field(
        description="Approvers: who looked a customer up or read their profile, newest first, paged like auditLog."
    )
    async def profile_audit(
        self, info: Info, customer_id: strawberry.ID, limit: int | None = None, next_token: str | None = None
    ) -> ProfileAuditConnection:
        ctx = info.context
        await ctx.ensure_live()  # a staff token Cognito no longer honours does nothing
        data = await ctx.upstreams.user.call(
            "GET",
            f"/v1/staff/customers/{_segment(customer_id, 'customerId')}/profile-views",
            token=ctx.token,
            params={"limit": limit, "nextToken": next_token},
        )
        items = [build(ProfileAuditRecord, {**r, "details": json.dumps(r.get("details") or {})}) for r in data["items"]]
        return ProfileAuditConnection(items=items, next_token=data.get("nextToken"))


@strawberry.type(description="A late fee taken off an installment.")
class WaivedFee:
    sequence: int
    amount: Money


@strawberry.type(description="The plan after a waiver, and what was waived.")
class LateFeeWaiver:
    plan: PaymentPlan
    waived: list[WaivedFee]


@strawberry.type
class StaffCustomerMutation:
    @strawberry.mutation(
        description="Approvers: waive the unpaid late fee of one installment (installmentId: its sequence) "
        "or of all, with a reason (audited with the change)."
    )
    async def waive_late_fee(
        self,
        info: Info,
        plan_id: strawberry.ID,
        reason: str,
        idempotency_key: str,
        installment_id: strawberry.ID | None = None,
    ) -> LateFeeWaiver:
        ctx = info.context
        await ctx.ensure_live()  # it moves money: a token Cognito no longer honours moves none
        body: dict[str, Any] = {"reason": reason}
        if installment_id is not None:
            if not str(installment_id).isdigit():
                raise GatewayError(
                    "ValidationError", "installmentId is an installment's sequence", info={"field": "installmentId"}
                )
            body["installment"] = int(installment_id)
        data = await ctx.upstreams.credit.call(
            "POST",
            f"/v1/staff/plans/{_segment(plan_id, 'planId')}/late-fee-waivers",
            token=ctx.token,
            json=body,
            idempotency_key=idempotency_key,
            field_map={"installment": "installmentId", "reason": "reason"},
        )
        return LateFeeWaiver(
            plan=build(PaymentPlan, data["plan"]), waived=[build(WaivedFee, w) for w in data["waived"]]
        )
