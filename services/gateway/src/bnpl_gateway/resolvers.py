"""Query and Mutation: thin async resolvers over the user and credit REST routes."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import strawberry

from bnpl_gateway.context import GatewayContext
from bnpl_gateway.convert import build, to_json
from bnpl_gateway.documents import PayoffQuote, PrecontractInformation, Withdrawal
from bnpl_gateway.errors import GatewayError
from bnpl_gateway.types import (
    ApplicationConnection,
    CheckoutSession,
    CreditApplication,
    CreditApplicationInput,
    CreditLine,
    Customer,
    MoneyInput,
    Payment,
    PaymentPlan,
    PlanOffer,
    ProfileInput,
    ProfileUpdateInput,
    QuoteInput,
    VerificationChallenge,
)
from bnpl_gateway.upstream import NotFoundUpstream

Info = strawberry.Info[GatewayContext, None]

# REST body paths -> GraphQL argument paths, per resolver.
PROFILE_FIELDS = {"": "input"}
APPLY_FIELDS = {"checkoutToken": "input.checkoutToken", "planType": "input.planType"}
# Checkout tokens are random and URL-safe (letters, digits, "-" and "_").
CHECKOUT_TOKEN_MIN = 16
CHECKOUT_TOKEN_MAX = 128
QUOTE_FIELDS = {"amount": "input.amount", "planTypes": "input.planTypes"}


def application_from(data: dict[str, Any]) -> CreditApplication:
    """The service's ``status`` is the lifecycle; ``status`` in GraphQL is its ``decision``."""
    return build(CreditApplication, {**data, "status": data["decision"], "applicationStatus": data["status"]})


def _key(given: str | None) -> str:
    return given if given else str(uuid.uuid4())


