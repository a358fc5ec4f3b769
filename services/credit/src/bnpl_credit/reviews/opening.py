"""The case a REFERRED decision opens, stored with the decision in its transaction."""

from __future__ import annotations

from bnpl_credit.applications.model import Application, ApplicationStatus
from bnpl_credit.reviews.model import CaseOrigin, ReviewCase


def referral_case(application: Application) -> ReviewCase | None:
    """A REFERRED application's review case; None for any other outcome."""
    if application.status is not ApplicationStatus.REFERRED:
        return None
    order = application.order
    return ReviewCase.open(
        application_id=application.id,
        customer_id=application.customer_id,
        origin=CaseOrigin.REFERRAL,
        original_status=application.decision,
        amount=order.amount,
        currency=order.currency,
        plan_type=order.plan_type,
        now=application.created_at,
    )
