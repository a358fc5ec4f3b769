"""Staff reads: whose an application or a plan is, a customer's applications and plans, and one
plan with its payments and refunds. Each view is written to the audit log before it is shown."""

from __future__ import annotations

from bnpl_common.clock import Clock
from bnpl_common.errors import NotFound, ValidationFailed
from bnpl_common.jwt import Principal

from bnpl_credit.audit.model import AuditAction, AuditRecord, customer_subject, plan_subject
from bnpl_credit.markets.catalog import MarketCatalog
from bnpl_credit.plans.ledger import late_fee_terms
from bnpl_credit.plans.schemas import PaymentPlan
from bnpl_credit.refunds.schemas import Refund
from bnpl_credit.staff.schemas import ApplicationSummary, CustomerOverview, Owner, PaymentRow, StaffPlan
from bnpl_credit.storage.port import CreditStore

OVERVIEW_APPLICATIONS = 50


class OwnerNotFound(NotFound):
    error_type = "NotFound"


async def owner_of(store: CreditStore, *, application_id: str | None, plan_id: str | None) -> Owner:
    """The customer an application or a plan belongs to (an opaque id: no personal data)."""
    if bool(application_id) == bool(plan_id):
        raise ValidationFailed("give exactly one of applicationId or planId", field="applicationId")
    if plan_id:
        plan = await store.find_plan(plan_id)
        if plan is None:
            raise OwnerNotFound("no such plan", field="planId")
        return Owner(customer_id=plan.customer_id)
    assert application_id is not None
    session = await store.checkout_by_application(application_id)
    if session is None or session.customer_id is None:
        raise OwnerNotFound("no such application", field="applicationId")
    return Owner(customer_id=session.customer_id)


def _audit(
    staff: Principal, clock: Clock, action: AuditAction, subjects: tuple[str, ...], **details: object
) -> AuditRecord:
    return AuditRecord.new(
        at=clock.now(), actor=staff.sub, actor_groups=staff.groups, action=action, subjects=subjects, details=details
    )


async def overview(
    store: CreditStore, markets: MarketCatalog, clock: Clock, staff: Principal, *, customer_id: str
) -> CustomerOverview:
    """A customer's latest applications and every plan (the view is audited)."""
    now = clock.now()
    applications = await store.list_applications(customer_id, limit=OVERVIEW_APPLICATIONS, after=None)
    plans = await store.list_plans(customer_id)
    await store.append_audit([_audit(staff, clock, AuditAction.CUSTOMER_VIEWED, (customer_subject(customer_id),))])
    today = now.date()
    return CustomerOverview(
        customer_id=customer_id,
        applications=[ApplicationSummary.of(a, now) for a in applications],
        plans=[PaymentPlan.as_of(p, today, late_fee_terms(markets, p)) for p in plans],
    )


async def plan_view(
    store: CreditStore, markets: MarketCatalog, clock: Clock, staff: Principal, *, plan_id: str
) -> StaffPlan:
    """One plan as of today with its payments and refunds (the view is audited)."""
    plan = await store.find_plan(plan_id)
    if plan is None:
        raise OwnerNotFound("no such plan", field="planId")
    payments = await store.list_payments(plan.customer_id, plan_id)
    refunds = await store.list_refunds(plan.customer_id, plan_id)
    await store.append_audit(
        [
            _audit(
                staff,
                clock,
                AuditAction.PLAN_VIEWED,
                (plan_subject(plan_id), customer_subject(plan.customer_id)),
            )
        ]
    )
    return StaffPlan(
        customer_id=plan.customer_id,
        plan=PaymentPlan.as_of(plan, clock.now().date(), late_fee_terms(markets, plan)),
        payments=[PaymentRow.of(p) for p in payments],
        refunds=[Refund.of(r) for r in refunds],
    )
