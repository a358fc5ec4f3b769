"""The cost limit: a document is measured with every fragment expanded, in work that grows with
the document as written, never with its expansion (the fragment bomb)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from bnpl_gateway.limits import measure
from bnpl_gateway.schema import MAX_ALIASES, MAX_DEPTH, MAX_SELECTIONS, MAX_TOKENS, create_schema
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    Visitor,
    get_introspection_query,
    parse,
    visit,
)


def fragment_bomb(fragments: int, *, on: str = "Query", leaf: str = "__typename", root: str = "...F0") -> str:
    """Each fragment spreads the next one twice: 2**fragments leaves from a few bytes per fragment."""
    chain = [f"fragment F{i} on {on} {{ ...F{i + 1} ...F{i + 1} }}" for i in range(fragments)]
    chain.append(f"fragment F{fragments} on {on} {{ {leaf} }}")
    return f"query Bomb {{ {root} }}\n" + "\n".join(chain)


def largest_bomb() -> tuple[int, str]:
    """The bomb with the most fragments that still fits MAX_TOKENS: what the token limit lets through."""
    fragments = 1
    while True:
        try:
            parse(fragment_bomb(fragments + 1), max_tokens=MAX_TOKENS)
        except Exception:
            return fragments, fragment_bomb(fragments)
        fragments += 1


def selection_nodes(text: str) -> tuple[int, int]:
    """(selection nodes, fragment spreads) of the document as written, counted by graphql-core's visitor."""
    counts = {"selections": 0, "spreads": 0}

    class Count(Visitor):
        def enter(self, node: Any, *_: object) -> None:
            if isinstance(node, FieldNode | FragmentSpreadNode | InlineFragmentNode):
                counts["selections"] += 1
            if isinstance(node, FragmentSpreadNode):
                counts["spreads"] += 1

    visit(parse(text), Count())
    return counts["selections"], counts["spreads"]


def post(gateway: Any, token: str, query: str) -> dict[str, Any]:
    response = gateway.post("/graphql", json={"query": query}, headers={"Authorization": token})
    assert response.status_code == 200, response.text
    return response.json()


def test_the_token_limit_lets_a_bomb_of_about_190_fragments_through() -> None:
    """The issue's arithmetic: 2,000 tokens hold ~190 fragments, an expansion of 2**190."""
    fragments, text = largest_bomb()
    assert 180 <= fragments <= 200
    assert len(text.encode()) < 10_000


@pytest.mark.parametrize("fragments", [10, 21, 100])
def test_measuring_a_bomb_reads_each_node_once(fragments: int) -> None:
    """The bound: one visit per selection node as written and one step per spread; the
    expansion (2**fragments leaves) is computed, not walked."""
    text = fragment_bomb(fragments)
    cost = measure(parse(text))
    nodes, spreads = selection_nodes(text)
    assert cost.visits == nodes == 2 * fragments + 2
    assert cost.spreads_resolved == spreads == 2 * fragments + 1
    # 2**(n+1) - 1 spreads and 2**n leaves, exactly.
    assert cost.selections == 2 ** (fragments + 1) - 1 + 2**fragments


def test_the_largest_bomb_is_measured_in_linear_work() -> None:
    fragments, text = largest_bomb()
    cost = measure(parse(text))
    assert cost.visits == selection_nodes(text)[0] < 2 * MAX_TOKENS
    assert cost.selections > 2**fragments > 10**50


def test_every_bomb_the_token_limit_allows_is_refused_by_the_gateway(gql, user_service) -> None:
    _, text = largest_bomb()
    for query in (fragment_bomb(21), text, fragment_bomb(21, on="Customer", leaf="id", root="me { ...F0 }")):
        errors = gql(query)["errors"]
        assert [e["errorType"] for e in errors] == ["ValidationError"], errors
        assert errors[0]["message"] == (
            f"Document selects more than {MAX_SELECTIONS} fields, fragments expanded. Validation aborted."
        )
        assert errors[0]["path"] is None
    assert user_service.calls == []


def test_the_selection_limit_is_exact(gql) -> None:
    """``{ __typename x n }`` selects n: at the limit it runs, one over it is refused."""
    at_limit = gql("{ " + "__typename " * MAX_SELECTIONS + "}")
    assert at_limit == {"data": {"__typename": "Query"}}
    (error,) = gql("{ " + "__typename " * (MAX_SELECTIONS + 1) + "}")["errors"]
    assert error["message"].startswith(f"Document selects more than {MAX_SELECTIONS} fields")


def nested(levels: int) -> str:
    """``levels`` fields with a selection set, one inside the other (schema validity aside)."""
    return "a { " * levels + "b" + " }" * levels


