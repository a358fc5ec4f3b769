"""The gateway app: ``create_app()`` and its lifespan (shared signing client, JWT verifier)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import botocore.session
import httpx
from bnpl_common.app import MAX_BODY_BYTES, install_common
from bnpl_common.http import create_http_client
from bnpl_common.internal_http import AiohttpClient, HttpxClient, InternalClient, closing
from bnpl_common.jwt import CognitoJwtVerifier, JwksFetcher, http_jwks_fetcher
from bnpl_common.logging import configure_logging
from bnpl_common.observability import install_observability
from bnpl_common.revocation import RevocationChecker
from bnpl_common.settings import LOCAL_SIGV4_ACCESS_KEY_ID, LOCAL_SIGV4_SECRET
from bnpl_common.sigv4 import SigV4Signer
from bnpl_common.staff_pool import user_token_verifier
from botocore.credentials import Credentials
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from bnpl_gateway.documents import mount_documents
from bnpl_gateway.router import install_graphql
from bnpl_gateway.schema import create_schema
from bnpl_gateway.settings import Settings
from bnpl_gateway.upstream import ServiceClient, Upstreams
from bnpl_gateway.web import WithHeaders, mount_web, response_headers

SERVICE_NAME = "bnpl-gateway"


def signing_credentials(settings: Settings) -> Credentials:
    """Local key pair, or botocore's credential chain (the Fargate task role) in AWS."""
    if settings.service_signing == "local":
        return Credentials(LOCAL_SIGV4_ACCESS_KEY_ID, LOCAL_SIGV4_SECRET)
    credentials = botocore.session.get_session().get_credentials()
    if credentials is None:
        raise RuntimeError("SERVICE_SIGNING=aws but botocore found no credentials")
    return credentials


class GatewayApp(FastAPI):
    """FastAPI with fixed response headers outside every middleware, so that the body limit's
    413 and the last-resort 500 carry them too (``add_middleware`` would sit inside both)."""

    def __init__(self, headers: list[tuple[bytes, bytes]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.response_headers = headers

    def build_middleware_stack(self) -> ASGIApp:
        return WithHeaders(super().build_middleware_stack(), self.response_headers)


def create_app(
    settings: Settings | None = None,
    *,
    jwks_fetcher: JwksFetcher | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    credentials: Credentials | None = None,
) -> FastAPI:
    """Build the app; tests inject the JWKS fetcher, an upstream transport and credentials."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(SERVICE_NAME, settings.log_level)
        # httpx logs every URL at INFO (query strings included); our own lines say enough.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        if not settings.cognito_client_ids:
            raise RuntimeError("COGNITO_CLIENT_IDS is empty: no access token could ever be accepted")
        signer = SigV4Signer(
            credentials or signing_credentials(settings), region=settings.aws_region, service=settings.sigv4_service
        )

        # One keep-alive pool per upstream, created once, so that neither waits behind the
        # other's connections. The calls to the services are the decision's hot path: they go
        # through aiohttp (``bnpl_common.internal_http`` says why), signed per call
        # (ServiceClient); the JWKS fetch and the revocation check go to Cognito on httpx.
        # Tests hand in an httpx transport, which then carries the service calls too.
        def upstream() -> InternalClient:
            if transport is not None:
                return HttpxClient.over(
                    transport, connect_timeout=settings.http_connect_timeout, read_timeout=settings.http_read_timeout
                )
            return AiohttpClient(connect_timeout=settings.http_connect_timeout, read_timeout=settings.http_read_timeout)

        client = create_http_client(
            connect_timeout=settings.http_connect_timeout, read_timeout=settings.http_read_timeout, transport=transport
        )
        async with client, closing(upstream()) as user_http, closing(upstream()) as credit_http:
            app.state.verifier = user_token_verifier(  # staff sign in to their own pool in AWS
                settings,
                CognitoJwtVerifier(
                    issuer=settings.cognito_issuer,
                    client_ids=settings.cognito_client_ids,
                    fetch_jwks=jwks_fetcher or http_jwks_fetcher(client, settings.cognito_jwks_url),
                ),
                client,
            )
            app.state.revocation = RevocationChecker(
                client, settings.cognito_api_endpoint, cache_seconds=settings.token_revocation_cache_seconds
            )
            app.state.cognito_http = client  # the local Cognito pass-through's (web.py); unsigned
            app.state.upstreams = Upstreams(
                user=ServiceClient("user", settings.user_service_url, user_http, signer),
                credit=ServiceClient("credit", settings.credit_service_url, credit_http, signer),
            )
            yield
            del app.state.upstreams
            del app.state.cognito_http

    app = GatewayApp(
        response_headers(settings),
        title="BNPL gateway",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        max_body_size=MAX_BODY_BYTES,  # the page's biggest document is ~1 KiB; over it: 413 unparsed
    )

    async def ready() -> bool:
        # not ready while no token can be verified (no signing keys and the JWKS unreachable)
        return hasattr(app.state, "upstreams") and await app.state.verifier.ready()

    install_common(app, ready=ready)
    install_observability(app, SERVICE_NAME, public_edge=True)  # the internet's traceparent is not followed
    if settings.cors_allow_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allow_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-Id"],
            expose_headers=["X-Request-Id"],
        )
    install_graphql(
        app, create_schema(introspection=settings.introspection_enabled), graphiql=settings.graphiql_enabled
    )
    mount_documents(app)
    mount_web(app, settings)
    return app
