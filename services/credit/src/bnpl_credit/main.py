"""The credit service app: ``create_app()`` and its lifespan (clients built once, closed on exit)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from bnpl_common.app import install_common
from bnpl_common.clock import Clock, SystemClock
from bnpl_common.http import create_http_client
from bnpl_common.jwt import CognitoJwtVerifier, JwksFetcher, http_jwks_fetcher
from bnpl_common.logging import configure_logging
from bnpl_common.service_auth import ServiceAuthenticator
from fastapi import FastAPI

from bnpl_credit.applications.repository import SqliteApplicationRepository
from bnpl_credit.applications.router import router as applications_router
from bnpl_credit.credit_line.router import router as credit_line_router
from bnpl_credit.db import SqliteDatabase
from bnpl_credit.decision.engine import DecisionEngine
from bnpl_credit.decision.policy import load_policy
from bnpl_credit.deps import CreditState
from bnpl_credit.plans.repository import SqlitePlanRepository
from bnpl_credit.plans.router import router as plans_router
from bnpl_credit.quotes.router import router as quotes_router
from bnpl_credit.scoring.port import Scorer
from bnpl_credit.settings import Settings

SERVICE_NAME = "credit"


def build_scorer(settings: Settings, client: httpx.AsyncClient) -> Scorer:
    """The scorer adapter chosen by ``SCORER``."""
    if settings.scorer == "inprocess":
        from bnpl_credit.scoring.inprocess import InProcessScorer

        if not settings.model_artifact_dir:
            raise ValueError("SCORER=inprocess needs MODEL_ARTIFACT_DIR")
        return InProcessScorer(settings.model_artifact_dir)
    if settings.scorer == "sagemaker":
        from bnpl_credit.scoring.sagemaker import SageMakerScorer

        if not settings.sagemaker_endpoint_name:
            raise ValueError("SCORER=sagemaker needs SAGEMAKER_ENDPOINT_NAME")
        return SageMakerScorer(
            endpoint_name=settings.sagemaker_endpoint_name,
            region=settings.aws_region,
            timeout_seconds=settings.scorer_timeout_seconds,
        )
    from bnpl_credit.scoring.http import HttpScorer

    return HttpScorer(client, base_url=settings.model_url, timeout_seconds=settings.scorer_timeout_seconds)


def create_app(
    settings: Settings | None = None,
    *,
    fetch_jwks: JwksFetcher | None = None,
    clock: Clock | None = None,
    scorer: Scorer | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Build the app; tests inject the JWKS fetcher, the clock, the scorer or an httpx transport."""
    settings = settings or Settings()
    clock = clock or SystemClock()
    policy = load_policy(settings.policy_path)  # fail fast on a bad policy file
    db_holder: dict[str, SqliteDatabase] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(SERVICE_NAME, settings.log_level)
        db = SqliteDatabase(settings.credit_db_path)
        db_holder["db"] = db
        client = create_http_client(
            connect_timeout=settings.http_connect_timeout,
            read_timeout=settings.http_read_timeout,
            transport=http_transport,
        )
        verifier = CognitoJwtVerifier(
            issuer=settings.cognito_issuer,
            client_ids=settings.cognito_client_ids,
            fetch_jwks=fetch_jwks or http_jwks_fetcher(client, settings.cognito_jwks_url),
        )
        the_scorer = scorer or build_scorer(settings, client)
        app.state.credit = CreditState(
            applications=SqliteApplicationRepository(db),
            plans=SqlitePlanRepository(db),
            engine=DecisionEngine(policy=policy, scorer=the_scorer, timeout_seconds=settings.scorer_timeout_seconds),
            clock=clock,
            authenticator=ServiceAuthenticator(
                secrets=settings.service_auth_keys,
                service=settings.sigv4_service,
                verifier=verifier,
                max_skew_seconds=settings.sigv4_max_skew_seconds,
            ),
        )
        try:
            yield
        finally:
            await the_scorer.aclose()
            await client.aclose()

    async def ready() -> bool:
        db = db_holder.get("db")
        return db is not None and await db.ping()

    app = FastAPI(title="BNPL credit service", version="0.1.0", lifespan=lifespan)
    install_common(app, ready=ready)
    for router in (quotes_router, applications_router, plans_router, credit_line_router):
        app.include_router(router)
    return app
