"""Typed errors of the user service (rendered by ``bnpl_common.errors``)."""

from __future__ import annotations

from typing import Any

from bnpl_common.errors import AppError, Conflict, NotFound, ValidationFailed


class ProfileNotFound(NotFound):
    error_type = "ProfileNotFound"

    def __init__(self) -> None:
        super().__init__("no profile for this customer")


class ProfileExists(Conflict):
    error_type = "ProfileExists"

    def __init__(self) -> None:
        super().__init__("this customer already has a profile; use PATCH /v1/profile to change it")


class InvalidProfile(ValidationFailed):
    """A rule that needs more than one field or the clock (the schema checks the rest)."""


class TooManyRequests(AppError):
    status_code = 429
    error_type = "TooManyRequests"

    def __init__(
        self,
        retry_after_seconds: int,
        message: str = "a code was sent moments ago; wait before asking for another",
        *,
        field: str | None = None,
    ) -> None:
        super().__init__(message, field=field, info={"retryAfterSeconds": retry_after_seconds})


class PhoneAlreadyVerified(Conflict):
    error_type = "PhoneAlreadyVerified"

    def __init__(self) -> None:
        super().__init__("the phone number is already verified")


class CodeMismatch(AppError):
    status_code = 422
    error_type = "CodeMismatch"

    def __init__(self, attempts_remaining: int) -> None:
        info: dict[str, Any] = {"attemptsRemaining": attempts_remaining}
        super().__init__("the code is not correct", field="code", info=info)


class CodeExpired(AppError):
    status_code = 422
    error_type = "CodeExpired"

    def __init__(self) -> None:
        super().__init__("the code has expired; ask for a new one", field="code")


class NoVerificationPending(AppError):
    status_code = 422
    error_type = "NoVerificationPending"

    def __init__(self) -> None:
        super().__init__("no verification is pending; ask for a code first", field="code")


class TooManyAttempts(AppError):
    status_code = 429
    error_type = "TooManyAttempts"

    def __init__(self) -> None:
        super().__init__("too many wrong codes; ask for a new one", field="code", info={"attemptsRemaining": 0})
