"""Phone verification: the one place its rules live.

A 6-digit code goes by SMS; only its HMAC is stored, it lives ``ttl``, and allows
``max_attempts`` tries, each stored before the answer is given. Daily caps over a rolling
window: codes sent per customer and per phone number and person, wrong codes per customer.

Someone else's number: once an account verified a number, a code asked for it by an account of
another person (family name and date of birth differ) goes nowhere: the answer is the same as
for a code sent, a challenge is stored that no code can match, and nothing counts against the
number's allowance, so strangers can neither send its owner SMS nor lock the owner out. The
per-number cap counts per (number, person) for the same reason.

Every step reads, decides here, and hands the storage port a conditional write; when the
write finds the data moved (another request got there first), the step runs again on fresh
data (:func:`bnpl_common.retry.retry_on_contention`). That makes each cap check and the use
it allows one atomic step on both storage adapters, without a rule in either.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

import anyio
from bnpl_common.clock import Clock
from bnpl_common.errors import DependencyFailed
from bnpl_common.retry import retry_on_contention

from bnpl_user.errors import (
    CodeExpired,
    CodeMismatch,
    NoVerificationPending,
    PhoneAlreadyVerified,
    ProfileNotFound,
    TooManyAttempts,
    TooManyRequests,
)
from bnpl_user.metrics import OTP_CAPPED, OTP_CONFIRMATIONS, OTP_FAILED, OTP_SENT
from bnpl_user.notifier import Notifier, NotifierError
from bnpl_user.persons import person_key
from bnpl_user.profiles.model import Profile
from bnpl_user.verification.model import (
    AttemptOutcome,
    Challenge,
    NumberOwner,
    OtpPolicy,
    ScopeKind,
    UsageScope,
)
from bnpl_user.verification.port import VerificationStore

log = logging.getLogger("bnpl.user.verification")

CODE_DIGITS = 6


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def hash_code(pepper: str, challenge_id: str, code: str) -> str:
    """HMAC-SHA256 keyed by the server pepper; the challenge id salts it."""
    return hmac.new(pepper.encode(), (challenge_id + code).encode(), hashlib.sha256).hexdigest()


def destination_key(pepper: str, phone: str) -> str:
    """Names a phone number for the per-number cap without storing it (HMAC keyed by the pepper)."""
    return hmac.new(pepper.encode(), b"sms-destination:" + phone.encode(), hashlib.sha256).hexdigest()


def _person(policy: OtpPolicy, profile: Profile) -> str:
    details = profile.details
    return person_key(
        policy.person_secret,
        phone_number=details.phone_number,
        family_name=details.family_name,
        date_of_birth=details.date_of_birth,
    )


def number_scope(policy: OtpPolicy, profile: Profile) -> UsageScope:
    """The per-number cap's scope: the profile's number for the profile's person."""
    phone = profile.details.phone_number
    return UsageScope(ScopeKind.DESTINATION, destination_key(policy.pepper, f"{phone}|{_person(policy, profile)}"))


async def _live_owner(store: VerificationStore, number_key: str, phone: str) -> NumberOwner | None:
    """The number's owner, if that account still holds the number verified."""
    owner = await store.number_owner(number_key)
    if owner is None:
        return None
    profile = await store.get_profile(owner.sub)
    if profile is None or not profile.phone_verified or profile.details.phone_number != phone:
        return None
    return owner


