"""Who may call which root field: staff operations need a staff token (``cognito:groups``
``operations`` or ``operations-risk``), every other operation needs a shopper's (no staff
group). Checked once per request on the operation's root fields, fragments expanded, before
anything runs: a refused operation runs no resolver at all.

The services check the same again on their routes (``bnpl_credit.reviews.roles``): the
gateway's check keeps a staff token away from shopper data even where a service would not.
"""

from __future__ import annotations

from collections.abc import Iterator

from bnpl_common.jwt import Principal
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension

from bnpl_gateway.errors import GatewayError

REVIEWER_GROUP = "operations"
APPROVER_GROUP = "operations-risk"
STAFF_GROUPS = frozenset({REVIEWER_GROUP, APPROVER_GROUP})

# root fields for staff (snake-free GraphQL names); approver-only ones need operations-risk
MERCHANT_FIELDS = frozenset(
    {
        "merchants",
        "createMerchant",
        "suspendMerchant",
        "activateMerchant",
        "rotateMerchantKey",
        "rotateWebhookSecret",
        "setMerchantOrigins",
        "setMerchantWebhookUrl",
    }
)
STAFF_FIELDS = frozenset(
    {
        "reviewQueue",
        "reviewCase",
        "reviewReasons",
        "reviewDashboard",
        "decideReview",
        "approveReview",
        "auditLog",
        "customerLookup",
        "customerOverview",
        "customerProfile",
        "staffPlan",
        "profileAudit",
        "waiveLateFee",
        *MERCHANT_FIELDS,
    }
)
APPROVER_FIELDS = frozenset({"approveReview", "auditLog", "profileAudit", "waiveLateFee", *MERCHANT_FIELDS})
OPEN_FIELDS = frozenset({"__typename", "__schema", "__type"})


def is_staff(principal: Principal | None) -> bool:
    return principal is not None and bool(STAFF_GROUPS & set(principal.groups))


def refusal(field: str, principal: Principal | None) -> str | None:
    """Why ``principal`` may not call root field ``field``; None when it may."""
    if field in OPEN_FIELDS:
        return None
    groups = set(principal.groups) if principal else set()
    if field in STAFF_FIELDS:
        if field in APPROVER_FIELDS and APPROVER_GROUP not in groups:
            return "needs the approver role (operations-risk)"
        if not STAFF_GROUPS & groups:
            return "needs a staff role"
        return None
    if STAFF_GROUPS & groups:
        return "is for shoppers; a staff token cannot call it"
    return None


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name is not None and o.name.value == name), None)


def root_fields(document: DocumentNode, operation_name: str | None) -> Iterator[FieldNode]:
    """The root fields the operation would resolve, through inline fragments and spreads."""
    operation = _operation(document, operation_name)
    if operation is None:
        return
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    seen: set[str] = set()
    pending: list[SelectionSetNode] = [operation.selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    pending.append(fragment.selection_set)


class RoleGuard(SchemaExtension):
    """Refuses an operation with a root field the caller's role may not call (AppSync's
    ``Unauthorized``, naming the field), before any resolver runs."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.result is None:
            principal = getattr(context.context, "principal", None)
            errors = []
            for node in root_fields(document, context.operation_name):
                why = refusal(node.name.value, principal)
                if why is not None:
                    message = f"Not Authorized to access {node.name.value}: it {why}"
                    errors.append(
                        GraphQLError(
                            message,
                            nodes=[node],
                            path=[(node.alias or node.name).value],
                            original_error=GatewayError("Unauthorized", message, info={"field": node.name.value}),
                        )
                    )
            if errors:
                context.result = ExecutionResult(data=None, errors=errors)
        yield
