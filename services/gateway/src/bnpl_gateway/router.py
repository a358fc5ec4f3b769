"""``/graphql``: the caller's Cognito access token is checked before anything executes, and
every response carries AppSync-shaped errors."""

from __future__ import annotations

import logging
from typing import Any

from bnpl_common.errors import Unauthorized
from bnpl_common.jwt import CognitoJwtVerifier, bearer_token
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from bnpl_gateway.context import GatewayContext
from bnpl_gateway.errors import UNAUTHORIZED_BODY, format_error

log = logging.getLogger("bnpl.gateway.auth")
_HTTP_ERROR_TYPES = {400: "MalformedHttpRequestException", 404: "NotFound", 405: "MethodNotAllowed"}


class GatewayRouter(GraphQLRouter[GatewayContext, None]):
    """Strawberry's FastAPI router with AppSync's authorization and error shape."""

    async def run(
        self,
        request: Request | WebSocket,
        context: GatewayContext | Any = None,
        root_value: Any = None,
    ) -> Response | WebSocket:
        if self.is_websocket_request(request):  # no subscriptions: refuse the handshake
            return await self.reject_websocket(request)
        if not self.should_render_graphql_ide(self.request_adapter_class(request)):
            try:
                verifier: CognitoJwtVerifier = request.app.state.verifier
                context.principal = await verifier.verify(bearer_token(request.headers.get("authorization")))
            except Unauthorized as exc:
                log.info("unauthorized", extra={"reason": exc.message})
                return JSONResponse(UNAUTHORIZED_BODY, status_code=401)
        try:
            return await super().run(request, context=context, root_value=root_value)
        except HTTPException as exc:  # malformed HTTP request: JSON, as AppSync answers
            error_type = _HTTP_ERROR_TYPES.get(exc.status_code, "BadRequestException")
            body = {"errors": [{"errorType": error_type, "message": exc.reason}]}
            return JSONResponse(body, status_code=exc.status_code)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        response: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            response["errors"] = [format_error(error) for error in result.errors]
        return response
