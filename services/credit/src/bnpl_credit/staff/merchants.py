"""Approvers manage merchants through the registry (``merchants.registry``, the CLI's verbs):
list, create, suspend and activate, rotate access keys and webhook secrets. A new secret is in
the answer once and nowhere else; each change is stored with its audit record in one write."""

from __future__ import annotations

from datetime import datetime

from bnpl_common.clock import Clock
from bnpl_common.jwt import Principal

from bnpl_credit.audit.model import AuditAction, AuditRecord, merchant_subject
from bnpl_credit.markets.catalog import MarketCatalog
from bnpl_credit.merchants import registry
from bnpl_credit.merchants.model import Merchant, MerchantStatus
from bnpl_credit.merchants.ports import MerchantStore
from bnpl_credit.staff.schemas import (
    MerchantCreated,
    MerchantInput,
    MerchantKeyCreated,
    MerchantView,
    MerchantWebhookSecret,
    NewCredentials,
)


def _audit(
    staff: Principal,
    now: datetime,
    action: AuditAction,
    merchant_id: str,
    *,
    reason: str | None = None,
    **details: object,
) -> AuditRecord:
    return AuditRecord.new(
        at=now,
        actor=staff.sub,
        actor_groups=staff.groups,
        action=action,
        subjects=(merchant_subject(merchant_id),),
        reason=reason,
        details=details,
    )


async def list_merchants(store: MerchantStore, clock: Clock) -> list[MerchantView]:
    now = clock.now()
    return [MerchantView.of(m, now) for m in await store.list_merchants()]


async def create(
    store: MerchantStore, markets: MarketCatalog, clock: Clock, staff: Principal, *, body: MerchantInput, local: bool
) -> MerchantCreated:
    now = clock.now()
    merchant = await registry.create_merchant(
        store,
        markets,
        merchant_id=body.merchant_id,
        display_name=body.display_name,
        market=body.market,
        currency=body.currency,
        origins=list(body.origins),
        webhook_url=body.webhook_url,
        now=now,
        local=local,
        audit=[
            _audit(
                staff,
                now,
                AuditAction.MERCHANT_CREATED,
                body.merchant_id,
                market=body.market,
                currency=body.currency,
                origins=list(body.origins),
                webhookUrl=body.webhook_url,
            )
        ],
    )
    key = merchant.keys[0]
    return MerchantCreated(
        merchant=MerchantView.of(merchant, now),
        credentials=NewCredentials(access_key_id=key.access_key_id, secret_access_key=key.secret_access_key),
        webhook_secret=merchant.webhook_secret,
    )


async def set_status(
    store: MerchantStore, clock: Clock, staff: Principal, *, merchant_id: str, active: bool, reason: str | None
) -> MerchantView:
    now = clock.now()
    action = AuditAction.MERCHANT_ACTIVATED if active else AuditAction.MERCHANT_SUSPENDED
    merchant: Merchant = await registry.set_status(
        store,
        merchant_id,
        MerchantStatus.ACTIVE if active else MerchantStatus.SUSPENDED,
        now=now,
        audit=[_audit(staff, now, action, merchant_id, reason=reason)],
    )
    return MerchantView.of(merchant, now)


async def _current(store: MerchantStore, merchant_id: str) -> Merchant:
    merchant = await store.get_merchant(merchant_id)
    if merchant is None:
        raise registry.MerchantNotFound("no such merchant", field="merchantId")
    return merchant


async def set_origins(
    store: MerchantStore, clock: Clock, staff: Principal, *, merchant_id: str, origins: list[str]
) -> MerchantView:
    """The origins the merchant's return and cancel URLs may use (the registry checks them)."""
    now = clock.now()
    before = await _current(store, merchant_id)
    checked = list(registry.check_origins(origins))
    audit = _audit(
        staff, now, AuditAction.MERCHANT_ORIGINS_CHANGED, merchant_id, previous=list(before.origins), origins=checked
    )
    merchant = await registry.set_origins(store, merchant_id, checked, now=now, audit=[audit])
    return MerchantView.of(merchant, now)


async def set_webhook_url(
    store: MerchantStore, clock: Clock, staff: Principal, *, merchant_id: str, url: str | None, local: bool
) -> MerchantView:
    """Where the merchant's webhooks go (None: nowhere); the registry checks the URL."""
    now = clock.now()
    before = await _current(store, merchant_id)
    checked = registry.check_webhook(url, local=local)
    audit = _audit(
        staff,
        now,
        AuditAction.MERCHANT_WEBHOOK_URL_CHANGED,
        merchant_id,
        previous=before.webhook_url,
        webhookUrl=checked,
    )
    merchant = await registry.set_webhook_url(store, merchant_id, checked, now=now, local=local, audit=[audit])
    return MerchantView.of(merchant, now)


async def rotate_key(store: MerchantStore, clock: Clock, staff: Principal, *, merchant_id: str) -> MerchantKeyCreated:
    """A new access key; the current ones stay valid for the registry's grace (24 h)."""
    now = clock.now()
    audit = _audit(staff, now, AuditAction.MERCHANT_KEY_ROTATED, merchant_id)
    merchant, key = await registry.rotate_keys(store, merchant_id, now=now, audit=[audit])
    return MerchantKeyCreated(
        merchant=MerchantView.of(merchant, now),
        credentials=NewCredentials(access_key_id=key.access_key_id, secret_access_key=key.secret_access_key),
    )


async def rotate_webhook_secret(
    store: MerchantStore, clock: Clock, staff: Principal, *, merchant_id: str
) -> MerchantWebhookSecret:
    """A new signing secret; the previous one keeps signing for the registry's grace (24 h)."""
    now = clock.now()
    audit = _audit(staff, now, AuditAction.MERCHANT_WEBHOOK_SECRET_ROTATED, merchant_id)
    merchant, secret = await registry.rotate_webhook_secret(store, merchant_id, now=now, audit=[audit])
    return MerchantWebhookSecret(merchant=MerchantView.of(merchant, now), webhook_secret=secret)