def free_at(moments: tuple[datetime, ...], *, cap: int, window: timedelta) -> datetime | None:
    """When a cap of ``cap`` events per ``window`` frees a slot, if ``moments`` (those inside
    the window) already fill it; None when there is room."""
    if len(moments) < cap:
        return None
    return sorted(moments)[len(moments) - cap] + window


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def sms_text(code: str, ttl: timedelta) -> str:
    minutes = max(1, int(ttl.total_seconds() // 60))
    return f"Your BNPL verification code is {code}. It expires in {minutes} minutes."


async def _new_challenge(
    store: VerificationStore, customer_id: str, *, clock: Clock, policy: OtpPolicy
) -> tuple[Challenge, str | None]:
    """One attempt at replacing the customer's challenge: the throttle, the caps, the write.
    The code is None when it must go nowhere (the number is another person's)."""
    profile = await store.get_profile(customer_id)
    if profile is None:
        raise ProfileNotFound()
    if profile.phone_verified:
        raise PhoneAlreadyVerified()
    now = clock.now()
    current = await store.get_challenge(customer_id)
    if current is not None and current.created_at > now - policy.resend_after:
        raise TooManyRequests(_seconds_until(current.created_at + policy.resend_after, now))
    caps, since = policy.caps, now - policy.caps.window
    phone = profile.details.phone_number
    me = _person(policy, profile)
    owner = await _live_owner(store, destination_key(policy.pepper, phone), phone)
    withheld = owner is not None and owner.sub != customer_id and owner.person_key != me
    mine = (await store.get_usage(UsageScope(ScopeKind.CUSTOMER, customer_id))).since(since)
    scopes = [(mine, caps.challenges_per_customer)]
    if not withheld:
        scopes.append(
            ((await store.get_usage(number_scope(policy, profile))).since(since), caps.challenges_per_destination)
        )
    for usage, cap in scopes:
        retry_at = free_at(usage.sent, cap=cap, window=caps.window)
        if retry_at is not None:
            log.warning(
                "verification codes capped", extra={"customer_id": customer_id, "scope": usage.scope.kind.value}
            )
            OTP_CAPPED.inc(cap=usage.scope.kind.value)
            raise TooManyRequests(
                _seconds_until(retry_at, now),
                "too many codes were sent for this customer or phone number today; try again later",
            )
    code, challenge_id = new_code(), str(uuid.uuid4())
    # withheld: the stored hash is of a secret no six-digit code can equal, and no SMS goes out
    hashed = secrets.token_hex(16) if withheld else code
    challenge = Challenge(
        id=challenge_id,
        sub=customer_id,
        code_hash=hash_code(policy.pepper, challenge_id, hashed),
        phone_number=phone,
        created_at=now,
        expires_at=now + policy.ttl,
        max_attempts=policy.max_attempts,
    )
    await store.save_challenge(
        challenge, replacing=current, profile=profile, usage=[usage.with_sent(now) for usage, _ in scopes]
    )
    return challenge, None if withheld else code


async def start_verification(
    store: VerificationStore, customer_id: str, *, notifier: Notifier, clock: Clock, policy: OtpPolicy
) -> Challenge:
    """Replace the customer's challenge with a new code and send it by SMS."""
    challenge, code = await retry_on_contention(lambda: _new_challenge(store, customer_id, clock=clock, policy=policy))
    if code is None:
        log.info("verification code withheld", extra={"customer_id": customer_id, "challenge_id": challenge.id})
        return challenge
    try:
        await notifier.send_sms(challenge.phone_number, sms_text(code, policy.ttl))
    except BaseException as exc:
        # A code nobody received must not stay guessable (it still counts against the caps).
        with anyio.CancelScope(shield=True):
            await store.discard_challenge(customer_id, challenge.id)
        log.warning(
            "verification SMS not sent",
            extra={"customer_id": customer_id, "challenge_id": challenge.id, "error_class": type(exc).__name__},
        )
        if isinstance(exc, Exception):  # not a cancellation: the provider failed or was too slow
            OTP_FAILED.inc()
        if isinstance(exc, NotifierError):
            raise DependencyFailed("the SMS could not be sent; try again later") from exc
        raise
    log.info("verification SMS sent", extra={"customer_id": customer_id, "challenge_id": challenge.id})
    OTP_SENT.inc()
    return challenge


def _refused(customer_id: str, outcome: AttemptOutcome, attempts_remaining: int) -> None:
    OTP_CONFIRMATIONS.inc(outcome=outcome.value)
    if outcome is AttemptOutcome.LIMITED:
        OTP_CAPPED.inc(cap="wrong_codes")
    log.info(
        "verification attempt refused",
        extra={"customer_id": customer_id, "outcome": outcome.value, "attempts_remaining": attempts_remaining},
    )


async def _attempt(
    store: VerificationStore, customer_id: str, *, code: str, clock: Clock, policy: OtpPolicy
) -> Profile:
    """One attempt at checking a code, in this order: a live challenge, tries left, not
    expired, still for the profile's number, the daily cap of wrong codes; then the code."""
    now = clock.now()
    state = await store.verification_state(customer_id)
    challenge = state.challenge
    if challenge is None:
        _refused(customer_id, AttemptOutcome.NO_CHALLENGE, 0)
        raise NoVerificationPending()
    if challenge.attempts_remaining <= 0:
        _refused(customer_id, AttemptOutcome.EXHAUSTED, 0)
        raise TooManyAttempts()
    if now >= challenge.expires_at:
        _refused(customer_id, AttemptOutcome.EXPIRED, challenge.attempts_remaining)
        raise CodeExpired()
    profile = state.profile
    if profile is None or profile.details.phone_number != challenge.phone_number:
        await store.discard_challenge(customer_id, challenge.id)  # it was for another number
        _refused(customer_id, AttemptOutcome.NO_CHALLENGE, 0)
        raise NoVerificationPending()
    caps = policy.caps
    usage = state.usage.since(now - caps.window)
    retry_at = free_at(usage.wrong, cap=caps.wrong_codes_per_customer, window=caps.window)
    if retry_at is not None:
        # Past the cap nothing is checked, not even the right code: guessing is over for today.
        _refused(customer_id, AttemptOutcome.LIMITED, challenge.attempts_remaining)
        raise TooManyRequests(
            _seconds_until(retry_at, now), "too many wrong codes today; try again later", field="code"
        )
    if hmac.compare_digest(challenge.code_hash, hash_code(policy.pepper, challenge.id, code)):
        number_key = destination_key(policy.pepper, challenge.phone_number)
        stale = await store.number_owner(number_key)
        if stale is not None and await _live_owner(store, number_key, challenge.phone_number) is not None:
            stale = None  # a live owner stays the owner
        await store.claim_number(
            number_key,
            NumberOwner(customer_id, _person(policy, profile)),
            replacing=stale.sub if stale is not None else None,
        )
        verified = await store.verify_phone(challenge, replace(profile, phone_verified=True, updated_at=now))
        log.info("phone verified", extra={"customer_id": customer_id, "outcome": AttemptOutcome.VERIFIED.value})
        OTP_CONFIRMATIONS.inc(outcome=AttemptOutcome.VERIFIED.value)
        return verified
    spent = challenge.spent()
    # The try is stored (and counted) before the answer: parallel guesses cannot share one.
    await store.spend_attempt(spent, usage=usage.with_wrong(now))
    _refused(customer_id, AttemptOutcome.MISMATCH, spent.attempts_remaining)
    if spent.attempts_remaining <= 0:
        raise TooManyAttempts()
    raise CodeMismatch(spent.attempts_remaining)


async def confirm_verification(
    store: VerificationStore, customer_id: str, *, code: str, clock: Clock, policy: OtpPolicy
) -> Profile:
    """Check a code; on success the phone is verified."""
    return await retry_on_contention(lambda: _attempt(store, customer_id, code=code, clock=clock, policy=policy))
