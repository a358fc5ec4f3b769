"""Merchants are not shoppers: a refund call carries no user token, and the merchant is
authenticated either here, by a SigV4 signature with a merchant-integration key
(``MERCHANT_AUTH_KEYS``; local and compose), or by API Gateway's IAM auth in AWS, which passes
the verified role in ``X-Bnpl-Caller-Arn`` (``MERCHANT_PRINCIPALS`` maps roles to merchants).
A caller bound to a merchant id may refund only that merchant's plans; an unbound one (a
payment-service integration) any."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bnpl_common.clock import Clock, SystemClock
from bnpl_common.errors import Forbidden
from bnpl_common.service_auth import CALLER_ARN_HEADER, role_arn_of, verify_request_signature
from fastapi import Request

from bnpl_credit.refunds.model import MerchantCaller as MerchantCaller  # re-exported: what a dependency returns


@dataclass(frozen=True, slots=True)
class MerchantKey:
    secret: str
    merchant_id: str | None


class MerchantAuthenticator:
    """FastAPI dependency: the signed merchant caller, or 403."""

    def __init__(
        self,
        *,
        keys: dict[str, MerchantKey],
        service: str,
        clock: Clock | None = None,
        max_skew_seconds: int = 300,
        mode: Literal["sigv4", "apigateway-iam"] = "sigv4",
        principals: dict[str, str | None] | None = None,
    ) -> None:
        if mode == "apigateway-iam" and not principals:
            raise ValueError("apigateway-iam mode needs at least one merchant principal")
        self._mode = mode
        self._principals = dict(principals or {})
        self._keys = dict(keys)
        self._secrets = {k: v.secret for k, v in keys.items()}
        self._service = service
        self._clock = clock or SystemClock()  # signatures are checked against real time, always
        self._skew = max_skew_seconds

    async def __call__(self, request: Request) -> MerchantCaller:
        if self._mode == "apigateway-iam":
            role = role_arn_of(request.headers.get(CALLER_ARN_HEADER, ""))
            if role not in self._principals:
                raise Forbidden("caller not allowed")
            return MerchantCaller(role, self._principals[role])
        signed = await verify_request_signature(
            request, secrets=self._secrets, service=self._service, now=self._clock.now(), max_skew_seconds=self._skew
        )
        return MerchantCaller(signed.access_key_id, self._keys[signed.access_key_id].merchant_id)
