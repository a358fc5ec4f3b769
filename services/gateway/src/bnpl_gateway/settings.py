"""Gateway settings (environment variables, no prefix)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from bnpl_common.settings import CommonSettings, split_csv
from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

STRIPE_JS_URL = "https://js.stripe.com/v3/"


class Settings(CommonSettings):
    """What the gateway reads from its environment."""

    user_service_url: str = "http://127.0.0.1:8001"
    credit_service_url: str = "http://127.0.0.1:8002"
    # local: sign with the well-known local key pair; aws: botocore's credential chain (task role).
    service_signing: Literal["local", "aws"] = "local"
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    # None means "on in local mode only"; never on with BNPL_ENV=aws.
    graphiql: bool | None = None
    cors_allow_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # The checkout page (web/checkout).
    checkout_web_dir: Path | None = None  # None: services/gateway/web next to the package
    # Cognito's API as the shopper's browser reaches it; None: COGNITO_ENDPOINT, else the AWS regional endpoint.
    cognito_public_endpoint: str | None = None
    checkout_client_id: str | None = None  # None: the first of COGNITO_CLIENT_IDS
    # Local only: ``POST /cognito/`` forwards the page's unauthenticated Cognito calls to
    # COGNITO_ENDPOINT and /config.json points the page there (docker compose publishes only
    # the gateway, not the moto container). Refused with BNPL_ENV=aws.
    cognito_proxy: bool = False
    # How the page signs in. USER_SRP_AUTH keeps the password off the wire (AWS's app client allows
    # only that); USER_PASSWORD_AUTH is for the local Cognito (moto), which answers any SRP proof
    # with tokens, so only the password flow can refuse a wrong password there.
    # None: USER_SRP_AUTH with BNPL_ENV=aws, USER_PASSWORD_AUTH otherwise.
    cognito_auth_flow: Literal["USER_SRP_AUTH", "USER_PASSWORD_AUTH"] | None = None
    # Money-moving mutations ask Cognito (GetUser) whether the caller's token was revoked; a
    # live answer is trusted this many seconds (0: ask on every call). Reads are not checked:
    # a revoked token reads until it expires (the pool's access-token validity, 1 hour).
    token_revocation_cache_seconds: int = Field(default=60, ge=0, le=300)
    # How the page collects a card (the credit service's PSP): the sandbox's own page, or Stripe's
    # Payment Element (Stripe.js, with the account's publishable key: public by design).
    psp: Literal["sandbox", "stripe"] = "sandbox"
    psp_publishable_key: str = ""
    # Where the page loads Stripe.js; only a test's local stand-in changes it (refused with BNPL_ENV=aws).
    stripe_js_url: str = STRIPE_JS_URL

    @property
    def cognito_api_endpoint(self) -> str:
        """Where the gateway itself calls Cognito's API (GetUser): the local stand-in or AWS."""
        return (self.cognito_endpoint or f"https://cognito-idp.{self.aws_region}.amazonaws.com").rstrip("/")

    _split_origins = field_validator("cors_allow_origins", mode="before")(split_csv)

    @model_validator(mode="after")
    def _aws_signs_with_the_task_role(self) -> Settings:
        if self.bnpl_env == "aws" and self.service_signing != "aws":
            raise ValueError("SERVICE_SIGNING=local uses a public placeholder key; set SERVICE_SIGNING=aws")
        return self

    @model_validator(mode="after")
    def _cognito_proxy_is_local_only(self) -> Settings:
        if not self.cognito_proxy:
            return self
        if self.bnpl_env == "aws":
            # The local stand-in (moto) accepts any credentials: a pass-through is for it alone.
            raise ValueError("COGNITO_PROXY forwards to a local Cognito stand-in; it is refused with BNPL_ENV=aws")
        if not self.cognito_endpoint:
            raise ValueError("COGNITO_PROXY needs COGNITO_ENDPOINT, the local Cognito to forward to")
        if self.cognito_public_endpoint:
            raise ValueError("set COGNITO_PROXY or COGNITO_PUBLIC_ENDPOINT, not both: the page uses one endpoint")
        return self

    @model_validator(mode="after")
    def _auth_flow_fits_the_environment(self) -> Settings:
        if self.bnpl_env == "aws" and self.cognito_auth_flow == "USER_PASSWORD_AUTH":
            raise ValueError(
                "COGNITO_AUTH_FLOW=USER_PASSWORD_AUTH sends the password to Cognito and the AWS app client "
                "refuses it; it is refused with BNPL_ENV=aws (use USER_SRP_AUTH)"
            )
        if self.cognito_proxy and self.checkout_auth_flow == "USER_SRP_AUTH":
            # SRP needs RespondToAuthChallenge, which the pass-through never forwards: moto answers
            # any PASSWORD_VERIFIER proof with tokens, so forwarding it would sign anyone in as anyone.
            raise ValueError("COGNITO_PROXY works with COGNITO_AUTH_FLOW=USER_PASSWORD_AUTH only, not USER_SRP_AUTH")
        return self

    @model_validator(mode="after")
    def _stripe_is_stripes(self) -> Settings:
        if self.psp_publishable_key and not self.psp_publishable_key.startswith("pk_"):
            raise ValueError("PSP_PUBLISHABLE_KEY must be a Stripe publishable key (pk_...), never a secret key")
        if self.bnpl_env == "aws" and self.stripe_js_url != STRIPE_JS_URL:
            raise ValueError(f"STRIPE_JS_URL is for a local stand-in only; with BNPL_ENV=aws it is {STRIPE_JS_URL}")
        if not self.stripe_js_url.startswith(("https://", "http://127.0.0.1:", "http://localhost:")):
            raise ValueError("STRIPE_JS_URL must be https (or a loopback stand-in)")
        return self

    def secret_values(self) -> dict[str, str]:
        """Nothing to check: the gateway only calls; no one calls it with SigV4, so SERVICE_AUTH_KEYS is unused."""
        return {}

    @property
    def introspection_enabled(self) -> bool:
        """``__schema``/``__type`` answer locally (GraphiQL, codegen); AWS keeps the schema to itself."""
        return self.bnpl_env != "aws"

    @property
    def hsts_enabled(self) -> bool:
        """Only in AWS, where the gateway is reached over HTTPS (the ALB); locally it is plain HTTP."""
        return self.bnpl_env == "aws"

    @property
    def cognito_proxy_enabled(self) -> bool:
        """The validator refuses COGNITO_PROXY with BNPL_ENV=aws, so the setting alone decides."""
        return self.cognito_proxy

    @property
    def graphiql_enabled(self) -> bool:
        if self.bnpl_env == "aws":
            return False
        return self.bnpl_env == "local" if self.graphiql is None else self.graphiql

    @property
    def checkout_auth_flow(self) -> str:
        """The flow the page signs in with (/config.json); see ``cognito_auth_flow``."""
        if self.cognito_auth_flow is not None:
            return self.cognito_auth_flow
        return "USER_SRP_AUTH" if self.bnpl_env == "aws" else "USER_PASSWORD_AUTH"

    @property
    def cognito_browser_endpoint(self) -> str:
        endpoint = self.cognito_public_endpoint or self.cognito_endpoint
        return (endpoint or f"https://cognito-idp.{self.aws_region}.amazonaws.com").rstrip("/")

    @property
    def checkout_cognito_client_id(self) -> str:
        return self.checkout_client_id or (self.cognito_client_ids[0] if self.cognito_client_ids else "")
