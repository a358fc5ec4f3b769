"""The document cache: a document is parsed, cost-checked and validated once per text; what
fails a check is refused every time and never kept; the cache is bounded."""

import asyncio
from typing import Any

import pytest
from bnpl_gateway.query_cache import DocumentCache
from bnpl_gateway.schema import MAX_ALIASES, GatewaySchema, create_schema
from graphql import parse
from strawberry.types import ExecutionResult

ALIASES_OVER = "{ " + " ".join(f"a{i}: __typename" for i in range(MAX_ALIASES + 1)) + " }"


def run(schema: GatewaySchema, query: str) -> ExecutionResult:
    return asyncio.run(schema.execute(query))


def cache_of(schema: GatewaySchema) -> DocumentCache:
    assert schema.documents is not None
    return schema.documents


def test_the_second_request_with_the_same_text_skips_parsing_and_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = create_schema()
    calls: list[str] = []
    import bnpl_gateway.query_cache as documents

    real_validate, real_parse = documents.validate_document, documents.parse

    def counting_validate(*args: Any) -> Any:
        calls.append("validate")
        return real_validate(*args)

    def counting_parse(*args: Any, **kwargs: Any) -> Any:
        calls.append("parse")
        return real_parse(*args, **kwargs)

    monkeypatch.setattr(documents, "validate_document", counting_validate)
    monkeypatch.setattr(documents, "parse", counting_parse)
    for _ in range(3):
        result = run(schema, "query Q { __typename }")
        assert result.errors is None
        assert result.data == {"__typename": "Query"}
    assert calls == ["parse", "validate"]
    assert (cache_of(schema).hits, len(cache_of(schema))) == (2, 1)


@pytest.mark.parametrize(
    "query",
    [
        "{ nosuchfield }",  # graphql-core's validation
        ALIASES_OVER,  # the cost limits
        "{ __typename ",  # the parser
    ],
)
def test_a_refused_document_is_refused_every_time_and_never_kept(query: str) -> None:
    schema = create_schema()
    first, second = run(schema, query), run(schema, query)
    assert first.errors and second.errors
    assert [e.message for e in first.errors] == [e.message for e in second.errors]
    assert len(cache_of(schema)) == 0


def test_a_document_kept_with_introspection_on_is_still_refused_where_it_is_off() -> None:
    query = "{ __schema { queryType { name } } }"
    open_schema, closed_schema = create_schema(introspection=True), create_schema(introspection=False)
    assert run(open_schema, query).errors is None
    assert run(open_schema, query).errors is None
    refused = run(closed_schema, query)
    assert refused.errors
    assert "introspection" in refused.errors[0].message.lower()


def test_the_cache_keeps_at_most_maxsize_documents_the_least_recently_used_leaving_first() -> None:
    cache = DocumentCache(maxsize=2)
    a, b, c = (parse(f"{{ {name}: __typename }}") for name in "abc")
    cache.put("a", a)
    cache.put("b", b)
    assert cache.get("a") is a  # a is now the most recent
    cache.put("c", c)
    assert len(cache) == 2
    assert cache.get("b") is None
    assert cache.get("a") is a and cache.get("c") is c
    with pytest.raises(ValueError):
        DocumentCache(maxsize=0)


def test_variables_are_checked_on_every_request_of_a_kept_document() -> None:
    schema = create_schema()
    query = "query Q($id: ID!) { application(id: $id) { id } }"
    for _ in range(2):
        result = asyncio.run(schema.execute(query, variable_values={}))
        assert result.errors
        assert "$id" in result.errors[0].message
