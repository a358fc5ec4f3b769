"""The merchant API client: every call SigV4-signed (service ``execute-api``) with botocore,
the way any AWS API Gateway with IAM auth is called, with a fresh ``X-Bnpl-Nonce`` inside the
signature; every POST with an ``Idempotency-Key``."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from bnpl_demo_merchant.settings import MerchantCredentials

SERVICE = "execute-api"
NONCE_HEADER = "X-Bnpl-Nonce"


class MerchantApiError(Exception):
    """The API refused a call (4xx) or could not be reached; ``message`` is safe to show."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(f"{status} {error_type}: {message}")
        self.status = status
        self.error_type = error_type
        self.message = message


@dataclass(frozen=True, slots=True)
class MerchantApi:
    base_url: str
    region: str
    credentials: MerchantCredentials
    http: httpx.AsyncClient

    async def create_checkout(self, body: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
        return await self._send("POST", "/v1/merchant/checkouts", body, idempotency_key)

    async def get_checkout(self, checkout_id: str) -> dict[str, Any]:
        return await self._send("GET", f"/v1/merchant/checkouts/{quote(checkout_id, safe='')}")

    async def capture(self, checkout_id: str, amount: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
        path = f"/v1/merchant/checkouts/{quote(checkout_id, safe='')}/captures"
        return await self._send("POST", path, {"amount": amount}, idempotency_key)

    async def void(self, checkout_id: str, *, idempotency_key: str) -> dict[str, Any]:
        path = f"/v1/merchant/checkouts/{quote(checkout_id, safe='')}/void"
        return await self._send("POST", path, {}, idempotency_key)

    async def refund(
        self, checkout_id: str, amount: dict[str, Any], *, idempotency_key: str, reason: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"amount": amount}
        if reason:
            body["reason"] = reason
        path = f"/v1/merchant/checkouts/{quote(checkout_id, safe='')}/refunds"
        return await self._send("POST", path, body, idempotency_key)

    async def _send(
        self, method: str, path: str, body: dict[str, Any] | None = None, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        url = self.base_url.rstrip("/") + path
        content = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        # A fresh nonce makes each signed request usable once: a copy replayed within the
        # signature's five minutes is refused. A retry is a new request (new nonce, same key).
        headers[NONCE_HEADER] = secrets.token_urlsafe(18)
        # botocore signs every header it is given (host and x-amz-date it adds itself).
        signed = AWSRequest(method=method, url=url, data=content, headers=headers)
        creds = Credentials(self.credentials.access_key_id, self.credentials.secret_access_key)
        SigV4Auth(creds, SERVICE, self.region).add_auth(signed)
        try:
            signed_headers = dict(signed.headers.items())
            response = await self.http.request(method, url, content=content or None, headers=signed_headers)
        except httpx.HTTPError as exc:
            raise MerchantApiError(503, "Unreachable", "the pay-later service cannot be reached; try again") from exc
        try:
            data = response.json() if response.content else {}
        except ValueError:
            data = {}
        if response.is_success:
            return data if isinstance(data, dict) else {}
        # The platform's error shape: {"error": {"type", "message", "field"?}}
        error = data.get("error") if isinstance(data, dict) else None
        error = error if isinstance(error, dict) else {}
        raise MerchantApiError(
            response.status_code,
            str(error.get("type") or "Error"),
            str(error.get("message") or response.reason_phrase),
        )
