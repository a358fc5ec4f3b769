"""What one GraphQL document may cost, measured before graphql-core validates it.

Validation and execution spread every fragment where it is used, so their work grows with
the document *expanded*: when each fragment spreads the next one twice, the expansion doubles
per fragment (``fragment F0 on Query { ...F1 ...F1 }`` ... ``F20``: 800 bytes, two million
selections). Strawberry's depth and alias limiters walked that expansion, so they were the
first to hold the event loop (21 fragments: 19 s).

:func:`measure` computes the expanded totals without expanding anything. One pass reads each
selection node of the text once and sums up every selection set as written: its own fields,
plus the fragments it spreads (with the depth at which it spreads them). Then each fragment's
totals are computed once, in dependency order, and reused at every spread. The work is one
visit per selection node plus one step per spread, whatever the document expands to; Python's
integers do not overflow, so an expansion of 2**190 is just a number over the limit.

:class:`CostLimiter` refuses a document over a limit in ``on_validate``, before graphql-core's
rules run (they too walk fragments where they are spread): it is neither validated further
nor executed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension


@dataclass(frozen=True)
class Limits:
    """The most one document may ask for, counted with every fragment spread where it is used.

    ``selections``: fields, fragment spreads and inline fragments, the units of work of
    validation and execution, summed over the document. ``depth``: fields with a selection
    set on the longest path of one operation (``{ me { id } }`` is 1, as Strawberry counted
    it); introspection fields (``__schema``, ``__type``) and what they select add none, as in
    Strawberry's limiter: clients' introspection queries nest ``ofType`` deeply and cost
    little. ``aliases``: each alias is one more resolver call, so one more upstream request.
    """

    selections: int
    depth: int
    aliases: int


@dataclass(frozen=True)
class Totals:
    """What a selection set costs with its fragments expanded."""

    selections: int = 0
    depth: int = 0
    aliases: int = 0


@dataclass
class _Written:
    """A selection set as written: its own selections, and the fragments it spreads."""

    selections: int = 0
    aliases: int = 0
    depth: int = 0
    # (fragment, depth at the spread, or None inside introspection, where depth is not counted)
    spreads: list[tuple[str, int | None]] = field(default_factory=list)


@dataclass(frozen=True)
class OperationCost:
    name: str  # "anonymous" when it has none
    node: OperationDefinitionNode
    totals: Totals


@dataclass
class DocumentCost:
    """:func:`measure`'s answer."""

    operations: list[OperationCost] = field(default_factory=list)
    # Defined but spread by no operation: graphql-core validates them all the same.
    unused_fragments: Totals = field(default_factory=Totals)
    cycle: FragmentSpreadNode | None = None
    # Selection nodes read: each one of the document once, however often it is spread.
    visits: int = 0
    # Fragment totals reused at a spread: one per spread of the document.
    spreads_resolved: int = 0

    @property
    def selections(self) -> int:
        return self.unused_fragments.selections + sum(op.totals.selections for op in self.operations)

    @property
    def aliases(self) -> int:
        return self.unused_fragments.aliases + sum(op.totals.aliases for op in self.operations)


def _is_introspection(node: FieldNode) -> bool:
    return node.name.value in ("__schema", "__type")


class _Reader:
    def __init__(self) -> None:
        self.visits = 0
        self.first_spread: dict[str, FragmentSpreadNode] = {}

    def read(self, node: SelectionSetNode, written: _Written, level: int | None) -> _Written:
        """Add ``node``'s selections to ``written``; ``level`` is the depth of the field it belongs to.

        Recursive in the document's nesting only, which the parser caps (200 levels).
        """
        for selection in node.selections:
            self.visits += 1
            written.selections += 1
            if isinstance(selection, FieldNode):
                written.aliases += selection.alias is not None
                if selection.selection_set is not None:
                    inner = None if level is None or _is_introspection(selection) else level + 1
                    if inner is not None:
                        written.depth = max(written.depth, inner)
                    self.read(selection.selection_set, written, inner)
            elif isinstance(selection, InlineFragmentNode):
                self.read(selection.selection_set, written, level)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                self.first_spread.setdefault(name, selection)
                written.spreads.append((name, level))
        return written