@strawberry.type
class Query:
    @strawberry.field(description="The caller's profile; null until createProfile.")
    async def me(self, info: Info) -> Customer | None:
        ctx = info.context
        try:
            data = await ctx.upstreams.user.call("GET", "/v1/profile", token=ctx.token)
        except NotFoundUpstream:
            return None
        return build(Customer, data)

    @strawberry.field
    async def application(self, info: Info, id: strawberry.ID) -> CreditApplication | None:
        ctx = info.context
        if not _is_segment(id):
            return None
        try:
            data = await ctx.upstreams.credit.call("GET", f"/v1/applications/{id}", token=ctx.token)
        except NotFoundUpstream:
            return None
        return application_from(data)

    @strawberry.field(description="The caller's applications, newest first.")
    async def applications(
        self, info: Info, limit: int | None = None, next_token: str | None = None
    ) -> ApplicationConnection:
        ctx = info.context
        data = await ctx.upstreams.credit.call(
            "GET", "/v1/applications", token=ctx.token, params={"limit": limit, "nextToken": next_token}
        )
        return ApplicationConnection(
            items=[application_from(item) for item in data.get("items", [])], next_token=data.get("nextToken")
        )

    @strawberry.field
    async def plan(self, info: Info, id: strawberry.ID) -> PaymentPlan | None:
        ctx = info.context
        if not _is_segment(id):
            return None
        try:
            data = await ctx.upstreams.credit.call("GET", f"/v1/plans/{id}", token=ctx.token)
        except NotFoundUpstream:
            return None
        return build(PaymentPlan, data)

    @strawberry.field
    async def plans(self, info: Info) -> list[PaymentPlan]:
        ctx = info.context
        data = await ctx.upstreams.credit.call("GET", "/v1/plans", token=ctx.token)
        return [build(PaymentPlan, item) for item in data.get("items", [])]

    @strawberry.field(description="The caller's credit limit, exposure and available credit.")
    async def credit_line(self, info: Info) -> CreditLine:
        line = await info.context.credit_line()
        return build(CreditLine, line or {})

    @strawberry.field(description="The merchant's order behind a checkout link's token; null when unknown or expired.")
    async def checkout_session(self, info: Info, token: str) -> CheckoutSession | None:
        ctx = info.context
        try:
            data = await ctx.upstreams.credit.call(
                "GET", f"/v1/checkout-sessions/{_checkout_token(token, 'token')}", token=ctx.token
            )
        except NotFoundUpstream:
            return None
        return build(CheckoutSession, data)

    @strawberry.field(description="What settles one of the caller's plans today, and the interest it cancels.")
    async def payoff_quote(self, info: Info, plan_id: strawberry.ID) -> PayoffQuote:
        ctx = info.context
        data = await ctx.upstreams.credit.call(
            "GET", f"/v1/plans/{_segment(plan_id, 'planId')}/payoff-quote", token=ctx.token
        )
        return build(PayoffQuote, data)

    @strawberry.field(description="The pre-contract information of an approved application, to read and accept.")
    async def precontract_information(self, info: Info, application_id: strawberry.ID) -> PrecontractInformation:
        ctx = info.context
        data = await ctx.upstreams.credit.call(
            "GET", f"/v1/applications/{_segment(application_id, 'applicationId')}/pre-contract", token=ctx.token
        )
        return build(PrecontractInformation, data)

    @strawberry.field(description="The offers for an amount, one per plan type that allows it; nothing is stored.")
    async def quote(self, info: Info, input: QuoteInput) -> list[PlanOffer]:
        ctx = info.context
        data = await ctx.upstreams.credit.call(
            "POST", "/v1/quotes", token=ctx.token, json=to_json(input), field_map=QUOTE_FIELDS
        )
        return [build(PlanOffer, offer) for offer in data.get("offers", [])]


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_profile(
        self,
        info: Info,
        input: ProfileInput,
        idempotency_key: Annotated[
            str | None, strawberry.argument(description="Retry-safe key; a fresh one is used when left out.")
        ] = None,
    ) -> Customer:
        ctx = info.context
        data = await ctx.upstreams.user.call(
            "PUT",
            "/v1/profile",
            token=ctx.token,
            json=to_json(input),
            idempotency_key=_key(idempotency_key),
            field_map=PROFILE_FIELDS,
        )
        return build(Customer, data)

    @strawberry.mutation
    async def update_profile(self, info: Info, input: ProfileUpdateInput) -> Customer:
        ctx = info.context
        data = await ctx.upstreams.user.call(
            "PATCH", "/v1/profile", token=ctx.token, json=to_json(input), field_map=PROFILE_FIELDS
        )
        return build(Customer, data)

    @strawberry.mutation(description="Send a one-time code by SMS to the profile's phone number.")
    async def start_phone_verification(self, info: Info) -> VerificationChallenge:
        ctx = info.context
        data = await ctx.upstreams.user.call("POST", "/v1/profile/phone-verification", token=ctx.token, json={})
        return build(VerificationChallenge, data)

    @strawberry.mutation
    async def confirm_phone_verification(self, info: Info, code: str) -> Customer:
        ctx = info.context
        data = await ctx.upstreams.user.call(
            "POST", "/v1/profile/phone-verification/confirm", token=ctx.token, json={"code": code}
        )
        return build(Customer, data)

    @strawberry.mutation(
        description="Pipeline: read the caller's profile (while the token is checked with Cognito), then ask the "
        "credit service to decide on the order of the checkout session (merchant, reference and amount come from "
        "the session)."
    )
    async def apply_for_credit(
        self, info: Info, input: CreditApplicationInput, idempotency_key: str
    ) -> CreditApplication:
        ctx = info.context
        try:
            # signed by the user service: passed through untouched, verified by the credit service;
            # read while Cognito is asked whether the token is live (the decision waits for both)
            snapshot = await ctx.live_while(ctx.upstreams.user.call("GET", "/v1/profile/snapshot", token=ctx.token))
        except NotFoundUpstream as exc:
            raise GatewayError(
                "ProfileNotFound", "create a profile before applying for credit", info={"field": "profile"}
            ) from exc
        body = {
            "checkoutToken": _checkout_token(input.checkout_token, "input.checkoutToken"),
            "planType": input.plan_type.value,
            "profile": snapshot["profile"],
            "profileSignature": {"signedAt": snapshot["signedAt"], "signature": snapshot["signature"]},
        }
        data = await ctx.upstreams.credit.call(
            "POST",
            "/v1/applications",
            token=ctx.token,
            json=body,
            idempotency_key=idempotency_key,
            field_map=APPLY_FIELDS,
        )
        return application_from(data)

    @strawberry.mutation(description="Turn an approved application into a payment plan.")
    async def confirm_plan(
        self,
        info: Info,
        application_id: strawberry.ID,
        idempotency_key: str,
        accepted_document_hash: Annotated[
            str | None,
            strawberry.argument(
                description="precontractInformation's contentHash: the shopper accepted that document. "
                "Required where the market requires acceptance."
            ),
        ] = None,
    ) -> PaymentPlan:
        ctx = info.context
        await ctx.ensure_live()
        body = {} if accepted_document_hash is None else {"acceptedDocumentHash": accepted_document_hash}
        data = await ctx.upstreams.credit.call(
            "POST",
            f"/v1/applications/{_segment(application_id, 'applicationId')}/confirm",
            token=ctx.token,
            json=body,
            idempotency_key=idempotency_key,
        )
        return build(PaymentPlan, data)

    @strawberry.mutation(
        description="Withdraw from a plan within the market's period: repay principal and interest for the days used."
    )
    async def withdraw_from_plan(self, info: Info, plan_id: strawberry.ID, idempotency_key: str) -> Withdrawal:
        ctx = info.context
        data = await ctx.upstreams.credit.call(
            "POST",
            f"/v1/plans/{_segment(plan_id, 'planId')}/withdrawal",
            token=ctx.token,
            json={},
            idempotency_key=idempotency_key,
        )
        return build(Withdrawal, data)

    @strawberry.mutation
    async def cancel_application(self, info: Info, id: strawberry.ID) -> CreditApplication:
        ctx = info.context
        await ctx.ensure_live()
        data = await ctx.upstreams.credit.call(
            "POST", f"/v1/applications/{_segment(id)}/cancel", token=ctx.token, json={}
        )
        return application_from(data)

    @strawberry.mutation
    async def make_payment(
        self, info: Info, plan_id: strawberry.ID, amount: MoneyInput, idempotency_key: str
    ) -> Payment:
        ctx = info.context
        await ctx.ensure_live()
        data = await ctx.upstreams.credit.call(
            "POST",
            f"/v1/plans/{_segment(plan_id, 'planId')}/payments",
            token=ctx.token,
            json={"amount": to_json(amount)},
            idempotency_key=idempotency_key,
        )
        return build(Payment, data)


def _is_segment(value: str) -> bool:
    """An id is placed in a URL path: anything that could change the route is refused."""
    return 0 < len(value) <= 128 and all(c.isascii() and (c.isalnum() or c in "-_") for c in value)


def _segment(value: str, argument: str = "id") -> str:
    if not _is_segment(value):
        raise GatewayError("ValidationError", f"{argument} is not a valid id", info={"field": argument})
    return value


def _checkout_token(value: str, field: str) -> str:
    """A checkout token goes into a URL path: only the shape the credit service issues is sent on."""
    if not (CHECKOUT_TOKEN_MIN <= len(value) <= CHECKOUT_TOKEN_MAX and _is_segment(value)):
        raise GatewayError("ValidationError", f"{field} is not a valid checkout token", info={"field": field})
    return value
