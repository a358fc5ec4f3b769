"""HTTP routes of ``/v1/profile/phone-verification``."""

from __future__ import annotations

from bnpl_common.errors import ERROR_RESPONSES
from fastapi import APIRouter

from bnpl_user.deps import AppClock, CurrentPrincipal, Notifier, Otp, Store
from bnpl_user.profiles.schemas import Customer
from bnpl_user.verification import service
from bnpl_user.verification.schemas import ConfirmCode, VerificationChallenge

router = APIRouter(prefix="/v1/profile/phone-verification", tags=["phone verification"], responses=ERROR_RESPONSES)


@router.post(
    "",
    status_code=202,
    response_model=VerificationChallenge,
    responses={
        404: {"description": "`ProfileNotFound`"},
        409: {"description": "`PhoneAlreadyVerified`"},
        429: {"description": "`TooManyRequests`: a code was sent less than 30 s ago"},
        502: {"description": "`DependencyFailed`: the SMS could not be sent"},
    },
)
async def start_phone_verification(
    principal: CurrentPrincipal, store: Store, notifier: Notifier, clock: AppClock, policy: Otp
) -> VerificationChallenge:
    """Send a one-time code by SMS to the profile's phone number."""
    challenge = await service.start_verification(store, principal.sub, notifier=notifier, clock=clock, policy=policy)
    return VerificationChallenge.from_challenge(challenge)


@router.post(
    "/confirm",
    response_model=Customer,
    responses={
        422: {"description": "`CodeMismatch`, `CodeExpired`, `NoVerificationPending` or `ValidationError`"},
        429: {"description": "`TooManyAttempts`: the challenge is dead, ask for a new code"},
    },
)
async def confirm_phone_verification(
    principal: CurrentPrincipal, store: Store, clock: AppClock, policy: Otp, body: ConfirmCode
) -> Customer:
    """Check the one-time code; on success the phone is verified."""
    profile = await service.confirm_verification(store, principal.sub, code=body.code, clock=clock, policy=policy)
    return Customer.from_profile(profile)
