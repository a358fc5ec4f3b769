"""Registry operations (the CLI's verbs): create, suspend/activate, rotate and retire keys and
webhook secrets, set the webhook URL. Each reads the merchant, changes it and writes it back
conditioned on its version."""

from __future__ import annotations

import base64
import secrets
import string
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from bnpl_common.errors import NotFound, ValidationFailed

from bnpl_credit.audit.model import AuditRecord
from bnpl_credit.markets.catalog import MarketCatalog
from bnpl_credit.merchants.model import MARKETS, Merchant, MerchantKey, MerchantStatus, valid_merchant_id
from bnpl_credit.merchants.ports import MerchantStore
from bnpl_credit.merchants.urls import check_webhook_url, normalise_origin

DEFAULT_ROTATION_GRACE = timedelta(hours=24)
_KEY_ALPHABET = string.ascii_uppercase + string.digits


class MerchantNotFound(NotFound):
    error_type = "MerchantNotFound"


def new_access_key_id() -> str:
    return "BNPLMK" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(14))


def new_key(now: datetime) -> MerchantKey:
    return MerchantKey(new_access_key_id(), secrets.token_urlsafe(30), now)


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def _check_market(markets: MarketCatalog, market: str, currency: str) -> None:
    if market not in MARKETS:
        raise ValidationFailed(f"market must be one of {', '.join(MARKETS)}", field="market")
    lends_in = markets.for_currency(currency)
    if lends_in is None or lends_in.market != market:
        raise ValidationFailed(f"market {market} does not lend in {currency}", field="currency")


def check_display_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 100 or not name.isprintable():
        raise ValidationFailed("displayName must be 1-100 printable characters", field="displayName")
    return name


def check_origins(origins: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    if not origins:
        raise ValidationFailed("give at least one origin", field="origins")
    try:
        return tuple(dict.fromkeys(normalise_origin(o) for o in origins))
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="origins") from None


def check_webhook(url: str | None, *, local: bool) -> str | None:
    if url is None:
        return None
    try:
        return check_webhook_url(url, local=local)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="webhookUrl") from None


async def create_merchant(
    store: MerchantStore,
    markets: MarketCatalog,
    *,
    merchant_id: str,
    display_name: str,
    market: str,
    currency: str,
    origins: list[str],
    webhook_url: str | None,
    now: datetime,
    local: bool,
    key: MerchantKey | None = None,
    webhook_secret: str | None = None,
    audit: Sequence[AuditRecord] = (),
) -> Merchant:
    """A new active merchant with one key and one webhook secret (generated unless given)."""
    if not valid_merchant_id(merchant_id):
        raise ValidationFailed("merchantId must match [a-z0-9][a-z0-9-]{1,62}", field="merchantId")
    _check_market(markets, market, currency)
    merchant = Merchant(
        id=merchant_id,
        display_name=check_display_name(display_name),
        status=MerchantStatus.ACTIVE,
        market=market,
        currency=currency,
        origins=check_origins(origins),
        webhook_url=check_webhook(webhook_url, local=local),
        webhook_secrets=(webhook_secret or new_webhook_secret(),),
        keys=(key or new_key(now),),
        created_at=now,
        updated_at=now,
    )
    return await store.put_merchant(merchant, expected_version=None, audit=audit)


async def _change(
    store: MerchantStore,
    merchant_id: str,
    change: Callable[[Merchant], Merchant],
    audit: Sequence[AuditRecord] = (),
) -> Merchant:
    merchant = await store.get_merchant(merchant_id)
    if merchant is None:
        raise MerchantNotFound("no such merchant", field="merchantId")
    return await store.put_merchant(change(merchant), expected_version=merchant.version, audit=audit)


async def set_status(
    store: MerchantStore,
    merchant_id: str,
    status: MerchantStatus,
    *,
    now: datetime,
    audit: Sequence[AuditRecord] = (),
) -> Merchant:
    return await _change(store, merchant_id, lambda m: m.changed(now, status=status), audit)


async def set_webhook_url(
    store: MerchantStore,
    merchant_id: str,
    url: str | None,
    *,
    now: datetime,
    local: bool,
    audit: Sequence[AuditRecord] = (),
) -> Merchant:
    checked = check_webhook(url, local=local)
    return await _change(store, merchant_id, lambda m: m.changed(now, webhook_url=checked), audit)


async def set_origins(
    store: MerchantStore, merchant_id: str, origins: list[str], *, now: datetime, audit: Sequence[AuditRecord] = ()
) -> Merchant:
    checked = check_origins(origins)
    return await _change(store, merchant_id, lambda m: m.changed(now, origins=checked), audit)


async def rotate_keys(
    store: MerchantStore,
    merchant_id: str,
    *,
    now: datetime,
    grace: timedelta | None = DEFAULT_ROTATION_GRACE,
    audit: Sequence[AuditRecord] = (),
) -> tuple[Merchant, MerchantKey]:
    """Add a new key; the current ones stay valid for ``grace`` (``None``: until ``retire-key``).
    Keys already retired are dropped."""
    key = new_key(now)

    def change(m: Merchant) -> Merchant:
        kept = tuple(
            k if k.retired_at is not None or grace is None else replace(k, retired_at=now + grace)
            for k in m.valid_keys(now)
        )
        return m.changed(now, keys=(key, *kept))

    return await _change(store, merchant_id, change, audit), key


async def retire_key(store: MerchantStore, merchant_id: str, access_key_id: str, *, now: datetime) -> Merchant:
    """Retire one key now (refused for the last valid one: the merchant would be locked out)."""

    def change(m: Merchant) -> Merchant:
        if m.key(access_key_id, now) is None:
            raise MerchantNotFound("no such valid key for this merchant", field="accessKeyId")
        if len(m.valid_keys(now)) < 2:
            raise ValidationFailed("this is the merchant's only valid key: rotate first", field="accessKeyId")
        return m.changed(now, keys=tuple(k for k in m.keys if k.access_key_id != access_key_id and k.valid_at(now)))

    return await _change(store, merchant_id, change)


async def rotate_webhook_secret(
    store: MerchantStore,
    merchant_id: str,
    *,
    now: datetime,
    grace: timedelta | None = DEFAULT_ROTATION_GRACE,
    audit: Sequence[AuditRecord] = (),
) -> tuple[Merchant, str]:
    """A new signing secret first; the previous one stays live for ``grace`` (``None``: until retired)."""
    secret = new_webhook_secret()

    def change(m: Merchant) -> Merchant:
        previous = m.live_webhook_secrets(now)[0]
        return m.changed(
            now,
            webhook_secrets=(secret, previous),
            webhook_secret_retires_at=None if grace is None else now + grace,
        )

    return await _change(store, merchant_id, change, audit), secret


async def retire_webhook_secret(store: MerchantStore, merchant_id: str, *, now: datetime) -> Merchant:
    """Stop using the older webhook secret now."""
    return await _change(
        store,
        merchant_id,
        lambda m: m.changed(now, webhook_secrets=m.webhook_secrets[:1], webhook_secret_retires_at=None),
    )
