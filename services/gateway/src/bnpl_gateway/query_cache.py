"""Parsed and validated GraphQL documents, kept by their text: the persisted-query idea of
AppSync and Apollo without a registration step.

A checkout page sends the same few documents over and over with new variables. Parsing,
the cost limits (:mod:`bnpl_gateway.limits`) and graphql-core's validation rules are pure
functions of the text (and of the schema, the parser's token limit and the validation rules,
which are in the key), so a document that passed them once passes them again: it is kept and
the next request with the same text goes straight to execution. Variables are coerced and
checked on every request, as always.

Only documents that passed every check are kept, so a caller cannot fill the cache with
refusals, and the cache is a bounded LRU (``maxsize`` texts of at most ``MAX_TOKENS`` tokens):
unique valid documents evict each other and cost no more than an uncached request. Each
process has its own; nothing in it is per caller (no variables, no token, no result).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator

from graphql import DocumentNode, parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from bnpl_gateway.limits import Limits, check

DEFAULT_MAXSIZE = 256


class DocumentCache:
    """An LRU of documents that passed the limits and validation, by text and options."""

    def __init__(self, maxsize: int = DEFAULT_MAXSIZE) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._documents: OrderedDict[Hashable, DocumentNode] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._documents)

    def get(self, key: Hashable) -> DocumentNode | None:
        document = self._documents.get(key)
        if document is None:
            self.misses += 1
            return None
        self.hits += 1
        self._documents.move_to_end(key)
        return document

    def put(self, key: Hashable, document: DocumentNode) -> None:
        self._documents[key] = document
        self._documents.move_to_end(key)
        while len(self._documents) > self.maxsize:
            self._documents.popitem(last=False)


class CachedDocuments(SchemaExtension):
    """Parse, check the cost :class:`Limits` and validate a document once per text.

    On a miss it does what the parser, :class:`~bnpl_gateway.limits.CostLimiter` and
    Strawberry's validation would do, in that order (a document over a limit is never
    validated, so no rule walks its expansion), and keeps the document if nothing was found.
    On a hit it sets the cached document and an empty error list, which tells Strawberry that
    validation already ran.
    """

    def __init__(self, cache: DocumentCache, limits: Limits) -> None:
        self.cache = cache
        self.limits = limits
        self._key: Hashable | None = None
        self._hit = False

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            self._key = (
                context.query,
                tuple(sorted(context.parse_options.items())),
                tuple(context.validation_rules),
            )
            document = self.cache.get(self._key)
            if document is None:
                # parsed here (errors propagate as the parser's) so that the same object is kept
                document = parse(context.query, **context.parse_options)
            else:
                self._hit = True
            context.graphql_document = document
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if self._hit:
            context.pre_execution_errors = []
        elif context.pre_execution_errors is None and document is not None:
            errors = check(document, self.limits)
            if not errors:
                errors = validate_document(context.schema._schema, document, context.validation_rules)
            context.pre_execution_errors = errors
            if not errors and self._key is not None:
                self.cache.put(self._key, document)
        yield
