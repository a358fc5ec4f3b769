"""Who calls the merchant API: a merchant of the registry, by SigV4 (``execute-api``) with one of
its keys, or in AWS by API Gateway's IAM auth (``X-Bnpl-Caller-Arn``, roles mapped to merchants by
``MERCHANT_PRINCIPALS``). Every signed call carries a nonce (``X-Bnpl-Nonce``) accepted once: a
replayed POST is refused (403) while a deliberate retry, signed anew with the same
``Idempotency-Key``, gets the stored response.

Keys are read from the registry through a short cache (``MERCHANT_KEY_CACHE_SECONDS``), so a
retired key or a suspended merchant is refused within seconds. ``MERCHANT_AUTH_KEYS`` stays as a
fallback for a payment-service integration that refunds for any merchant (legacy
``/v1/merchant/refunds`` only); it never reaches the checkout routes.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Literal

from bnpl_common.clock import Clock, SystemClock
from bnpl_common.errors import Forbidden
from bnpl_common.nonce import NonceCache
from bnpl_common.service_auth import CALLER_ARN_HEADER, role_arn_of, verify_request_signature
from bnpl_common.sigv4 import NONCE_HEADER
from fastapi import Depends, Request

from bnpl_credit.merchants.model import Merchant
from bnpl_credit.merchants.ports import MerchantStore
from bnpl_credit.refunds.model import MerchantCaller

_KEY_ID = re.compile(r"Credential=([A-Za-z0-9]{1,128})/")


@dataclass(frozen=True, slots=True)
class MerchantIdentity:
    """An authenticated merchant-API caller: the registry merchant, if it is one."""

    caller: MerchantCaller
    merchant: Merchant | None


class MerchantDirectory:
    """Registry reads with a short in-memory cache (by access key id and by merchant id)."""

    def __init__(self, store: MerchantStore, *, ttl_seconds: float = 5.0) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._by_key: dict[str, tuple[float, Merchant | None]] = {}
        self._by_id: dict[str, tuple[float, Merchant | None]] = {}

    async def by_access_key(self, access_key_id: str) -> Merchant | None:
        now = time.monotonic()
        hit = self._by_key.get(access_key_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        merchant = await self._store.merchant_by_access_key(access_key_id)
        if len(self._by_key) > 10_000:  # unknown key ids must not grow the cache without end
            self._by_key.clear()
        self._by_key[access_key_id] = (now + self._ttl, merchant)
        return merchant

    async def by_id(self, merchant_id: str) -> Merchant | None:
        now = time.monotonic()
        hit = self._by_id.get(merchant_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        merchant = await self._store.get_merchant(merchant_id)
        if len(self._by_id) > 10_000:
            self._by_id.clear()
        self._by_id[merchant_id] = (now + self._ttl, merchant)
        return merchant


class MerchantGate:
    """Authenticates a merchant-API request once (the result is kept on the request)."""

    def __init__(
        self,
        directory: MerchantDirectory,
        *,
        service: str,
        fallback_keys: dict[str, tuple[str, str | None]] | None = None,
        clock: Clock | None = None,
        max_skew_seconds: int = 300,
        mode: Literal["sigv4", "apigateway-iam"] = "sigv4",
        principals: dict[str, str | None] | None = None,
        nonces: NonceCache | None = None,
    ) -> None:
        if mode == "apigateway-iam" and not principals:
            raise ValueError("apigateway-iam mode needs at least one merchant principal")
        self._directory = directory
        self._service = service
        self._fallback = dict(fallback_keys or {})
        self._clock = clock or SystemClock()  # signatures are checked against real time, always
        self._skew = max_skew_seconds
        self._mode = mode
        self._principals = dict(principals or {})
        self._nonces = nonces if nonces is not None else NonceCache()

    async def __call__(self, request: Request) -> MerchantIdentity:
        done = getattr(request.state, "merchant_identity", None)
        if isinstance(done, MerchantIdentity):
            return done
        identity = await self._authenticate(request)
        request.state.merchant_identity = identity
        return identity

    async def _authenticate(self, request: Request) -> MerchantIdentity:
        now = self._clock.now()
        if self._mode == "apigateway-iam":
            role = role_arn_of(request.headers.get(CALLER_ARN_HEADER, ""))
            if role not in self._principals:
                raise Forbidden("caller not allowed")
            merchant_id = self._principals[role]
            merchant = await self._directory.by_id(merchant_id) if merchant_id is not None else None
            # API Gateway checked the signature and its date: remember the nonce that long either side of now
            self._use_nonce(role, request, now.timestamp() + 2 * self._skew, now.timestamp())
            return MerchantIdentity(MerchantCaller(role, merchant_id), merchant)
        match = _KEY_ID.search(request.headers.get("authorization", ""))
        if match is None:
            raise Forbidden("missing or malformed SigV4 Authorization header")
        key_id = match.group(1)
        merchant = await self._directory.by_access_key(key_id)
        key = merchant.key(key_id, now) if merchant is not None else None
        if key is not None:
            secret, bound = key.secret_access_key, merchant.id if merchant else None
        elif key_id in self._fallback:
            merchant = None
            secret, bound = self._fallback[key_id]
        else:
            raise Forbidden("unknown or retired access key")
        signed = await verify_request_signature(
            request, secrets={key_id: secret}, service=self._service, now=now, max_skew_seconds=self._skew
        )
        expires = (signed.signed_at or now) + timedelta(seconds=self._skew)
        # after the signature: only a key holder can fill the cache
        self._use_nonce(key_id, request, expires.timestamp(), now.timestamp())
        return MerchantIdentity(MerchantCaller(key_id, bound), merchant)

    def _use_nonce(self, caller: str, request: Request, expires_at: float, now: float) -> None:
        self._nonces.use(f"merchant:{caller}", request.headers.get(NONCE_HEADER), expires_at=expires_at, now=now)


async def _identity(request: Request) -> MerchantIdentity:
    gate: MerchantGate = request.app.state.merchant_gate
    return await gate(request)


async def current_merchant(request: Request) -> Merchant:
    """FastAPI dependency: the registry merchant calling, or 403."""
    identity = await _identity(request)
    if identity.merchant is None:
        raise Forbidden("this caller is not a registered merchant")
    return identity.merchant


async def current_caller(request: Request) -> MerchantCaller:
    """FastAPI dependency of the legacy refund route: a registry merchant or a fallback key."""
    return (await _identity(request)).caller


CurrentRegistryMerchant = Annotated[Merchant, Depends(current_merchant)]
