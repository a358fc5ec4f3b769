"""The credit service app: ``create_app()`` and its lifespan (clients built once, closed on exit)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from bnpl_common.app import MAX_BODY_BYTES, install_common
from bnpl_common.clock import Clock, SystemClock
from bnpl_common.errors import Forbidden
from bnpl_common.http import create_http_client
from bnpl_common.internal_http import AiohttpClient, HttpxClient, InternalClient
from bnpl_common.jwt import CognitoJwtVerifier, JwksFetcher, http_jwks_fetcher
from bnpl_common.logging import configure_logging
from bnpl_common.metrics import add_collect_hook
from bnpl_common.observability import install_observability
from bnpl_common.service_auth import CALLER_ARN_HEADER, ServiceAuthenticator, role_arn_of, verify_request_signature
from bnpl_common.staff_pool import user_token_verifier
from bnpl_common.telemetry import trace_methods
from fastapi import FastAPI, Request

from bnpl_credit.applications.disclosure import Documents
from bnpl_credit.applications.documents_router import ServiceGate
from bnpl_credit.applications.documents_router import router as documents_router
from bnpl_credit.applications.finance_review import FinanceReviewPolicy
from bnpl_credit.applications.holds import expire_approvals
from bnpl_credit.applications.profile_trust import profile_verifier
from bnpl_credit.applications.router import router as applications_router
from bnpl_credit.checkouts.config import CheckoutConfig
from bnpl_credit.checkouts.router import router as checkouts_router
from bnpl_credit.checkouts.service import sweep_checkouts
from bnpl_credit.checkouts.shopper_router import router as checkout_sessions_router
from bnpl_credit.clock import OffsetFileClock
from bnpl_credit.collections.refunds import return_to_method
from bnpl_credit.collections.router import psp_router
from bnpl_credit.collections.router import router as payment_methods_router
from bnpl_credit.collections.scheduler import Collection, rules_of
from bnpl_credit.collections.service import Collector
from bnpl_credit.collections.settings import CollectionSettings
from bnpl_credit.credit_line.router import router as credit_line_router
from bnpl_credit.decision.engine import DecisionEngine
from bnpl_credit.decision.features import FEATURE_NAMES
from bnpl_credit.decision.policy import load_policy
from bnpl_credit.deps import CreditState
from bnpl_credit.disclosures.render import DocumentRenderer
from bnpl_credit.disclosures.settings import DocumentSettings, document_renderer, document_store
from bnpl_credit.events.relay import EventBridgePublisher, LogPublisher, Publisher, relay_once, run_forever
from bnpl_credit.markets.catalog import load_catalog
from bnpl_credit.merchants.auth import MerchantDirectory, MerchantGate
from bnpl_credit.monitoring import (
    MONITOR_INTERVAL_SECONDS,
    TimedPublisher,
    observe_outbox,
    observe_plans,
    observe_review_queue,
)
from bnpl_credit.plans.ledger import Plan
from bnpl_credit.plans.model import Refund
from bnpl_credit.plans.router import router as plans_router
from bnpl_credit.plans.service import sweep_lateness
from bnpl_credit.psp import PaymentServiceProvider, PspSettings, create_psp
from bnpl_credit.quotes.router import router as quotes_router
from bnpl_credit.refunds.router import router as refunds_router
from bnpl_credit.reviews.deps import ReviewState
from bnpl_credit.reviews.router import shopper_router as review_requests_router
from bnpl_credit.reviews.router import staff_router
from bnpl_credit.reviews.service import ReviewRules, expire_cases
from bnpl_credit.reviews.settings import ReviewSettings
from bnpl_credit.scoring.port import Scorer
from bnpl_credit.settings import Settings
from bnpl_credit.staff.router import router as staff_reads_router
from bnpl_credit.storage.factory import build_store
from bnpl_credit.storage.port import CreditStore
from bnpl_credit.webhooks.router import router as webhooks_router
from bnpl_credit.webhooks.runtime import build_runtime, fan_out_hook, merchant_ids_of

SERVICE_NAME = "credit"


def build_scorer(settings: Settings, client: InternalClient) -> Scorer:
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


def build_shadow_scorer(settings: Settings, client: InternalClient) -> Scorer | None:
    """The challenger of shadow scoring, if one is configured."""
    if settings.shadow_sagemaker_endpoint_name:
        from bnpl_credit.scoring.sagemaker import SageMakerScorer, runtime_client

        return SageMakerScorer(
            endpoint_name=settings.shadow_sagemaker_endpoint_name,
            timeout_seconds=settings.scorer_timeout_seconds,
            client=runtime_client(region=settings.aws_region, timeout_seconds=settings.scorer_timeout_seconds),
        )
    if settings.shadow_model_url:
        from bnpl_credit.scoring.http import HttpScorer

        return HttpScorer(client, base_url=settings.shadow_model_url, timeout_seconds=settings.scorer_timeout_seconds)
    return None


def build_publisher(settings: Settings) -> Publisher | None:
    """Where the outbox relay publishes: the log locally, EventBridge in AWS."""
    if settings.event_publisher == "none":
        return None
    if settings.event_publisher == "eventbridge":
        import boto3

        from bnpl_credit.lake.publisher import LakeEnvelopePublisher

        bus = EventBridgePublisher(
            boto3.client("events", region_name=settings.aws_region), bus_name=settings.event_bus_name
        )
        return LakeEnvelopePublisher(bus, pseudonym_key=settings.lake_pseudonym_key.encode())
    publisher = LogPublisher()
    if settings.lake_dir:
        from bnpl_credit.lake.publisher import LakePublisher
        from bnpl_credit.lake.writer import LakeWriter

        return LakePublisher(
            publisher, LakeWriter(settings.lake_dir, pseudonym_key=settings.lake_pseudonym_key.encode())
        )
    return publisher


def build_documents(settings: DocumentSettings, clock: Clock) -> Documents:
    """The renderer and the document store. Without its fonts (an image without
    fonts-dejavu-core) the service still starts: documents answer 503 and a market that requires
    acceptance confirms nothing, which the log says once."""
    try:
        renderer: DocumentRenderer | None = document_renderer(settings)
    except FileNotFoundError as exc:
        logging.getLogger("bnpl.credit.documents").warning("documents cannot be rendered", extra={"reason": str(exc)})
        renderer = None
    return Documents(
        renderer=renderer,
        store=document_store(settings, clock),
        link_ttl=settings.link_ttl,
        prerender=settings.document_prerender,
    )


def document_gate(settings: Settings) -> ServiceGate:
    """The download route's check of its caller: the gateway's service signature (or, behind API
    Gateway's IAM auth, an allowed role); a browser's link carries no user token."""

    async def gate(request: Request) -> None:
        if settings.service_auth_mode == "apigateway-iam":
            if role_arn_of(request.headers.get(CALLER_ARN_HEADER, "")) not in settings.service_auth_principals:
                raise Forbidden("caller not allowed")
            return
        await verify_request_signature(
            request,
            secrets=settings.service_auth_keys,
            service=settings.sigv4_service,
            now=datetime.now(UTC),  # real time, as the service authenticator: the signer's clock
            max_skew_seconds=settings.sigv4_max_skew_seconds,
        )

    return gate


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


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
    shadow_scorer: Scorer | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
    store: CreditStore | None = None,
    publisher: Publisher | None = None,
    background: bool = True,
    document_settings: DocumentSettings | None = None,
    review_settings: ReviewSettings | None = None,
    collection_settings: CollectionSettings | None = None,
    psp: PaymentServiceProvider | None = None,
) -> FastAPI:
    """Build the app; tests inject the JWKS fetcher, clock, scorer, store, publisher or transport."""
    settings = settings or Settings()
    clock = clock or build_clock(settings)
    documents = build_documents(document_settings or DocumentSettings(), clock)
    policy = load_policy(settings.policy_path)  # fail fast on a bad policy file
    markets = load_catalog()  # the market terms in force, read once: a bad market file stops the start
    holder: dict[str, CreditStore] = {}
    checkout_config = CheckoutConfig(
        gateway_url=settings.gateway_public_url,
        session_ttl=timedelta(minutes=settings.checkout_session_ttl_minutes),
        authorization_ttl=timedelta(days=settings.authorization_ttl_days),
    )
    review_settings = review_settings or ReviewSettings()
    review_rules = ReviewRules(
        ttl=review_settings.ttl,
        four_eyes_amount=review_settings.review_four_eyes_amount,
        gateway_url=checkout_config.gateway_url,
    )
    collection_settings = collection_settings or CollectionSettings(bnpl_env=settings.bnpl_env)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(SERVICE_NAME, settings.log_level)
        the_store = trace_methods(store or build_store(settings), "storage")  # a span per call (tracing on)
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
        # The model's calls are on every decision's path: aiohttp (bnpl_common.internal_http says
        # why), unless a test handed in a transport, which then carries them too.
        model_http: InternalClient = (
            HttpxClient(client)
            if http_transport is not None
            else AiohttpClient(connect_timeout=settings.http_connect_timeout, read_timeout=settings.http_read_timeout)
        )
        the_scorer = scorer or build_scorer(settings, model_http)
        the_shadow = shadow_scorer or build_shadow_scorer(settings, model_http)
        verify = getattr(the_scorer, "verify", None)
        if verify is not None:  # the in-process model: it must load and take the mapping's inputs (else no start)
            await verify()
        app.state.credit = CreditState(
            store=the_store,
            engine=DecisionEngine(
                policy=policy,
                markets=markets,
                scorer=the_scorer,
                timeout_seconds=settings.scorer_timeout_seconds,
                shadow=the_shadow,
            ),
            clock=clock,
            authenticator=ServiceAuthenticator.from_settings(settings, verifier=verifier),
            documents=documents,
        )
        the_psp: PaymentServiceProvider | None = None
        live_config = checkout_config
        if collection_settings.collects:
            the_psp = psp or create_psp(PspSettings())
            origins = (_origin(settings.gateway_public_url), *collection_settings.payment_return_origins)
            collector = Collector(the_psp, return_origins=origins)
            app.state.collector = collector

            async def back_to_card(plan: Plan, refunds: Sequence[Refund]) -> int:
                return await return_to_method(
                    the_store, collector, clock, customer_id=plan.customer_id, plan_id=plan.id, refunds=refunds
                )

            live_config = replace(checkout_config, return_to_method=back_to_card)
        app.state.checkout_config = live_config
        app.state.merchant_gate = MerchantGate(
            MerchantDirectory(the_store, ttl_seconds=settings.merchant_key_cache_seconds),
            service=settings.sigv4_service,
            fallback_keys={k: (v.secret, v.merchant_id) for k, v in settings.merchant_auth_keys.items()},
            max_skew_seconds=settings.sigv4_max_skew_seconds,
            mode=settings.merchant_auth_mode,
            principals=settings.merchant_principals,
        )
        webhooks = build_runtime(settings, the_store, clock, merchant_ids=merchant_ids_of(the_store))
        app.state.webhooks = webhooks
        fan_out = fan_out_hook(the_store, clock, webhooks)
        sms = review_settings.build_sms(clock)
        app.state.reviews = ReviewState(rules=review_rules, sms=sms, local=settings.is_local)
        the_publisher = publisher or build_publisher(settings)
        app.state.publisher = the_publisher
        app.state.finance_review = FinanceReviewPolicy(
            window=timedelta(hours=settings.finance_review_window_hours),
            threshold_percent=settings.finance_material_change_percent,
        )
        app.state.profile_verifier = profile_verifier(
            settings.profile_verify_keys, max_age_seconds=settings.profile_snapshot_max_age_seconds
        )
        running: Collector | None = getattr(app.state, "collector", None)
        collection: Collection | None = None
        if running is not None:  # the scheduler's pass; the PSP's webhooks run it too
            collection = Collection(
                the_store,
                running,
                markets,
                clock,
                sms=sms,
                rules=rules_of(collection_settings.collection_retry_days, collection_settings.collection_reminder_days),
            )
        app.state.collection = collection
        tasks: list[asyncio.Task[None]] = []
        if background:
            if the_publisher is not None:
                timed = TimedPublisher(the_publisher, clock)

                async def relay() -> None:
                    while await relay_once(the_store, timed, clock, before_publish=fan_out):
                        pass

                tasks.append(asyncio.create_task(run_forever("relay", relay, settings.relay_interval_seconds)))

            async def sweep() -> None:
                await expire_approvals(the_store, clock)
                await sweep_checkouts(the_store, markets, clock, config=live_config)
                await expire_cases(the_store, clock, review_rules, sms)
                await sweep_lateness(the_store, markets, clock)
                await the_store.purge_expired(now=clock.now())
                await observe_plans(the_store, clock)  # reads the open plans, as the lateness sweep does

            tasks.append(asyncio.create_task(run_forever("sweep", sweep, settings.sweep_interval_seconds)))
            if collection is not None:  # the scheduler: due installments charged through the PSP
                scheduler = collection

                async def collect() -> None:
                    await scheduler.run()

                interval = collection_settings.collection_interval_seconds
                tasks.append(asyncio.create_task(run_forever("collect", collect, interval)))
            if webhooks.dispatcher is not None:
                interval = settings.webhook_dispatch_interval_seconds
                tasks.append(asyncio.create_task(webhooks.dispatcher.run_forever(interval)))

            async def monitor() -> None:  # gauges for EMF in AWS (no scrape there)
                await observe_outbox(the_store, clock)
                await observe_review_queue(the_store, clock)

            tasks.append(asyncio.create_task(run_forever("monitor", monitor, MONITOR_INTERVAL_SECONDS)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await webhooks.aclose()
            if the_psp is not None:
                await the_psp.aclose()
            await the_scorer.aclose()
            if the_shadow is not None:
                await the_shadow.aclose()
            await model_http.aclose()
            await client.aclose()
            await the_store.close()

    async def ready() -> bool:
        the_store = holder.get("store")
        return the_store is not None and await the_store.ping()

    app = FastAPI(title="BNPL credit service", version="0.2.0", lifespan=lifespan, max_body_size=MAX_BODY_BYTES)
    app.state.document_gate = document_gate(settings)
    install_common(app, ready=ready)
    install_observability(app, SERVICE_NAME)

    async def outbox_now() -> None:  # a scrape sees the outbox and the review queue as they are
        if "store" in holder:
            await observe_outbox(holder["store"], clock)
            await observe_review_queue(holder["store"], clock)

    add_collect_hook(app, outbox_now)
    for router in (
        quotes_router,
        review_requests_router,
        applications_router,
        plans_router,
        credit_line_router,
        refunds_router,
        webhooks_router,
        checkouts_router,
        checkout_sessions_router,
        documents_router,
        staff_router,
        staff_reads_router,
        payment_methods_router,
        psp_router,
    ):
        app.include_router(router)
    return app
