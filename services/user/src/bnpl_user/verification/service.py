"""Phone verification: a 6-digit code by SMS, stored only as an HMAC, short-lived, few tries."""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio
from bnpl_common.clock import Clock
from bnpl_common.errors import DependencyFailed

from bnpl_user.errors import (
    CodeExpired,
    CodeMismatch,
    NoVerificationPending,
    PhoneAlreadyVerified,
    ProfileNotFound,
    TooManyAttempts,
    TooManyRequests,
)
from bnpl_user.notifier import Notifier, NotifierError
from bnpl_user.profiles.repository import (
    DEFAULT_CAPS,
    AttemptStatus,
    Challenge,
    DailyCaps,
    OtpLimitReached,
    ProfileRepository,
)
from bnpl_user.profiles.schemas import Customer
from bnpl_user.profiles.service import to_customer
from bnpl_user.verification.schemas import VerificationChallenge

log = logging.getLogger("bnpl.user.verification")

CODE_DIGITS = 6


@dataclass(frozen=True, slots=True)
class OtpPolicy:
    pepper: str
    ttl: timedelta = timedelta(minutes=10)
    max_attempts: int = 5
    resend_after: timedelta = timedelta(seconds=30)
    caps: DailyCaps = DEFAULT_CAPS


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def hash_code(pepper: str, challenge_id: str, code: str) -> str:
    """HMAC-SHA256 keyed by the server pepper; the challenge id salts it."""
    return hmac.new(pepper.encode(), (challenge_id + code).encode(), hashlib.sha256).hexdigest()


def destination_key(pepper: str, phone: str) -> str:
    """Names a phone number for the per-number cap without storing it (HMAC keyed by the pepper)."""
    return hmac.new(pepper.encode(), b"sms-destination:" + phone.encode(), hashlib.sha256).hexdigest()


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def mask_phone(phone: str) -> str:
    """``+447700900789`` -> ``+44*******789``."""
    return phone[:3] + "*" * max(len(phone) - 6, 0) + phone[-3:]


def sms_text(code: str, ttl: timedelta) -> str:
    minutes = max(1, int(ttl.total_seconds() // 60))
    return f"Your BNPL verification code is {code}. It expires in {minutes} minutes."


async def start_verification(
    repo: ProfileRepository, customer_id: str, *, notifier: Notifier, clock: Clock, policy: OtpPolicy
) -> VerificationChallenge:
    """Replace the customer's challenge with a new code and send it by SMS."""
    profile = await repo.get(customer_id)
    if profile is None:
        raise ProfileNotFound()
    if profile.phone_verified:
        raise PhoneAlreadyVerified()
    now = clock.now()
    code = new_code()
    challenge_id = str(uuid.uuid4())
    challenge = Challenge(
        id=challenge_id,
        sub=customer_id,
        code_hash=hash_code(policy.pepper, challenge_id, code),
        phone_number=profile.data.phone_number,
        created_at=now,
        expires_at=now + policy.ttl,
        attempts_remaining=policy.max_attempts,
    )
    try:
        recent = await repo.start_challenge(
            challenge,
            throttle_since=now - policy.resend_after,
            destination_key=destination_key(policy.pepper, challenge.phone_number),
            caps=policy.caps,
        )
    except OtpLimitReached as limit:
        log.warning("verification codes capped", extra={"customer_id": customer_id, "scope": limit.scope})
        raise TooManyRequests(
            _seconds_until(limit.retry_at, now),
            "too many codes were sent for this customer or phone number today; try again later",
        ) from None
    if recent is not None:
        wait = (recent.created_at + policy.resend_after - now).total_seconds()
        raise TooManyRequests(max(1, math.ceil(wait)))
    try:
        await notifier.send_sms(challenge.phone_number, sms_text(code, policy.ttl))
    except BaseException as exc:
        # A code nobody received must not stay guessable.
        with anyio.CancelScope(shield=True):
            await repo.discard_challenge(customer_id, challenge_id)
        log.warning(
            "verification SMS not sent",
            extra={"customer_id": customer_id, "challenge_id": challenge_id, "error_class": type(exc).__name__},
        )
        if isinstance(exc, NotifierError):
            raise DependencyFailed("the SMS could not be sent; try again later") from exc
        raise
    log.info("verification SMS sent", extra={"customer_id": customer_id, "challenge_id": challenge_id})
    return VerificationChallenge(
        destination=mask_phone(challenge.phone_number),
        expires_at=challenge.expires_at,
        attempts_remaining=challenge.attempts_remaining,
    )


async def confirm_verification(
    repo: ProfileRepository, customer_id: str, *, code: str, clock: Clock, policy: OtpPolicy
) -> Customer:
    """Check a code; each try is spent (and stored) before the answer."""

    def matches(challenge: Challenge) -> bool:
        return hmac.compare_digest(challenge.code_hash, hash_code(policy.pepper, challenge.id, code))

    now = clock.now()
    result = await repo.attempt(customer_id, now=now, matches=matches, caps=policy.caps)
    extra = {"customer_id": customer_id, "outcome": result.status.value}
    if result.status is AttemptStatus.VERIFIED and result.profile is not None:
        log.info("phone verified", extra=extra)
        return to_customer(result.profile)
    log.info("verification attempt refused", extra={**extra, "attempts_remaining": result.attempts_remaining})
    if result.status is AttemptStatus.MISMATCH:
        if result.attempts_remaining <= 0:
            raise TooManyAttempts()
        raise CodeMismatch(result.attempts_remaining)
    if result.status is AttemptStatus.EXPIRED:
        raise CodeExpired()
    if result.status is AttemptStatus.EXHAUSTED:
        raise TooManyAttempts()
    if result.status is AttemptStatus.LIMITED and result.retry_at is not None:
        raise TooManyRequests(
            _seconds_until(result.retry_at, now), "too many wrong codes today; try again later", field="code"
        )
    raise NoVerificationPending()
