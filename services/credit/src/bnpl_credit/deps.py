"""FastAPI dependencies as ``Annotated`` aliases; everything comes from the app's state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from bnpl_common.clock import Clock
from bnpl_common.jwt import Principal
from bnpl_common.service_auth import ServiceAuthenticator
from fastapi import Depends, Header, Request

from bnpl_credit.applications.disclosure import Documents
from bnpl_credit.checkouts.config import CheckoutConfig
from bnpl_credit.collections.service import Collector
from bnpl_credit.decision.engine import DecisionEngine
from bnpl_credit.decision.policy import Policy
from bnpl_credit.markets.catalog import MarketCatalog
from bnpl_credit.merchants.auth import current_caller
from bnpl_credit.refunds.model import MerchantCaller
from bnpl_credit.reviews.roles import refuse_staff
from bnpl_credit.storage.port import CreditStore


@dataclass
class CreditState:
    """What the lifespan builds once per process."""

    store: CreditStore
    engine: DecisionEngine
    clock: Clock
    authenticator: ServiceAuthenticator
    documents: Documents | None = None  # pre-contract information, notices and their links


def _state(request: Request) -> CreditState:
    state: CreditState = request.app.state.credit
    return state


async def _customer(request: Request) -> Principal:
    # a staff token acts on no shopper's data as if it were theirs (reviews.roles)
    return refuse_staff(await _state(request).authenticator(request))


async def _merchant(request: Request) -> MerchantCaller:
    return await current_caller(request)


async def _store(request: Request) -> CreditStore:
    return _state(request).store


async def _engine(request: Request) -> DecisionEngine:
    return _state(request).engine


async def _policy(request: Request) -> Policy:
    return _state(request).engine.policy


async def _markets(request: Request) -> MarketCatalog:
    return _state(request).engine.markets


async def _checkout_config(request: Request) -> CheckoutConfig:
    config: CheckoutConfig = request.app.state.checkout_config
    return config


async def _documents(request: Request) -> Documents:
    documents = _state(request).documents
    if documents is None:  # every app built by create_app has them
        raise RuntimeError("documents are not configured")
    return documents


async def _collector(request: Request) -> Collector | None:
    # None: payments are not collected (PAYMENT_COLLECTION=off, local and test only)
    collector: Collector | None = getattr(request.app.state, "collector", None)
    return collector


async def _clock(request: Request) -> Clock:
    return _state(request).clock


CurrentCustomer = Annotated[Principal, Depends(_customer)]
CurrentMerchant = Annotated[MerchantCaller, Depends(_merchant)]
Store = Annotated[CreditStore, Depends(_store)]
Engine = Annotated[DecisionEngine, Depends(_engine)]
CurrentPolicy = Annotated[Policy, Depends(_policy)]
CurrentMarkets = Annotated[MarketCatalog, Depends(_markets)]
AppClock = Annotated[Clock, Depends(_clock)]
AppCollector = Annotated[Collector | None, Depends(_collector)]
CheckoutSettings = Annotated[CheckoutConfig, Depends(_checkout_config)]
AppDocuments = Annotated[Documents, Depends(_documents)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]
