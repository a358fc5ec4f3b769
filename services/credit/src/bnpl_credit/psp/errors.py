"""Failures of the payment-service provider, in the platform's one error hierarchy.

A declined charge is not an error (it is a :class:`~bnpl_credit.psp.records.ChargeResult`);
these are the cases where the PSP could not give an answer we can act on.
"""

from __future__ import annotations

from bnpl_common.errors import AppError, DependencyFailed, IdempotencyConflict, NotFound


class PspUnavailable(DependencyFailed):
    """The PSP did not answer, answered 5xx, or refused our credentials.

    For a charge the outcome is then unknown: retry with the same idempotency key, which can
    never charge twice.
    """

    error_type = "PaymentProviderUnavailable"


class PspRequestRejected(AppError):
    """The PSP refused the request as invalid (``field``: the PSP's parameter, when it names one)."""

    status_code = 422
    error_type = "PaymentProviderRejected"


class PspObjectNotFound(NotFound):
    error_type = "PaymentProviderObjectNotFound"


class PspIdempotencyConflict(IdempotencyConflict):
    """The idempotency key was already used with other parameters."""


class WebhookSignatureInvalid(AppError):
    """A webhook whose signature is missing, wrong or too old: nothing in it may be trusted."""

    status_code = 400
    error_type = "InvalidWebhookSignature"
