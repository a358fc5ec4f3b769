"""The Strawberry schema: AppSync's scalar names, errors logged once and masked when unexpected."""

from __future__ import annotations

import datetime as dt
import logging

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter
from strawberry.types import ExecutionContext

from bnpl_gateway.errors import is_unexpected
from bnpl_gateway.resolvers import Mutation, Query

log = logging.getLogger("bnpl.gateway.graphql")


def _parse_date(value: object) -> dt.date:
    if not isinstance(value, str):
        raise ValueError("AWSDate must be a string YYYY-MM-DD")
    return dt.date.fromisoformat(value)


def _parse_datetime(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError("AWSDateTime must be an ISO 8601 string")
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("AWSDateTime needs a time zone offset or Z")
    return parsed


def _serialize_datetime(value: dt.datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


AWSDate = strawberry.scalar(
    name="AWSDate",
    description="An extended ISO 8601 date, YYYY-MM-DD (as AppSync's AWSDate).",
    serialize=dt.date.isoformat,
    parse_value=_parse_date,
)
AWSDateTime = strawberry.scalar(
    name="AWSDateTime",
    description="An extended ISO 8601 date and time with offset (as AppSync's AWSDateTime).",
    serialize=_serialize_datetime,
    parse_value=_parse_datetime,
)


class GatewaySchema(strawberry.Schema):
    """Logs each unexpected resolver failure once (with the request id); typed errors are not noise."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        for error in errors:
            if is_unexpected(error):
                original = error.original_error
                log.error(
                    "resolver failed",
                    exc_info=(type(original), original, original.__traceback__) if original else None,
                    extra={"graphql_path": ".".join(str(p) for p in error.path or ())},
                )


def create_schema() -> GatewaySchema:
    """The schema; the same object is exported to ``schema.graphql``."""
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        scalar_overrides={dt.date: AWSDate, dt.datetime: AWSDateTime},
        # The schema has no cycles, so depth is bounded; aliases are not (each one is an upstream call).
        extensions=[lambda: MaxAliasesLimiter(max_alias_count=30)],
    )