def _dependency_order(written: dict[str, _Written]) -> tuple[list[str], str | None]:
    """Fragments with every fragment they spread before them, and a fragment on a cycle, if any.

    Iterative: a chain of a few hundred fragments fits in 2,000 tokens, too deep to recurse.
    """
    order: list[str] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in written:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(written[root].spreads))]
        while stack:
            name, pending = stack[-1]
            for child, _ in pending:
                if child not in written:
                    continue  # unknown: graphql-core names it
                if state.get(child) == 1:
                    return order, child
                if child not in state:
                    state[child] = 1
                    stack.append((child, iter(written[child].spreads)))
                    break
            else:
                state[name] = 2
                order.append(name)
                stack.pop()
    return order, None


def _resolve(written: _Written, fragments: dict[str, Totals], cost: DocumentCost) -> Totals:
    selections, aliases, depth = written.selections, written.aliases, written.depth
    for name, level in written.spreads:
        cost.spreads_resolved += 1
        inner = fragments.get(name)
        if inner is None:
            continue
        selections += inner.selections
        aliases += inner.aliases
        if level is not None and inner.depth:
            depth = max(depth, level + inner.depth)
    return Totals(selections, depth, aliases)


def measure(document: DocumentNode) -> DocumentCost:
    """The document's totals with every fragment expanded, without expanding one."""
    reader = _Reader()
    cost = DocumentCost()
    fragments: dict[str, _Written] = {}
    extra: list[_Written] = []  # a second definition of a name: graphql-core refuses it, after reading it
    operations: list[tuple[OperationDefinitionNode, _Written]] = []
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            written = reader.read(definition.selection_set, _Written(), 0)
            if definition.name.value in fragments:
                extra.append(written)
            else:
                fragments[definition.name.value] = written
        elif isinstance(definition, OperationDefinitionNode):
            operations.append((definition, reader.read(definition.selection_set, _Written(), 0)))
    cost.visits = reader.visits

    order, cyclic = _dependency_order(fragments)
    if cyclic is not None:
        cost.cycle = reader.first_spread[cyclic]
        return cost
    totals: dict[str, Totals] = {}
    for name in order:
        totals[name] = _resolve(fragments[name], totals, cost)
    for node, written in operations:
        name = node.name.value if node.name else "anonymous"
        cost.operations.append(OperationCost(name, node, _resolve(written, totals, cost)))

    used = {name for _, written in operations for name, _ in written.spreads}
    pending = list(used)
    while pending:
        for child, _ in fragments.get(pending.pop(), _Written()).spreads:
            if child not in used:
                used.add(child)
                pending.append(child)
    unused = [totals[name] for name in fragments if name not in used] + [
        _resolve(written, totals, cost) for written in extra
    ]
    cost.unused_fragments = Totals(sum(t.selections for t in unused), 0, sum(t.aliases for t in unused))
    return cost


def check(document: DocumentNode, limits: Limits) -> list[GraphQLError]:
    """The errors of a document over ``limits``; none when it is within them."""
    return list(_errors(measure(document), limits))


def _errors(cost: DocumentCost, limits: Limits) -> Iterator[GraphQLError]:
    if cost.cycle is not None:
        yield GraphQLError(f"Cannot spread fragment '{cost.cycle.name.value}' within itself.", cost.cycle)
        return
    for operation in cost.operations:
        if operation.totals.depth > limits.depth:
            yield GraphQLError(f"'{operation.name}' exceeds maximum operation depth of {limits.depth}", operation.node)
    if cost.aliases > limits.aliases:
        yield GraphQLError(f"{cost.aliases} aliases found. Allowed: {limits.aliases}")
    if cost.selections > limits.selections:
        # A fragment bomb's count has dozens of digits: saying that it is over is enough.
        yield GraphQLError(
            f"Document selects more than {limits.selections} fields, fragments expanded. Validation aborted."
        )


class CostLimiter(SchemaExtension):
    """Refuses a document over :class:`Limits` before graphql-core's rules validate it.

    Strawberry skips its own validation when ``pre_execution_errors`` is already set: that
    is how a document over a limit is kept from every rule that would expand it.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.pre_execution_errors is None and context.graphql_document is not None:
            errors = check(context.graphql_document, self.limits)
            if errors:
                context.pre_execution_errors = errors
        yield
