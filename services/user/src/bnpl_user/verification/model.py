"""Records of phone verification: the challenge, the usage logs behind the daily caps, and
the policy. Frozen dataclasses, like the profile records (the service README says why)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum, StrEnum

from bnpl_user.persons import LOCAL_PERSON_KEY_SECRET
from bnpl_user.profiles.model import Profile


@dataclass(frozen=True, slots=True)
class Challenge:
    """The customer's one live phone challenge; only the code's HMAC is kept."""

    id: str
    sub: str
    code_hash: str
    phone_number: str
    created_at: datetime
    expires_at: datetime
    max_attempts: int
    attempts: int = 0  # tries spent

    @property
    def attempts_remaining(self) -> int:
        return max(0, self.max_attempts - self.attempts)

    def spent(self) -> Challenge:
        """The challenge after one more try."""
        return replace(self, attempts=self.attempts + 1)


class ScopeKind(StrEnum):
    CUSTOMER = "customer"  # key: the customer's sub
    DESTINATION = "destination"  # key: HMAC of a phone number, across customers


@dataclass(frozen=True, slots=True)
class UsageScope:
    kind: ScopeKind
    key: str


@dataclass(frozen=True, slots=True)
class UsageLog:
    """When codes were sent and wrong codes tried in one scope, oldest first.

    ``version`` is the stored version this log was read at (0: none stored); a write is
    conditional on it, which makes a cap check and the use it allows one atomic step.
    """

    scope: UsageScope
    sent: tuple[datetime, ...] = ()
    wrong: tuple[datetime, ...] = ()
    version: int = 0

    def since(self, moment: datetime) -> UsageLog:
        """Only the events after ``moment`` (older ones no longer count)."""
        return replace(
            self, sent=tuple(m for m in self.sent if m > moment), wrong=tuple(m for m in self.wrong if m > moment)
        )

    def with_sent(self, at: datetime) -> UsageLog:
        return replace(self, sent=tuple(sorted((*self.sent, at))))

    def with_wrong(self, at: datetime) -> UsageLog:
        return replace(self, wrong=tuple(sorted((*self.wrong, at))))


@dataclass(frozen=True, slots=True)
class VerificationState:
    """What a confirmation decides on, read together: the profile, its challenge and the
    customer's usage log."""

    profile: Profile | None
    challenge: Challenge | None
    usage: UsageLog


@dataclass(frozen=True, slots=True)
class DailyCaps:
    """Caps over a rolling ``window`` that stop one-time codes being guessed by asking for new
    ones, and the service being used to send SMS to anyone's number."""

    window: timedelta = timedelta(hours=24)
    challenges_per_customer: int = 5
    # one phone number for one person (family name and date of birth), across their accounts:
    # strangers asking codes for someone's number use up their own allowance, not the owner's
    challenges_per_destination: int = 5
    wrong_codes_per_customer: int = 10

    def __post_init__(self) -> None:
        # Storage keeps usage logs for two days after their newest event (USAGE_RETENTION).
        if not timedelta(0) < self.window <= timedelta(days=1):
            raise ValueError("the caps' window is at most one day")


@dataclass(frozen=True, slots=True)
class NumberOwner:
    """The account that first verified a phone number, and its person (``bnpl_user.persons``)."""

    sub: str
    person_key: str


@dataclass(frozen=True, slots=True)
class OtpPolicy:
    pepper: str
    person_secret: str = LOCAL_PERSON_KEY_SECRET
    ttl: timedelta = timedelta(minutes=10)
    max_attempts: int = 5
    resend_after: timedelta = timedelta(seconds=30)
    caps: DailyCaps = field(default_factory=DailyCaps)


class AttemptOutcome(Enum):
    """How a confirmation ended (logged; each but VERIFIED is an error to the caller)."""

    VERIFIED = "verified"
    MISMATCH = "mismatch"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"
    NO_CHALLENGE = "no_challenge"
    LIMITED = "limited"  # too many wrong codes in the window
