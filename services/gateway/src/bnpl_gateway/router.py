"""``/graphql``: the caller's Cognito access token is checked before the body is read, and
every response carries AppSync-shaped errors.

Both through public hooks: the token check is a FastAPI dependency of the context getter
(FastAPI resolves it before Strawberry's handler runs, and the handler reads the body), and
the route class turns Strawberry's plain-text refusals of malformed HTTP requests into
AppSync's JSON.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from bnpl_common.errors import Unauthorized
from bnpl_common.jwt import Principal, bearer_token
from bnpl_common.staff_pool import TokenVerifier
from fastapi import Depends, FastAPI, Request, status
from fastapi.exceptions import WebSocketException
from fastapi.requests import HTTPConnection
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema import BaseSchema
from strawberry.types import ExecutionResult

from bnpl_gateway.context import GatewayContext
from bnpl_gateway.errors import UNAUTHORIZED_BODY, format_error

log = logging.getLogger("bnpl.gateway.auth")
_HTTP_ERROR_TYPES = {400: "MalformedHttpRequestException", 404: "NotFound", 405: "MethodNotAllowed"}


class NotAuthorized(Exception):
    """No valid access token: HTTP 401 with AppSync's body (see :func:`install_graphql`)."""


async def verified_caller(connection: HTTPConnection) -> Principal | None:
    """The caller of ``POST /graphql``, from a verified Cognito access token.

    ``GET`` executes nothing (queries over GET are refused; it serves GraphiQL where that is
    on), so it needs no token. There are no subscriptions: a WebSocket handshake is refused.
    """
    if connection.scope["type"] == "websocket":
        raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION)
    if connection.scope["method"] != "POST":
        return None
    verifier: TokenVerifier = connection.app.state.verifier
    try:
        return await verifier.verify(bearer_token(connection.headers.get("authorization")))
    except Unauthorized as exc:
        log.info("unauthorized", extra={"reason": exc.message})
        raise NotAuthorized from None


Caller = Annotated[Principal | None, Depends(verified_caller)]


async def graphql_context(connection: HTTPConnection, caller: Caller) -> GatewayContext:
    """Strawberry's context getter: built only once the caller is verified."""
    return GatewayContext(
        upstreams=connection.app.state.upstreams,
        principal=caller,
        revocation=getattr(connection.app.state, "revocation", None),
    )


class AppSyncRoute(APIRoute):
    """Strawberry answers a malformed HTTP request (a body that is not JSON, no query, a GET
    where queries over GET are off) in plain text; AppSync answers in JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def appsync_handler(request: Request) -> Response:
            response = await handler(request)
            if response.status_code < 400 or response.media_type != "text/plain":
                return response
            error_type = _HTTP_ERROR_TYPES.get(response.status_code, "BadRequestException")
            message = bytes(response.body).decode(errors="replace")
            return JSONResponse(
                {"errors": [{"errorType": error_type, "message": message}]}, status_code=response.status_code
            )

        return appsync_handler


class GatewayRouter(GraphQLRouter[GatewayContext, None]):
    """Strawberry's FastAPI router with AppSync's error shape in every result."""

    def decode_json(self, data: str | bytes) -> object:
        """A body that is not UTF-8 JSON holding an object (or a list, refused as a batch) is
        the caller's mistake: Strawberry's 400 "Unable to parse request body as JSON" (raised for
        a ``JSONDecodeError``). It let a body that is not UTF-8 escape as an internal error, and
        read a JSON string or number as if it were an object (a 500)."""
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError("not valid UTF-8", "", exc.start) from exc
        parsed = json.loads(text)
        if not isinstance(parsed, dict | list):
            raise json.JSONDecodeError("not a JSON object", text, 0)
        return parsed

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        response: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            response["errors"] = [format_error(error) for error in result.errors]
        return response


async def _not_authorized(_request: Request, _exc: Exception) -> Response:
    return JSONResponse(UNAUTHORIZED_BODY, status_code=401)


def install_graphql(app: FastAPI, schema: BaseSchema, *, graphiql: bool, path: str = "/graphql") -> None:
    """Mount the GraphQL API at ``path``, with the handler that renders a refused token as AppSync's 401."""
    router = GatewayRouter(
        schema,
        context_getter=graphql_context,
        route_class=AppSyncRoute,
        graphql_ide="graphiql" if graphiql else None,
        allow_queries_via_get=False,
        subscription_protocols=(),
    )
    app.add_exception_handler(NotAuthorized, _not_authorized)
    app.include_router(router, prefix=path)
