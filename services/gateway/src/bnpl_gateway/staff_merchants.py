"""Approvers manage merchants: list, create, suspend and activate, change origins and the
webhook URL, rotate access keys and webhook secrets (the credit service's registry, as its CLI
does). A new secret is in the answer of the mutation that made it and nowhere else; every change
is audited (``merchant:<id>``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from bnpl_gateway.context import GatewayContext
from bnpl_gateway.convert import build, to_json
from bnpl_gateway.staff import _segment

Info = strawberry.Info[GatewayContext, None]


@strawberry.type
class MerchantKey:
    access_key_id: str
    created_at: dt.datetime
    retired_at: dt.datetime | None
    valid: bool


@strawberry.type(description="A merchant as staff see it: never a secret.")
class Merchant:
    id: strawberry.ID
    display_name: str
    status: str
    market: str
    currency: str
    origins: list[str]
    webhook_url: str | None
    live_webhook_secrets: int = strawberry.field(description="Two during a rotation.")
    keys: list[MerchantKey]
    created_at: dt.datetime
    updated_at: dt.datetime


@strawberry.type(description="Shown once: store it now, the platform cannot show it again.")
class MerchantCredentials:
    access_key_id: str
    secret_access_key: str


@strawberry.type
class MerchantCreated:
    merchant: Merchant
    credentials: MerchantCredentials
    webhook_secret: str = strawberry.field(description="Shown once.")


@strawberry.type
class MerchantKeyRotated:
    merchant: Merchant
    credentials: MerchantCredentials


@strawberry.type
class MerchantWebhookSecretRotated:
    merchant: Merchant
    webhook_secret: str = strawberry.field(description="Shown once.")


@strawberry.input
class MerchantInput:
    merchant_id: str = strawberry.field(description="[a-z0-9][a-z0-9-]{1,62}")
    display_name: str
    market: str = strawberry.field(description="EU, UK or US")
    currency: str
    origins: list[str] = strawberry.field(description="scheme://host[:port] of the return and cancel URLs")
    webhook_url: str | None = strawberry.UNSET


def _merchant(data: dict[str, Any]) -> Merchant:
    return build(Merchant, data)


@strawberry.type
class StaffMerchantQuery:
    @strawberry.field(description="Approvers: every merchant, without secrets.")
    async def merchants(self, info: Info) -> list[Merchant]:
        ctx = info.context
        await ctx.ensure_live()  # a staff token Cognito no longer honours does nothing
        data = await ctx.upstreams.credit.call("GET", "/v1/staff/merchants", token=ctx.token)
        return [_merchant(m) for m in data["items"]]


@strawberry.type
class StaffMerchantMutation:
    @strawberry.mutation(description="Approvers: a new merchant; its first key and webhook secret are shown once.")
    async def create_merchant(self, info: Info, input: MerchantInput) -> MerchantCreated:
        ctx = info.context
        await ctx.ensure_live()
        data = await ctx.upstreams.credit.call(
            "POST", "/v1/staff/merchants", token=ctx.token, json=to_json(input), field_map={"": "input"}
        )
        return MerchantCreated(
            merchant=_merchant(data["merchant"]),
            credentials=build(MerchantCredentials, data["credentials"]),
            webhook_secret=data["webhookSecret"],
        )

    @strawberry.mutation(description="Approvers: no new checkout sessions (captures, voids, refunds go on).")
    async def suspend_merchant(self, info: Info, merchant_id: strawberry.ID, reason: str | None = None) -> Merchant:
        return await _status(info, merchant_id, "suspension", reason)

    @strawberry.mutation(description="Approvers: a suspended merchant takes checkouts again.")
    async def activate_merchant(self, info: Info, merchant_id: strawberry.ID, reason: str | None = None) -> Merchant:
        return await _status(info, merchant_id, "activation", reason)

    @strawberry.mutation(
        description="Approvers: replace the origins (scheme://host[:port]) of the merchant's return and cancel URLs."
    )
    async def set_merchant_origins(self, info: Info, merchant_id: strawberry.ID, origins: list[str]) -> Merchant:
        ctx = info.context
        await ctx.ensure_live()
        data = await ctx.upstreams.credit.call(
            "PUT",
            f"/v1/staff/merchants/{_segment(merchant_id, 'merchantId')}/origins",
            token=ctx.token,
            json={"origins": origins},
        )
        return _merchant(data)

    @strawberry.mutation(description="Approvers: where the merchant's webhooks go; null: no webhooks.")
    async def set_merchant_webhook_url(
        self, info: Info, merchant_id: strawberry.ID, webhook_url: str | None
    ) -> Merchant:
        ctx = info.context
        await ctx.ensure_live()
        data = await ctx.upstreams.credit.call(
            "PUT",
            f"/v1/staff/merchants/{_segment(merchant_id, 'merchantId')}/webhook-url",
            token=ctx.token,
            json={"webhookUrl": webhook_url},
        )
        return _merchant(data)

    @strawberry.mutation(description="Approvers: a new access key (shown once); the current ones stay valid 24 h.")
    async def rotate_merchant_key(self, info: Info, merchant_id: strawberry.ID) -> MerchantKeyRotated:
        ctx = info.context
        await ctx.ensure_live()
        data = await ctx.upstreams.credit.call(
            "POST", f"/v1/staff/merchants/{_segment(merchant_id, 'merchantId')}/key-rotations", token=ctx.token, json={}
        )
        return MerchantKeyRotated(
            merchant=_merchant(data["merchant"]), credentials=build(MerchantCredentials, data["credentials"])
        )

    @strawberry.mutation(
        description="Approvers: a new webhook signing secret (shown once); the previous one signs too for 24 h."
    )
    async def rotate_webhook_secret(self, info: Info, merchant_id: strawberry.ID) -> MerchantWebhookSecretRotated:
        ctx = info.context
        await ctx.ensure_live()
        data = await ctx.upstreams.credit.call(
            "POST",
            f"/v1/staff/merchants/{_segment(merchant_id, 'merchantId')}/webhook-secret-rotations",
            token=ctx.token,
            json={},
        )
        return MerchantWebhookSecretRotated(merchant=_merchant(data["merchant"]), webhook_secret=data["webhookSecret"])


async def _status(info: Info, merchant_id: str, what: str, reason: str | None) -> Merchant:
    ctx = info.context
    await ctx.ensure_live()
    data = await ctx.upstreams.credit.call(
        "POST",
        f"/v1/staff/merchants/{_segment(merchant_id, 'merchantId')}/{what}",
        token=ctx.token,
        json={"reason": reason} if reason else {},
        field_map={"reason": "reason"},
    )
    return _merchant(data)
