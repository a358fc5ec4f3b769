"""The Strawberry schema: AppSync's scalar names, errors logged once and masked when unexpected."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection, MaxTokensLimiter, SchemaExtension
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from bnpl_gateway.errors import is_unexpected
from bnpl_gateway.limits import Limits
from bnpl_gateway.payments import PaymentMutation, PaymentQuery
from bnpl_gateway.query_cache import CachedDocuments, DocumentCache
from bnpl_gateway.resolvers import Mutation as ShopperMutation
from bnpl_gateway.resolvers import Query as ShopperQuery
from bnpl_gateway.roles import RoleGuard
from bnpl_gateway.staff import StaffMutation, StaffQuery
from bnpl_gateway.staff_customers import StaffCustomerMutation, StaffCustomerQuery
from bnpl_gateway.staff_merchants import StaffMerchantMutation, StaffMerchantQuery

log = logging.getLogger("bnpl.gateway.graphql")

# the shopper's operations and the staff's, in one schema (roles.RoleGuard says who calls which)
Query = merge_types("Query", (ShopperQuery, StaffQuery, StaffCustomerQuery, StaffMerchantQuery, PaymentQuery))
Mutation = merge_types(
    "Mutation", (ShopperMutation, StaffMutation, StaffCustomerMutation, StaffMerchantMutation, PaymentMutation)
)

# What one document may cost, checked before anything runs (AppSync has limits of its kind).
# The parser stops at MAX_TOKENS: a document of 100,000 fields costs no more than one of 2,000
# (validating 20,000 fields alone held the event loop for a second). Fragments multiply what
# those tokens select, so the rest is counted with every fragment expanded (bnpl_gateway.limits):
# MAX_SELECTIONS bounds the work of validation and execution, each alias is an upstream call,
# and the schema has no cycles, so depth is bounded anyway; MAX_DEPTH keeps it so when one is
# added. The page's and the end-to-end tests' documents stay far below all four (test_web.py);
# clients' introspection query selects ~230.
MAX_TOKENS = 2_000
MAX_SELECTIONS = 500
MAX_DEPTH = 8
MAX_ALIASES = 30
LIMITS = Limits(selections=MAX_SELECTIONS, depth=MAX_DEPTH, aliases=MAX_ALIASES)


# AppSync's AWSDate: YYYY-MM-DD, optionally with a time zone offset (Z, +hh:mm or +hh:mm:ss).
# Python's date.fromisoformat also takes 19850101 and 1985-W01-1, which AppSync refuses.
_AWS_DATE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?)?")


def _parse_date(value: object) -> dt.date:
    match = _AWS_DATE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError("AWSDate must be a date YYYY-MM-DD, optionally with a time zone offset")
    return dt.date.fromisoformat(match[1])


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

    documents: DocumentCache | None = None  # the documents that passed the limits and validation

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        for error in errors:
            if is_unexpected(error):
                original = error.original_error
                log.error(
                    "resolver failed",
                    exc_info=(type(original), original, original.__traceback__) if original else None,
                    extra={"graphql_path": ".".join(str(p) for p in error.path or ())},
                )


def create_schema(*, introspection: bool = True) -> GatewaySchema:
    """The schema; the same object is exported to ``schema.graphql``.

    ``introspection=False`` refuses ``__schema`` and ``__type`` (``__typename`` stays).
    Each schema keeps the documents that passed the limits and validation (one cache per
    process, :mod:`bnpl_gateway.query_cache`).
    """
    documents = DocumentCache()
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: CachedDocuments(documents, LIMITS),
        RoleGuard,
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    schema = GatewaySchema(
        query=Query,
        mutation=Mutation,
        scalar_overrides={dt.date: AWSDate, dt.datetime: AWSDateTime},
        extensions=extensions,
    )
    schema.documents = documents
    return schema
