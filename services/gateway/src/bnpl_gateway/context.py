"""Per-request GraphQL context: the verified caller, the upstream clients, a small cache."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bnpl_common.jwt import Principal
from bnpl_common.revocation import RevocationChecker, RevocationUnknown, TokenRevoked
from strawberry.fastapi import BaseContext

from bnpl_gateway.errors import DependencyFailed, GatewayError
from bnpl_gateway.upstream import Upstreams

T = TypeVar("T")


@dataclass
class GatewayContext(BaseContext):
    """Built for each request; ``principal`` is set once the token is verified."""

    upstreams: Upstreams
    principal: Principal | None = None
    revocation: RevocationChecker | None = None
    _credit_line: asyncio.Future[Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        super().__init__()

    @property
    def token(self) -> str:
        if self.principal is None:  # the router refuses unauthenticated requests first
            raise RuntimeError("no verified caller")
        return self.principal.token

    async def ensure_live(self) -> None:
        """Refuse a caller whose token Cognito no longer honours (disabled, deleted, signed
        out): every mutation that moves money, and every staff operation, calls this first."""
        if self.revocation is None:  # fail closed: nothing to ask means no money moves
            raise DependencyFailed()
        try:
            await self.revocation.ensure_live(self.token)
        except TokenRevoked:
            raise GatewayError("UnauthorizedException", "this session is no longer valid; sign in again") from None
        except RevocationUnknown:
            raise DependencyFailed() from None

    async def live_while(self, read: Awaitable[T]) -> T:
        """``read`` (a read of the caller's own data, nothing that moves money) awaited while
        :meth:`ensure_live` asks Cognito, the two at once; what comes after runs only once both
        have answered. A dead token's refusal wins over whatever the read answered."""
        live = asyncio.ensure_future(self.ensure_live())
        try:
            try:
                result = await read
            except BaseException:
                await live  # raises the refusal if the token is dead; else the read's error stands
                raise
            await live
            return result
        finally:
            if not live.done():  # cancelled meanwhile
                live.cancel()

    async def credit_line(self) -> dict[str, Any]:
        """``GET /v1/credit-line``, fetched at most once per request."""
        if self._credit_line is None:
            self._credit_line = asyncio.ensure_future(
                self.upstreams.credit.call("GET", "/v1/credit-line", token=self.token)
            )
        return await asyncio.shield(self._credit_line)
