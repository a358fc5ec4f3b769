"""The staff side's dependencies: the caller's role, the review rules and the SMS channel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from bnpl_common.jwt import Principal
from fastapi import Depends, Request

from bnpl_credit.reviews.notify import Sms
from bnpl_credit.reviews.roles import Role, require_role
from bnpl_credit.reviews.service import ReviewRules


@dataclass(frozen=True)
class ReviewState:
    rules: ReviewRules
    sms: Sms | None
    local: bool = False  # BNPL_ENV=local: merchants' webhook URLs may be plain http on this host


async def _principal(request: Request) -> Principal:
    principal: Principal = await request.app.state.credit.authenticator(request)
    return principal


async def _reviewer(request: Request) -> Principal:
    return require_role(await _principal(request), Role.REVIEWER)


async def _approver(request: Request) -> Principal:
    return require_role(await _principal(request), Role.APPROVER)


async def _review_state(request: Request) -> ReviewState:
    state: ReviewState = request.app.state.reviews
    return state


Reviewer = Annotated[Principal, Depends(_reviewer)]
Approver = Annotated[Principal, Depends(_approver)]
Reviews = Annotated[ReviewState, Depends(_review_state)]
