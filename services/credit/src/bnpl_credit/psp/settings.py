"""Which PSP the credit service uses, from environment variables (the same names in ``.env``,
docker compose and the CloudFormation task definition)."""

from __future__ import annotations

from typing import ClassVar, Literal

from bnpl_common.settings import aws_runtime_marker
from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bnpl_credit.psp.port import PaymentServiceProvider
from bnpl_credit.psp.sandbox_adapter import SandboxPsp
from bnpl_credit.psp.stripe_adapter import StripePsp

# The sandbox's local-only keys (the psp-sandbox package's defaults); refused with PSP=stripe.
SANDBOX_API_KEY = "sk_test_sandbox_local_only"
SANDBOX_WEBHOOK_SECRET = "whsec_sandbox_local_only"  # noqa: S105 - a public local placeholder


class PspSettings(BaseSettings):
    """``PSP=sandbox`` (``make run``, tests) or ``PSP=stripe`` (AWS, with real keys from Secrets Manager)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    placeholders: ClassVar[frozenset[str]] = frozenset({SANDBOX_API_KEY, SANDBOX_WEBHOOK_SECRET, ""})

    bnpl_env: Literal["local", "test", "aws"] = "local"
    psp: Literal["sandbox", "stripe"] = "sandbox"
    psp_sandbox_url: str = "http://127.0.0.1:8090"
    psp_sandbox_page_url: str | None = None  # where a browser reaches the sandbox, if not PSP_SANDBOX_URL
    # page: the sandbox's own card page; element: no page, the checkout page mounts the Payment
    # Element as with Stripe (a test's stand-in for Stripe.js collects the card)
    psp_sandbox_card_field: Literal["page", "element"] = "page"
    psp_api_key: str = SANDBOX_API_KEY
    psp_webhook_secret: str = SANDBOX_WEBHOOK_SECRET
    psp_timeout_seconds: float = 10.0

    @model_validator(mode="after")
    def _real_keys_for_stripe(self) -> PspSettings:
        marker = aws_runtime_marker()
        if self.psp == "sandbox" and (self.bnpl_env == "aws" or marker):
            # nothing answers there: every charge would fail; say so at start instead
            raise ValueError(
                f"PSP=sandbox is for local runs and tests; on AWS ({marker or 'BNPL_ENV=aws'}) set PSP=stripe"
            )
        if self.psp == "stripe":
            if self.psp_api_key in self.placeholders or self.psp_webhook_secret in self.placeholders:
                raise ValueError("PSP=stripe needs PSP_API_KEY and PSP_WEBHOOK_SECRET (the sandbox's are refused)")
            if not self.psp_webhook_secret.startswith("whsec_"):
                raise ValueError("PSP_WEBHOOK_SECRET must be the endpoint's signing secret (whsec_...)")
        return self


def create_psp(settings: PspSettings) -> PaymentServiceProvider:
    """The adapter the settings name; create it once per process and close it on shutdown."""
    if settings.psp == "stripe":
        return StripePsp(
            api_key=settings.psp_api_key,
            webhook_secret=settings.psp_webhook_secret,
            timeout_seconds=settings.psp_timeout_seconds,
        )
    return SandboxPsp(
        api_base=settings.psp_sandbox_url,
        page_base=settings.psp_sandbox_page_url,
        with_page=settings.psp_sandbox_card_field == "page",
        api_key=settings.psp_api_key,
        webhook_secret=settings.psp_webhook_secret,
        timeout_seconds=settings.psp_timeout_seconds,
    )
