"""``reviewStatus`` on a shopper's ``CreditApplication``: the review a person is making of it."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from bnpl_gateway.context import GatewayContext
from bnpl_gateway.convert import build


@strawberry.enum(description="Where a review case is.")
class ReviewCaseStatus(Enum):
    OPEN = "OPEN"
    INFO_REQUESTED = "INFO_REQUESTED"
    AWAITING_SECOND_APPROVAL = "AWAITING_SECOND_APPROVAL"
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    EXPIRED = "EXPIRED"


@strawberry.type(description="A person's review of an application (a referral, or a decline the shopper contested).")
class ReviewStatus:
    case_id: strawberry.ID
    status: ReviewCaseStatus
    opened_at: dt.datetime
    expires_at: dt.datetime = strawberry.field(description="Undecided by then, the case expires.")
    info_request: str | None = strawberry.field(description="What the reviewer asked the shopper to send.")
    closed_at: dt.datetime | None


async def fetch_review_status(ctx: GatewayContext, application_id: str) -> ReviewStatus | None:
    data = await ctx.upstreams.credit.call("GET", f"/v1/applications/{application_id}/review", token=ctx.token)
    return build(ReviewStatus, data) if data else None
