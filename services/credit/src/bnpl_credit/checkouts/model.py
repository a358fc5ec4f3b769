"""The checkout session aggregate. Nothing here does I/O.

A session is created OPEN by the merchant's server with the order (reference, amount, items),
decided when the shopper applies with its token (APPROVED / DECLINED / REFERRED), AUTHORIZED
when the shopper confirms a plan, then captured (once or in parts), voided or refunded by the
merchant. The money equations, at every moment::

    captured + voided <= authorized          refunded <= captured

Time-based endings are derived (:meth:`CheckoutSession.status_at`) and written by the sweeper:
an OPEN session past ``expires_at``, or an APPROVED one past its hold, reads EXPIRED; an
AUTHORIZED one not captured by ``authorization_expires_at`` is voided and EXPIRED.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from bnpl_common.errors import Conflict, NotFound, PreconditionFailed

from bnpl_credit.decision.policy import PlanTypeName


class CheckoutStatus(StrEnum):
    OPEN = "OPEN"
    APPROVED = "APPROVED"
    AUTHORIZED = "AUTHORIZED"
    DECLINED = "DECLINED"
    REFERRED = "REFERRED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    CAPTURED = "CAPTURED"
    PARTIALLY_CAPTURED = "PARTIALLY_CAPTURED"
    VOIDED = "VOIDED"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"


# the shopper's part is over: the return to the merchant carries one of these outcomes
RETURN_OUTCOMES = frozenset(
    {
        CheckoutStatus.AUTHORIZED,
        CheckoutStatus.DECLINED,
        CheckoutStatus.REFERRED,
        CheckoutStatus.CANCELLED,
        CheckoutStatus.EXPIRED,
    }
)
_AUTHORIZED_FAMILY = frozenset(
    {
        CheckoutStatus.AUTHORIZED,
        CheckoutStatus.CAPTURED,
        CheckoutStatus.PARTIALLY_CAPTURED,
        CheckoutStatus.REFUNDED,
        CheckoutStatus.PARTIALLY_REFUNDED,
    }
)


class CheckoutNotFound(NotFound):
    error_type = "CheckoutNotFound"


class InvalidCheckoutState(Conflict):
    error_type = "InvalidCheckoutState"


class CaptureExceedsAuthorization(PreconditionFailed):
    error_type = "CaptureExceedsAuthorization"


class RefundExceedsCaptured(PreconditionFailed):
    error_type = "RefundExceedsCaptured"


class MerchantSuspended(PreconditionFailed):
    error_type = "MerchantSuspended"
    status_code = 403


@dataclass(frozen=True, slots=True)
class CheckoutItem:
    name: str
    quantity: int
    unit_price: int  # minor units of the session's currency


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    id: str
    merchant_id: str
    order_reference: str
    status: CheckoutStatus
    token: str
    amount: int
    currency: str
    items: tuple[CheckoutItem, ...]
    plan_types: tuple[PlanTypeName, ...]
    return_url: str
    cancel_url: str
    shopper_email: str | None
    shopper_phone: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime  # end of the OPEN session
    application_id: str | None = None
    customer_id: str | None = None
    plan_id: str | None = None
    hold_ends_at: datetime | None = None  # end of an APPROVED session's hold (the application's)
    authorized_amount: int = 0
    captured_amount: int = 0
    voided_amount: int = 0
    refunded_amount: int = 0
    authorization_expires_at: datetime | None = None
    version: int = 0  # as read from the store (0: not stored yet)

    # -- reading ---------------------------------------------------------------------------

    def status_at(self, now: datetime) -> CheckoutStatus:
        if self.status is CheckoutStatus.OPEN and now >= self.expires_at:
            return CheckoutStatus.EXPIRED
        if self.status is CheckoutStatus.APPROVED and self.hold_ends_at is not None and now >= self.hold_ends_at:
            return CheckoutStatus.EXPIRED
        return self.status

    @property
    def uncaptured(self) -> int:
        return self.authorized_amount - self.captured_amount - self.voided_amount

    def deadline(self) -> datetime | None:
        """When the sweeper must look at this session again (None: never)."""
        if self.status is CheckoutStatus.OPEN:
            return self.expires_at
        if self.status is CheckoutStatus.APPROVED:
            return self.hold_ends_at
        if self.status is CheckoutStatus.AUTHORIZED:
            return self.authorization_expires_at
        return None

    # -- changing --------------------------------------------------------------------------

    def _moved(self, status: CheckoutStatus, now: datetime, **fields: object) -> CheckoutSession:
        return replace(self, status=status, updated_at=now, **fields)  # type: ignore[arg-type]

    def _require(self, now: datetime, *allowed: CheckoutStatus, field: str = "checkoutId") -> None:
        status = self.status_at(now)
        if status not in allowed:
            raise InvalidCheckoutState(f"the checkout is {status}", field=field, info={"status": status})

    def decided(
        self,
        now: datetime,
        *,
        status: CheckoutStatus,
        application_id: str,
        customer_id: str,
        hold_ends_at: datetime | None,
    ) -> CheckoutSession:
        """The shopper's application was decided (one per session)."""
        self._require(now, CheckoutStatus.OPEN, field="checkoutToken")
        return self._moved(
            status, now, application_id=application_id, customer_id=customer_id, hold_ends_at=hold_ends_at
        )

    def reviewed(self, now: datetime, *, status: CheckoutStatus, hold_ends_at: datetime | None) -> CheckoutSession:
        """A person decided the session's application (issue 13): a referral approved, declined
        or expired with its case, or a contested decline approved (held until ``hold_ends_at``)."""
        if self.status not in (CheckoutStatus.REFERRED, CheckoutStatus.DECLINED) or self.status is status:
            raise InvalidCheckoutState(f"the checkout is {self.status}", field="checkoutId")
        if status not in (CheckoutStatus.APPROVED, CheckoutStatus.DECLINED, CheckoutStatus.EXPIRED):
            raise ValueError(f"a review cannot move a checkout to {status}")
        return self._moved(status, now, hold_ends_at=hold_ends_at if status is CheckoutStatus.APPROVED else None)

    def authorized(self, now: datetime, *, plan_id: str, amount: int, expires_at: datetime) -> CheckoutSession:
        # REFERRED too: a reviewer approved the application (issue 13), and only an approved,
        # held application is ever confirmed (plans.confirm checks it before this)
        self._require(now, CheckoutStatus.APPROVED, CheckoutStatus.REFERRED)
        return self._moved(
            CheckoutStatus.AUTHORIZED,
            now,
            plan_id=plan_id,
            authorized_amount=amount,
            authorization_expires_at=expires_at,
        )

    def cancelled(self, now: datetime, *, late: bool = False) -> CheckoutSession:
        """The shopper cancelled (``late``: recorded after its time ran out, by the sweeper)."""
        if late and self.status in (CheckoutStatus.APPROVED, CheckoutStatus.OPEN):
            return self._moved(CheckoutStatus.CANCELLED, now)
        self._require(now, CheckoutStatus.APPROVED, CheckoutStatus.OPEN)
        return self._moved(CheckoutStatus.CANCELLED, now)

    def expired(self, now: datetime) -> CheckoutSession:
        """An OPEN or APPROVED session past its time."""
        if self.status_at(now) is not CheckoutStatus.EXPIRED or self.status is CheckoutStatus.EXPIRED:
            raise InvalidCheckoutState("the checkout has not expired", field="checkoutId")
        return self._moved(CheckoutStatus.EXPIRED, now)

    def _money_status(self, captured: int, voided: int, refunded: int) -> CheckoutStatus:
        uncaptured = self.authorized_amount - captured - voided
        if captured == 0:
            return CheckoutStatus.VOIDED if voided > 0 else CheckoutStatus.AUTHORIZED
        if refunded > 0:
            return (
                CheckoutStatus.REFUNDED
                if refunded == captured and uncaptured == 0
                else CheckoutStatus.PARTIALLY_REFUNDED
            )
        return CheckoutStatus.CAPTURED if uncaptured == 0 else CheckoutStatus.PARTIALLY_CAPTURED

    def capture(self, amount: int, currency: str, now: datetime) -> CheckoutSession:
        self._check_currency(currency)
        self._require(
            now, CheckoutStatus.AUTHORIZED, CheckoutStatus.PARTIALLY_CAPTURED, CheckoutStatus.PARTIALLY_REFUNDED
        )
        if self.uncaptured <= 0:
            raise InvalidCheckoutState(
                "nothing of this checkout is left to capture (captured or voided)",
                field="checkoutId",
                info={"status": self.status},
            )
        if amount > self.uncaptured:
            raise CaptureExceedsAuthorization(
                f"at most {self.uncaptured} minor units can still be captured",
                field="amount.amount",
                info={"capturable": self.uncaptured},
            )
        captured = self.captured_amount + amount
        status = self._money_status(captured, self.voided_amount, self.refunded_amount)
        # captured money stays captured: the authorization no longer expires
        return self._moved(status, now, captured_amount=captured, authorization_expires_at=None)

    def void(self, now: datetime, *, expiring: bool = False) -> CheckoutSession:
        """Release what is not captured (``expiring``: the authorization ran out)."""
        if self.uncaptured <= 0 or self.status_at(now) not in _AUTHORIZED_FAMILY:
            raise InvalidCheckoutState(
                "nothing of this checkout is left to void", field="checkoutId", info={"status": self.status_at(now)}
            )
        voided = self.voided_amount + self.uncaptured
        status = self._money_status(self.captured_amount, voided, self.refunded_amount)
        if expiring and status is CheckoutStatus.VOIDED:
            status = CheckoutStatus.EXPIRED
        return self._moved(status, now, voided_amount=voided, authorization_expires_at=None)

    def refund(self, amount: int, currency: str, now: datetime) -> CheckoutSession:
        self._check_currency(currency)
        refundable = self.captured_amount - self.refunded_amount
        if self.status_at(now) not in _AUTHORIZED_FAMILY or refundable <= 0:
            raise RefundExceedsCaptured(
                "only captured money can be refunded", field="amount.amount", info={"refundable": max(refundable, 0)}
            )
        if amount > refundable:
            raise RefundExceedsCaptured(
                f"at most {refundable} minor units can still be refunded",
                field="amount.amount",
                info={"refundable": refundable},
            )
        refunded = self.refunded_amount + amount
        return self._moved(
            self._money_status(self.captured_amount, self.voided_amount, refunded), now, refunded_amount=refunded
        )

    def _check_currency(self, currency: str) -> None:
        if currency != self.currency:
            from bnpl_credit.errors import CurrencyMismatch

            raise CurrencyMismatch(f"this checkout is in {self.currency}", field="amount.currency")
