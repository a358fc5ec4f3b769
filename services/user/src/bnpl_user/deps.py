"""FastAPI dependencies as ``Annotated`` aliases; the objects live on ``app.state`` (set in the lifespan)."""

from __future__ import annotations

from typing import Annotated

from bnpl_common.clock import Clock
from bnpl_common.errors import Forbidden
from bnpl_common.idempotency import IDEMPOTENCY_HEADER
from bnpl_common.jwt import Principal
from bnpl_common.profile_signature import ProfileSigner
from bnpl_common.staff_pool import STAFF_GROUPS
from fastapi import Depends, Header, Request

from bnpl_user import notifier as notifier_port
from bnpl_user.profiles.finances import FinancePolicy
from bnpl_user.storage.port import UserStore
from bnpl_user.verification.model import OtpPolicy


async def current_principal(request: Request) -> Principal:
    """SigV4 (403) then the user's token (401): see ``bnpl_common.service_auth``."""
    principal: Principal = await request.app.state.authenticator(request)
    if STAFF_GROUPS & set(principal.groups):  # staff act on no profile as if it were theirs
        raise Forbidden("a staff token cannot act as a customer", field="authorization")
    return principal


async def _store(request: Request) -> UserStore:
    store: UserStore = request.app.state.store
    return store


async def _notifier(request: Request) -> notifier_port.Notifier:
    notifier: notifier_port.Notifier = request.app.state.notifier
    return notifier


async def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def _otp(request: Request) -> OtpPolicy:
    policy: OtpPolicy = request.app.state.otp
    return policy


async def _finances(request: Request) -> FinancePolicy:
    policy: FinancePolicy = request.app.state.finances
    return policy


async def _signer(request: Request) -> ProfileSigner:
    signer: ProfileSigner = request.app.state.profile_signer
    return signer


async def _person_secret(request: Request) -> str:
    secret: str = request.app.state.person_key_secret
    return secret


Finances = Annotated[FinancePolicy, Depends(_finances)]
Signer = Annotated[ProfileSigner, Depends(_signer)]
PersonSecret = Annotated[str, Depends(_person_secret)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
Store = Annotated[UserStore, Depends(_store)]
Notifier = Annotated[notifier_port.Notifier, Depends(_notifier)]
AppClock = Annotated[Clock, Depends(_clock)]
Otp = Annotated[OtpPolicy, Depends(_otp)]
IdempotencyKey = Annotated[str | None, Header(alias=IDEMPOTENCY_HEADER)]
