"""AppSync-shaped GraphQL errors: typed business errors pass through, everything else is masked.

Every error in a response is ``{"message", "errorType", "errorInfo", "path", "locations",
"data"}``. A service's ``{"error": {type, message, field, info}}`` keeps its ``type`` as
``errorType``; its ``field`` (a path in the REST body) is translated to the GraphQL
argument path the caller wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bnpl_common.errors import AppError
from graphql import GraphQLError, GraphQLSyntaxError

UNAUTHORIZED_BODY: dict[str, Any] = {
    "errors": [{"errorType": "UnauthorizedException", "message": "You are not authorized to make this call."}]
}
INTERNAL_MESSAGE = "internal error"
DEPENDENCY_MESSAGE = "a service the gateway depends on is unavailable"
# graphql-core's message when the parser hits ``max_tokens`` (MaxTokensLimiter).
TOKEN_LIMIT_MARK = "tokens. Parsing aborted."  # noqa: S105 - a parser message, not a secret
# The field the services (bnpl_common.idempotency) name for a bad Idempotency-Key header: the
# mutation's argument of the same name, never a path inside ``input``.
IDEMPOTENCY_FIELD = "idempotencyKey"


class GatewayError(Exception):
    """An expected failure, shown to the caller as ``errorType``/``message``/``errorInfo``."""

    def __init__(self, error_type: str, message: str, *, info: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.info: dict[str, Any] | None = dict(info) if info else None


class DependencyFailed(GatewayError):
    """A service was unreachable, timed out or failed: no internals are shown."""

    def __init__(self) -> None:
        super().__init__("DependencyFailed", DEPENDENCY_MESSAGE)


FieldMap = Mapping[str, str]


def translate_field(field: str | None, field_map: FieldMap) -> str | None:
    """Map a REST body path onto the GraphQL argument path (longest matching prefix wins).

    ``{"order": "input"}`` turns ``order.amount.amount`` into ``input.amount.amount``;
    the ``""`` key prefixes any other field (``dateOfBirth`` -> ``input.dateOfBirth``).
    """
    if field is None:
        return None
    if field == IDEMPOTENCY_FIELD:
        return field
    for prefix in sorted((p for p in field_map if p), key=len, reverse=True):
        if field == prefix:
            return field_map[prefix]
        if field.startswith(prefix + "."):
            return field_map[prefix] + field[len(prefix) :]
    if "" in field_map:
        root = field_map[""]
        return root if field == "body" else f"{root}.{field}"
    return field


def from_app_error(error: AppError, field_map: FieldMap) -> GatewayError:
    """A service's error body as a GraphQL error with the field in GraphQL terms."""
    info: dict[str, Any] = dict(error.info or {})
    if "errors" in info and isinstance(info["errors"], list):
        info["errors"] = [
            {**e, "field": translate_field(e.get("field"), field_map)} if isinstance(e, dict) else e
            for e in info["errors"]
        ]
    field = translate_field(error.field, field_map)
    if field is not None:
        info = {"field": field, **info}
    return GatewayError(error.error_type, error.message, info=info)


def is_unexpected(error: GraphQLError) -> bool:
    """A resolver failure that is not a typed business error: logged and masked."""
    return error.path is not None and not isinstance(error.original_error, GatewayError)


def is_token_limit(error: GraphQLError) -> bool:
    """graphql-core's parser stopped at ``max_tokens``: a limit, not a typo in the document."""
    return isinstance(error, GraphQLSyntaxError) and TOKEN_LIMIT_MARK in error.message


def format_error(error: GraphQLError) -> dict[str, Any]:
    """One GraphQL error in AppSync's shape; unexpected failures are logged and masked."""
    original = error.original_error
    if is_token_limit(error):
        error_type, message, info = "ValidationError", error.message.removeprefix("Syntax Error: "), None
    elif isinstance(error, GraphQLSyntaxError):
        error_type, message, info = "MalformedQuery", error.message, None
    elif isinstance(original, GatewayError):
        error_type, message, info = original.error_type, original.message, original.info
    elif not is_unexpected(error):
        # Raised while parsing, validating or coercing variables: nothing ran.
        error_type, message, info = "ValidationError", error.message, None
    else:
        error_type, message, info = "InternalFailure", INTERNAL_MESSAGE, None
    return {
        "message": message,
        "errorType": error_type,
        "errorInfo": info,
        "path": error.path,
        "locations": [{"line": loc.line, "column": loc.column, "sourceName": None} for loc in error.locations or ()],
        "data": None,
    }
