"""Calls to the user and credit services: SigV4-signed, with the user's token in
``X-User-Authorization`` and the request id, sent through the process's internal client
(``bnpl_common.internal_http``); errors become GraphQL errors."""

from __future__ import annotations

import json as jsonlib
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from bnpl_common.errors import AppError, ValidationFailed, error_from_body
from bnpl_common.idempotency import check_key
from bnpl_common.internal_http import CallFailed, InternalClient, Reply
from bnpl_common.logging import REQUEST_ID_HEADER, request_id_var
from bnpl_common.service_auth import USER_TOKEN_HEADER
from bnpl_common.sigv4 import SigV4Signer
from bnpl_common.text import unencodable_path

from bnpl_gateway.errors import DependencyFailed, FieldMap, GatewayError, from_app_error

log = logging.getLogger("bnpl.gateway.upstream")


class NotFoundUpstream(GatewayError):
    """The service answered 404: getters turn it into ``null``."""


@dataclass(frozen=True, slots=True)
class ServiceClient:
    """One upstream REST service, its calls signed here and sent through its own keep-alive pool."""

    name: str
    base_url: str
    http: InternalClient
    signer: SigV4Signer

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        field_map: FieldMap | None = None,
    ) -> Any:
        """Send one call and return the decoded JSON body, or raise a :class:`GatewayError`.

        What cannot be sent is the caller's input, refused here as the service would refuse it
        (``ValidationError`` naming the field): an idempotency key that is not a valid header
        value, a string that no UTF-8 can carry (an unpaired surrogate). Sent on, they failed in
        the client and read as an internal failure or an outage.
        """
        try:
            if idempotency_key is not None:
                check_key(idempotency_key)
            where = unencodable_path(json)
            if where is None:
                where = unencodable_path(params or {})
            if where is not None:
                field = ".".join(where) or "body"
                raise ValidationFailed(f"{field}: holds an unpaired surrogate, not valid Unicode text", field=field)
        except AppError as exc:
            raise from_app_error(exc, field_map or {}) from None
        headers = {USER_TOKEN_HEADER: token}
        rid = request_id_var.get()
        if rid:
            headers[REQUEST_ID_HEADER] = rid  # set here so it is signed too
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = await self.send(method, path, headers=headers, json=json, params=params)
        except CallFailed as exc:
            log.warning(
                "upstream call failed",
                extra={"upstream": self.name, "method": method, "route": path, "error_class": str(exc)},
            )
            raise DependencyFailed() from exc
        try:
            body = response.json() if response.body else None
        except ValueError:
            body = None
        if response.ok:
            return body
        status = response.status
        log_level = logging.WARNING if status >= 500 or status in (401, 403) else logging.INFO
        log.log(log_level, "upstream error", extra={"upstream": self.name, "route": path, "status": status})
        if status >= 500:
            raise DependencyFailed()
        error = from_app_error(error_from_body(status, body), field_map or {})
        if status == 404:
            raise NotFoundUpstream(error.error_type, error.message, info=error.info)
        raise error

    async def send(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Reply:
        """Sign and send one call as it is (no error mapping); raises ``CallFailed``."""
        url = self.base_url.rstrip("/") + path
        query = {k: v for k, v in (params or {}).items() if v is not None}
        if query:
            url += "?" + urlencode(query, quote_via=quote)
        headers = {"Host": urlsplit(url).netloc, **(headers or {})}
        content = b""
        if json is not None:
            content = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            headers["Content-Type"] = "application/json"
        self.signer.sign(method, url, headers, content)
        return await self.http.request(method, url, headers=headers, body=content if json is not None else None)


@dataclass(frozen=True, slots=True)
class Upstreams:
    """The services the resolvers call."""

    user: ServiceClient
    credit: ServiceClient
