"""The credit service app: ``create_app()`` and its lifespan (clients built once, closed on exit)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from bnpl_common.app import MAX_BODY_BYTES, install_common
from bnpl_common.clock import Clock, SystemClock
from bnpl_common.http import create_http_client
from bnpl_common.jwt import CognitoJwtVerifier, JwksFetcher, http_jwks_fetcher
from bnpl_common.logging import configure_logging
from bnpl_common.service_auth import ServiceAuthenticator
from bnpl_common.staff_pool import user_token_verifier
from fastapi import FastAPI

from bnpl_credit.applications.holds import expire_approvals
from bnpl_credit.applications.router import router as applications_router
from bnpl_credit.clock import OffsetFileClock
from bnpl_credit.credit_line.router import router as credit_line_router
from bnpl_credit.decision.engine import DecisionEngine
from bnpl_credit.decision.features import FEATURE_NAMES
from bnpl_credit.decision.policy import load_policy
from bnpl_credit.deps import CreditState
from bnpl_credit.events.relay import EventBridgePublisher, LogPublisher, Publisher, relay_once, run_forever
from bnpl_credit.markets.catalog import load_catalog
from bnpl_credit.plans.router import router as plans_router
from bnpl_credit.plans.service import sweep_lateness
from bnpl_credit.quotes.router import router as quotes_router
from bnpl_credit.refunds.auth import MerchantAuthenticator
from bnpl_credit.refunds.router import router as refunds_router
from bnpl_credit.reviews.deps import ReviewState
from bnpl_credit.reviews.router import shopper_router as review_requests_router
from bnpl_credit.reviews.router import staff_router
from bnpl_credit.reviews.service import ReviewRules, expire_cases
from bnpl_credit.reviews.settings import ReviewSettings
from bnpl_credit.scoring.port import Scorer
from bnpl_credit.settings import Settings
from bnpl_credit.storage.factory import build_store
from bnpl_credit.storage.port import CreditStore

SERVICE_NAME = "credit"


def build_scorer(settings: Settings, client: httpx.AsyncClient) -> Scorer:
    """The scorer adapter chosen by ``SCORER``."""
    if settings.scorer == "inprocess":
        from bnpl_credit.scoring.inprocess import InProcessScorer

        if not settings.model_artifact_dir:
            raise ValueError("SCORER=inprocess needs MODEL_ARTIFACT_DIR")
        return InProcessScorer(settings.model_artifact_dir, expected_features=FEATURE_NAMES)
    if settings.scorer == "sagemaker":
        from bnpl_credit.scoring.sagemaker import SageMakerScorer, runtime_client

        if not settings.sagemaker_endpoint_name:
            raise ValueError("SCORER=sagemaker needs SAGEMAKER_ENDPOINT_NAME")
        return SageMakerScorer(
            endpoint_name=settings.sagemaker_endpoint_name,
            timeout_seconds=settings.scorer_timeout_seconds,
            client=runtime_client(region=settings.aws_region, timeout_seconds=settings.scorer_timeout_seconds),
        )
    from bnpl_credit.scoring.http import HttpScorer

    return HttpScorer(client, base_url=settings.model_url, timeout_seconds=settings.scorer_timeout_seconds)


def build_publisher(settings: Settings) -> Publisher | None:
    """Where the outbox relay publishes: the log locally, EventBridge in AWS."""
    if settings.event_publisher == "none":
        return None
    if settings.event_publisher == "eventbridge":
        import boto3

        return EventBridgePublisher(
            boto3.client("events", region_name=settings.aws_region), bus_name=settings.event_bus_name
        )
    return LogPublisher()


def build_clock(settings: Settings) -> Clock:
    if settings.clock_offset_file:  # settings refuse it outside local/test
        return OffsetFileClock(settings.clock_offset_file)
    return SystemClock()


def create_app(
    settings: Settings | None = None,
    *,
    fetch_jwks: JwksFetcher | None = None,
    clock: Clock | None = None,
    scorer: Scorer | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
    store: CreditStore | None = None,
    publisher: Publisher | None = None,
    background: bool = True,
    review_settings: ReviewSettings | None = None,
) -> FastAPI:
    """Build the app; tests inject the JWKS fetcher, clock, scorer, store, publisher or transport."""
    settings = settings or Settings()
    clock = clock or build_clock(settings)
    policy = load_policy(settings.policy_path)  # fail fast on a bad policy file
    markets = load_catalog()  # the market terms in force, read once: a bad market file stops the start
    holder: dict[str, CreditStore] = {}
    review_settings = review_settings or ReviewSettings()
    review_rules = ReviewRules(ttl=review_settings.ttl, four_eyes_amount=review_settings.review_four_eyes_amount)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(SERVICE_NAME, settings.log_level)
        the_store = store or build_store(settings)
        holder["store"] = the_store
        client = create_http_client(
            connect_timeout=settings.http_connect_timeout,
            read_timeout=settings.http_read_timeout,
            transport=http_transport,
        )
        verifier = user_token_verifier(  # the staff pool's tokens too, where there is one
            settings,
            CognitoJwtVerifier(
                issuer=settings.cognito_issuer,
                client_ids=settings.cognito_client_ids,
                fetch_jwks=fetch_jwks or http_jwks_fetcher(client, settings.cognito_jwks_url),
            ),
            client,
        )
        the_scorer = scorer or build_scorer(settings, client)
        verify = getattr(the_scorer, "verify", None)
        if verify is not None:  # the in-process model: it must load and take the mapping's inputs (else no start)
            await verify()
        app.state.credit = CreditState(
            store=the_store,
            engine=DecisionEngine(
                policy=policy, markets=markets, scorer=the_scorer, timeout_seconds=settings.scorer_timeout_seconds
            ),
            clock=clock,
            authenticator=ServiceAuthenticator.from_settings(settings, verifier=verifier),
            merchant_authenticator=MerchantAuthenticator(
                keys=settings.merchant_auth_keys,
                service=settings.sigv4_service,
                max_skew_seconds=settings.sigv4_max_skew_seconds,
                mode=settings.merchant_auth_mode,
                principals=settings.merchant_principals,
            ),
        )
        sms = review_settings.build_sms(clock)
        app.state.reviews = ReviewState(rules=review_rules, sms=sms)
        the_publisher = publisher or build_publisher(settings)
        app.state.publisher = the_publisher
        tasks: list[asyncio.Task[None]] = []
        if background:
            if the_publisher is not None:

                async def relay() -> None:
                    while await relay_once(the_store, the_publisher, clock):
                        pass

                tasks.append(asyncio.create_task(run_forever("relay", relay, settings.relay_interval_seconds)))

            async def sweep() -> None:
                await expire_approvals(the_store, clock)
                await expire_cases(the_store, clock, review_rules, sms)
                await sweep_lateness(the_store, markets, clock)
                await the_store.purge_expired(now=clock.now())

            tasks.append(asyncio.create_task(run_forever("sweep", sweep, settings.sweep_interval_seconds)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await the_scorer.aclose()
            await client.aclose()
            await the_store.close()

    async def ready() -> bool:
        the_store = holder.get("store")
        return the_store is not None and await the_store.ping()

    app = FastAPI(title="BNPL credit service", version="0.2.0", lifespan=lifespan, max_body_size=MAX_BODY_BYTES)
    install_common(app, ready=ready)
    for router in (
        quotes_router,
        review_requests_router,
        applications_router,
        plans_router,
        credit_line_router,
        refunds_router,
        staff_router,
    ):
        app.include_router(router)
    return app
