"""HTTP routes of ``/v1/profile``."""

from __future__ import annotations

from bnpl_common.errors import ERROR_RESPONSES
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from bnpl_user.deps import AppClock, CurrentPrincipal, Finances, IdempotencyKey, PersonSecret, Signer, Store
from bnpl_user.profiles import service
from bnpl_user.profiles.schemas import Customer, ProfileInput, ProfileUpdate
from bnpl_user.profiles.snapshot import SignedProfile, signed_snapshot

router = APIRouter(prefix="/v1/profile", tags=["profile"], responses=ERROR_RESPONSES)


@router.put(
    "",
    status_code=201,
    response_model=Customer,
    responses={409: {"description": "`ProfileExists`, or `IdempotencyConflict` (key reused with another body)"}},
)
async def create_profile(
    principal: CurrentPrincipal,
    store: Store,
    clock: AppClock,
    body: ProfileInput,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Create the caller's profile (Idempotency-Key required)."""
    stored = await service.create_profile(
        store,
        principal.sub,
        details=body.to_details(),
        request_fingerprint=service.create_fingerprint(body),
        idempotency_key=idempotency_key,
        clock=clock,
    )
    return JSONResponse(stored.body, status_code=stored.status_code)


@router.get("", response_model=Customer, responses={404: {"description": "`ProfileNotFound`"}})
async def get_profile(principal: CurrentPrincipal, store: Store) -> Customer:
    """Read the caller's profile."""
    return Customer.from_profile(await service.get_profile(store, principal.sub))


@router.get("/snapshot", response_model=SignedProfile, responses={404: {"description": "`ProfileNotFound`"}})
async def get_signed_profile(
    principal: CurrentPrincipal, store: Store, signer: Signer, person_secret: PersonSecret
) -> SignedProfile:
    """The caller's profile with its person key, signed for the credit service."""
    profile = await service.get_profile(store, principal.sub)
    return signed_snapshot(profile, signer=signer, person_secret=person_secret)


@router.patch(
    "",
    response_model=Customer,
    responses={
        404: {"description": "`ProfileNotFound`"},
        429: {"description": "`TooManyRequests`: declared finances changed too often; the field is named"},
    },
)
async def update_profile(
    principal: CurrentPrincipal, store: Store, clock: AppClock, finances: Finances, body: ProfileUpdate
) -> Customer:
    """Change some fields of the caller's profile; a new phone number must be verified again."""
    profile = await service.update_profile(store, principal.sub, changes=body, clock=clock, finances=finances)
    return Customer.from_profile(profile)