@pytest.mark.parametrize(
    ("query", "depth"),
    [
        ("{ me { id } }", 1),
        ("{ me { id address { city } } }", 2),
        # The fragment's own depth counts from where it is spread.
        ("query Q { me { ...A } } fragment A on Customer { address { city } }", 2),
        ("query Q { me { address { ...C } } } fragment C on Address { city }", 2),
        ("query Q { ...R } fragment R on Query { me { ... on Customer { address { city } } } }", 2),
        # Introspection nests ofType deeply and costs little: not counted, as Strawberry did.
        ("{ __schema { types { ofType { ofType { ofType { name } } } } } }", 0),
        (f"query Q {{ me {{ ...D }} }} fragment D on Customer {{ {nested(MAX_DEPTH)} }}", MAX_DEPTH + 1),
    ],
)
def test_depth_counts_through_fragments(query: str, depth: int) -> None:
    (operation,) = measure(parse(query)).operations
    assert operation.totals.depth == depth


def test_depth_hidden_in_a_fragment_is_refused(gql, user_service) -> None:
    """Strawberry's limiter found it by expanding the fragment; the measure finds it once."""
    query = f"query Deep {{ me {{ ...D }} }} fragment D on Customer {{ {nested(MAX_DEPTH)} }}"
    (error,) = gql(query)["errors"]
    assert error["errorType"] == "ValidationError"
    assert error["message"] == f"'Deep' exceeds maximum operation depth of {MAX_DEPTH}"
    assert error["locations"] == [{"line": 1, "column": 1, "sourceName": None}]
    assert user_service.calls == []


def test_aliases_count_at_every_spread(gql, user_service) -> None:
    """Eight aliases of ``me`` spread four times are 32 upstream calls, over MAX_ALIASES."""
    aliases = " ".join(f"m{i}: me {{ id }}" for i in range(8))
    spreads = " ".join(["...A"] * 3)
    query = f"query Q {{ ...A ... on Query {{ {spreads} }} }} fragment A on Query {{ {aliases} }}"
    assert measure(parse(query)).aliases == 32 > MAX_ALIASES
    (error,) = gql(query)["errors"]
    assert error["message"] == f"32 aliases found. Allowed: {MAX_ALIASES}"
    assert user_service.calls == []


def test_a_fragment_cycle_is_refused_without_following_it(gql) -> None:
    query = "query Q { ...A } fragment A on Query { ...B ...B } fragment B on Query { ...A ...A }"
    cost = measure(parse(query))
    assert cost.cycle is not None and cost.operations == []
    (error,) = gql(query)["errors"]
    assert error["errorType"] == "ValidationError"
    assert error["message"].startswith("Cannot spread fragment '")


def test_a_long_chain_of_fragments_is_measured_without_recursion() -> None:
    """A few hundred fragments each spreading the next: deeper than Python's recursion limit allows
    twice over, so the fragments are ordered iteratively."""
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(1_500))
    cost = measure(parse("query Q { ...F0 } " + chain + " fragment F1500 on Query { __typename }"))
    assert cost.operations[0].totals.selections == 1_502


def test_unused_and_repeated_fragments_are_counted_too() -> None:
    """graphql-core validates every fragment definition, spread or not."""
    unused = fragment_bomb(12).replace("query Bomb { ...F0 }", "{ __typename }")
    assert measure(parse(unused)).selections > 2**12
    repeated = "{ __typename } fragment A on Query { a: __typename } fragment A on Query { b: __typename }"
    assert measure(parse(repeated)).aliases == 2


def test_an_unknown_fragment_is_left_to_graphql_core(gql) -> None:
    (error,) = gql("{ ...Missing }")["errors"]
    assert error == {**error, "errorType": "ValidationError", "message": "Unknown fragment 'Missing'."}


def test_introspection_for_graphiql_fits() -> None:
    """GraphiQL's own introspection query (with introspection on, locally) stays within every limit."""
    cost = measure(parse(get_introspection_query(descriptions=True)))
    assert cost.selections <= MAX_SELECTIONS // 2
    assert cost.aliases == 0 and cost.operations[0].totals.depth <= MAX_DEPTH
    result = create_schema().execute_sync(get_introspection_query(descriptions=True))
    assert result.errors is None


def test_limits_apply_to_the_whole_document(build_gateway: Callable[..., Any], token: str) -> None:
    """Validation covers every operation of a document, whichever one is executed."""
    half = "{ " + "__typename " * (MAX_SELECTIONS // 2 + 1) + "}"
    two = half.replace("{", "query A {", 1) + " " + half.replace("{", "query B {", 1)
    response = build_gateway().post(
        "/graphql", json={"query": two, "operationName": "A"}, headers={"Authorization": token}
    )
    assert response.json()["errors"][0]["message"].startswith("Document selects more than")
