"""The credit service's typed errors (rendered by ``bnpl_common.errors``)."""

from __future__ import annotations

from bnpl_common.errors import AppError, Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from bnpl_common.errors import ConcurrentUpdate as ConcurrentUpdate  # re-exported: one class for every lost race


class ApplicationNotFound(NotFound):
    error_type = "ApplicationNotFound"


class PlanNotFound(NotFound):
    error_type = "PlanNotFound"


class ProfileMismatch(Forbidden):
    error_type = "AccessDeniedException"


class PhoneNotVerified(PreconditionFailed):
    error_type = "PhoneNotVerified"


class AmountOutOfRange(PreconditionFailed):
    error_type = "AmountOutOfRange"


class UnsupportedCurrency(PreconditionFailed):
    error_type = "UnsupportedCurrency"


class CurrencyMismatch(PreconditionFailed):
    error_type = "CurrencyMismatch"


class Overpayment(PreconditionFailed):
    error_type = "Overpayment"


class InvalidApplicationState(Conflict):
    error_type = "InvalidApplicationState"


class PlanNotActive(Conflict):
    error_type = "PlanNotActive"


class InvalidNextToken(ValidationFailed):
    """A ``nextToken`` this service did not issue (or one altered since)."""


class RefundExceedsPrincipal(PreconditionFailed):
    error_type = "RefundExceedsPrincipal"


class OrderAlreadyFinanced(Conflict):
    """The merchant order already backs a live approval or plan (one plan per order)."""

    error_type = "OrderAlreadyFinanced"


class AmbiguousOrder(Conflict):
    """More than one plan carries this merchant order: the refund must name the plan."""

    error_type = "AmbiguousOrder"


class WithdrawalNotAllowed(Conflict):
    """The plan's market gives no right of withdrawal, or its period is over."""

    error_type = "WithdrawalNotAllowed"


class AcceptanceRequired(PreconditionFailed):
    """The market requires the shopper to accept the pre-contract information before confirming."""

    error_type = "AcceptanceRequired"


class DocumentMismatch(Conflict):
    """The accepted document is not the one this offer discloses now."""

    error_type = "DocumentMismatch"


class DocumentOutdated(DocumentMismatch):
    """The accepted document shows the due dates of another day than the confirmation's: the
    shopper reads and accepts today's (``precontractInformation``) and confirms again."""

    error_type = "DocumentOutdated"


class DocumentsUnavailable(AppError):
    """Documents cannot be rendered by this process (its fonts are missing): nothing is confirmed
    that needs one."""

    status_code = 503
    error_type = "DocumentsUnavailable"
