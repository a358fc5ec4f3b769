"""The shopper's payment method: saved on the PSP's own page (no card number passes here), shown
on "My plans", replaced by setting up again."""

from __future__ import annotations

from enum import Enum

import strawberry

from bnpl_gateway.context import GatewayContext
from bnpl_gateway.convert import build
from bnpl_gateway.errors import GatewayError

Info = strawberry.Info[GatewayContext, None]

MAX_RETURN_URL = 2000
MAX_SETUP_ID = 128


@strawberry.type(description="A saved payment method: what we keep of it (no card number).")
class PaymentMethod:
    type: str = strawberry.field(description="card, or sepa_debit.")
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None


@strawberry.enum(
    description="What a setup saves: a card, or a SEPA Direct Debit mandate (settled by the PSP's webhook)."
)
class PaymentMethodKind(Enum):
    CARD = "card"
    SEPA_DEBIT = "sepa_debit"


@strawberry.type(
    description="A payment method setup: open pageUrl (the sandbox PSP's page), or mount Stripe's "
    "Payment Element with clientSecret."
)
class PaymentMethodSetup:
    setup_id: strawberry.ID
    page_url: str | None
    client_secret: str


def _setup_id(value: str) -> str:
    if not (0 < len(value) <= MAX_SETUP_ID and all(c.isascii() and (c.isalnum() or c in "-_") for c in value)):
        raise GatewayError("ValidationError", "setupId is not a valid id", info={"field": "setupId"})
    return value


@strawberry.type
class PaymentQuery:
    @strawberry.field(description="The caller's payment method on file; null until one is saved.")
    async def payment_method(self, info: Info) -> PaymentMethod | None:
        ctx = info.context
        data = await ctx.upstreams.credit.call("GET", "/v1/payment-method", token=ctx.token)
        method = data.get("paymentMethod")
        return build(PaymentMethod, method) if method else None


@strawberry.type
class PaymentMutation:
    @strawberry.mutation(
        description="Start saving a card: the shopper enters it on the PSP's page, which sends them back to "
        "returnUrl with setup_intent=<setupId>; then call completePaymentMethodSetup."
    )
    async def start_payment_method_setup(
        self, info: Info, return_url: str, method: PaymentMethodKind = PaymentMethodKind.CARD
    ) -> PaymentMethodSetup:
        ctx = info.context
        await ctx.ensure_live()
        if not 0 < len(return_url) <= MAX_RETURN_URL:
            raise GatewayError("ValidationError", "returnUrl is too long or empty", info={"field": "returnUrl"})
        data = await ctx.upstreams.credit.call(
            "POST", "/v1/payment-method/setups", token=ctx.token, json={"returnUrl": return_url, "method": method.value}
        )
        return build(PaymentMethodSetup, data)

    @strawberry.mutation(description="Keep the method a setup saved; it replaces the one on file.")
    async def complete_payment_method_setup(self, info: Info, setup_id: strawberry.ID) -> PaymentMethod:
        ctx = info.context
        await ctx.ensure_live()
        data = await ctx.upstreams.credit.call(
            "POST", f"/v1/payment-method/setups/{_setup_id(setup_id)}/complete", token=ctx.token, json={}
        )
        return build(PaymentMethod, data)
