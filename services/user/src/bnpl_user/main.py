"""The user service app: ``create_app()`` and its lifespan. Nothing runs at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from bnpl_common.app import MAX_BODY_BYTES, install_common
from bnpl_common.clock import Clock, SystemClock
from bnpl_common.http import create_http_client
from bnpl_common.jwt import CognitoJwtVerifier, JwksFetcher, http_jwks_fetcher
from bnpl_common.logging import configure_logging
from bnpl_common.observability import install_observability
from bnpl_common.profile_signature import ProfileSigner, private_key
from bnpl_common.service_auth import ServiceAuthenticator
from bnpl_common.telemetry import trace_methods
from fastapi import FastAPI

from bnpl_user.notifier import EndUserMessagingNotifier, Notifier, OutboxNotifier
from bnpl_user.profiles.finances import FinancePolicy
from bnpl_user.profiles.router import router as profiles_router
from bnpl_user.settings import Settings
from bnpl_user.staff.router import router as staff_router
from bnpl_user.storage.factory import build_store
from bnpl_user.storage.port import UserStore
from bnpl_user.verification.model import DailyCaps, OtpPolicy
from bnpl_user.verification.router import router as verification_router

SERVICE_NAME = "user"


def build_notifier(settings: Settings, clock: Clock) -> Notifier:
    """The SMS adapter that SMS_NOTIFIER names."""
    if settings.sms_notifier == "end-user-messaging":
        import boto3  # only needed in AWS

        client = boto3.client("pinpoint-sms-voice-v2", region_name=settings.aws_region)
        return EndUserMessagingNotifier(client, settings.sms_origination_identity)
    return OutboxNotifier(settings.sms_outbox_path, clock=clock)


def otp_policy(settings: Settings) -> OtpPolicy:
    """The one-time-code rules as the OTP_* settings set them."""
    return OtpPolicy(
        pepper=settings.otp_pepper,
        person_secret=settings.person_key_secret,
        ttl=timedelta(seconds=settings.otp_ttl_seconds),
        max_attempts=settings.otp_max_attempts,
        resend_after=timedelta(seconds=settings.otp_resend_seconds),
        caps=DailyCaps(
            challenges_per_customer=settings.otp_daily_codes_per_customer,
            challenges_per_destination=settings.otp_daily_codes_per_number,
            wrong_codes_per_customer=settings.otp_daily_wrong_codes,
        ),
    )


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    fetch_jwks: JwksFetcher | None = None,
    notifier: Notifier | None = None,
    store: UserStore | None = None,
    configure_logs: bool = True,
) -> FastAPI:
    """Build the app; with no arguments everything comes from environment variables.

    ``clock`` drives business time (code expiry, age); signatures and tokens are
    always checked against real time.
    """
    settings = settings or Settings()
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if configure_logs:
            configure_logging(SERVICE_NAME, settings.log_level)
        app_store = trace_methods(store if store is not None else build_store(settings), "storage")
        await app_store.prepare()
        async with create_http_client(
            connect_timeout=settings.http_connect_timeout, read_timeout=settings.http_read_timeout
        ) as client:
            verifier = CognitoJwtVerifier(
                issuer=settings.cognito_issuer,
                client_ids=settings.cognito_client_ids,
                fetch_jwks=fetch_jwks or http_jwks_fetcher(client, settings.cognito_jwks_url),
            )
            app.state.authenticator = ServiceAuthenticator.from_settings(settings, verifier=verifier)
            app.state.store = app_store
            app.state.notifier = notifier or build_notifier(settings, clock)
            app.state.clock = clock
            app.state.otp = otp_policy(settings)
            app.state.finances = FinancePolicy(
                edits=settings.finance_edits_per_period, period=timedelta(days=settings.finance_edit_period_days)
            )
            app.state.profile_signer = ProfileSigner(
                settings.profile_signing_key_id, private_key(settings.profile_signing_key)
            )
            app.state.person_key_secret = settings.person_key_secret
            yield

    app = FastAPI(
        title="BNPL user service",
        version="0.1.0",
        description="Customer profiles and phone verification.",
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
    )

    async def ready() -> bool:
        ready_store: UserStore | None = getattr(app.state, "store", None)
        return ready_store is not None and await ready_store.ping()

    install_common(app, ready=ready)
    install_observability(app, SERVICE_NAME)
    app.include_router(profiles_router)
    app.include_router(verification_router)
    app.include_router(staff_router)
    return app
