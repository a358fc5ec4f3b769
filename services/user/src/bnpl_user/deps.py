"""FastAPI dependencies as ``Annotated`` aliases; the objects live on ``app.state`` (set in the lifespan)."""

from __future__ import annotations

from typing import Annotated

from bnpl_common.clock import Clock
from bnpl_common.idempotency import IDEMPOTENCY_HEADER
from bnpl_common.jwt import Principal
from fastapi import Depends, Header, Request

from bnpl_user import notifier as notifier_port
from bnpl_user.profiles.repository import ProfileRepository
from bnpl_user.verification.service import OtpPolicy


async def current_principal(request: Request) -> Principal:
    """SigV4 (403) then the user's token (401): see ``bnpl_common.service_auth``."""
    return await request.app.state.authenticator(request)


def _repo(request: Request) -> ProfileRepository:
    return request.app.state.repo


def _notifier(request: Request) -> notifier_port.Notifier:
    return request.app.state.notifier


def _clock(request: Request) -> Clock:
    return request.app.state.clock


def _otp(request: Request) -> OtpPolicy:
    return request.app.state.otp


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
ProfileRepo = Annotated[ProfileRepository, Depends(_repo)]
Notifier = Annotated[notifier_port.Notifier, Depends(_notifier)]
AppClock = Annotated[Clock, Depends(_clock)]
Otp = Annotated[OtpPolicy, Depends(_otp)]
IdempotencyKey = Annotated[str | None, Header(alias=IDEMPOTENCY_HEADER)]
