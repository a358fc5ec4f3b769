"""No module imports a module above it: the layers of bnpl_credit, checked on the source.

From the bottom: the pure decision core (policy, schedules, features, scorer port), the
records (``*/model.py``, the plan's ledger), the storage ports, the HTTP shapes, the services,
the adapters (storage, scorers, event publishers) and the app that wires them (settings,
dependencies, routers, ``main``, the table command). A module may import its own layer and the ones below.
"""

from __future__ import annotations

import ast
from pathlib import Path

import bnpl_credit

PACKAGE = Path(bnpl_credit.__file__).parent

LAYERS: list[tuple[str, list[str]]] = [
    (
        "core",
        [
            "errors",
            "clock",
            "idempotency",
            "scoring.port",
            "decision.policy",
            "decision.schedule",
            "decision.features",
            "decision.engine",
            "metrics",
            "markets.rates",
            "markets.catalog",
            "markets.interest",
            "markets.affordability",
            "decision.affordability",
            "psp.errors",
            "disclosures.pdf",
            "disclosures.inputs",
            "disclosures.formatting",
            "disclosures.render",
            "webhooks.signing",
            "merchants.urls",
            "checkouts.config",
            "reviews.reasons",
            "reviews.roles",
        ],
    ),
    (
        "records",
        [
            "events.model",
            "credit_line.model",
            "applications.model",
            "plans.model",
            "plans.ledger",
            "plans.interest",
            "refunds.model",
            "psp.records",
            "webhooks.model",
            "merchants.model",
            "checkouts.model",
            "audit.model",
            "reviews.model",
            "reviews.opening",
            "collections.model",
        ],
    ),
    (
        "ports",
        [
            "events.ports",
            "credit_line.ports",
            "applications.ports",
            "plans.ports",
            "storage.port",
            "psp.port",
            "disclosures.store",
            "webhooks.ports",
            "merchants.ports",
            "checkouts.ports",
            "reviews.ports",
            "collections.ports",
        ],
    ),
    (
        "http shapes",
        [
            "schemas",
            "applications.schemas",
            "plans.schemas",
            "refunds.schemas",
            "quotes.schemas",
            "credit_line.schemas",
            "webhooks.schemas",
            "checkouts.schemas",
            "reviews.schemas",
            "staff.schemas",
            "collections.schemas",
        ],
    ),
    (
        "services",
        [
            "applications.cursor",
            "applications.documents",
            "applications.deciding",
            "applications.finance_review",
            "applications.profile_trust",
            "applications.holds",
            "applications.queries",
            "credit_line.growth",
            "credit_line.service",
            "plans.events",
            "plans.changes",
            "plans.confirm",
            "plans.service",
            "refunds.service",
            "quotes.service",
            "disclosures.archive",
            "webhooks.fanout",
            "webhooks.service",
            "merchants.registry",
            "merchants.seed",
            "checkouts.cursor",
            "checkouts.events",
            "checkouts.service",
            "checkouts.shopper",
            "applications.disclosure",
            "applications.affordability",
            "reviews.cursor",
            "reviews.notify",
            "reviews.service",
            "reviews.dashboard",
            "staff.service",
            "staff.merchants",
            "plans.waivers",
            "collections.service",
            "collections.scheduler",
            "collections.refunds",
            "collections.webhooks",
        ],
    ),
    (
        "adapters",
        [
            "storage.documents",
            "storage.sqlite",
            "storage.dynamodb",
            "storage.merchant_documents",
            "storage.sqlite_merchants",
            "storage.sqlite_checkouts",
            "storage.dynamodb_merchants",
            "storage.dynamodb_checkouts",
            "storage.sqlite_persons",
            "storage.dynamodb_persons",
            "storage.dynamodb_shards",
            "storage.dynamodb_holds",
            "scoring.http",
            "scoring.inprocess",
            "scoring.sagemaker",
            "events.relay",
            "monitoring",
            "disclosures.local",
            "disclosures.s3",
            "psp.stripe_adapter",
            "psp.sandbox_adapter",
            "storage.webhook_documents",
            "storage.sqlite_webhooks",
            "storage.dynamodb_webhooks",
            "webhooks.addresses",
            "webhooks.connections",
            "webhooks.dispatcher",
            "lake.writer",
            "lake.publisher",
            "lake.query",
            "storage.review_documents",
            "storage.sqlite_reviews",
            "storage.dynamodb_reviews",
            "collections.documents",
            "storage.sqlite_payments",
            "storage.dynamodb_payments",
        ],
    ),
    (
        "app",
        [
            "refunds.auth",
            "merchants.auth",
            "merchants.cli",
            "merchants.__main__",
            "checkouts.router",
            "checkouts.shopper_router",
            "settings",
            "storage.factory",
            "storage.table",
            "deps",
            "applications.router",
            "applications.documents_router",
            "plans.router",
            "refunds.router",
            "webhooks.runtime",
            "webhooks.router",
            "quotes.router",
            "credit_line.router",
            "main",
            "merchant_openapi",
            "__main__",
            "testing",
            "disclosures.settings",
            "psp.settings",
            "psp.testing",
            "webhooks.testing",
            "lake.__main__",
            "reviews.settings",
            "reviews.deps",
            "reviews.router",
            "staff.router",
            "collections.settings",
            "collections.router",
        ],
    ),
]
LAYER_OF = {f"bnpl_credit.{name}": rank for rank, (_, names) in enumerate(LAYERS) for name in names}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            continue
        found[".".join(parts)] = path
    return found


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("bnpl_credit"):
            for alias in node.names:  # "from bnpl_credit.plans import ledger" imports a module
                full = f"{node.module}.{alias.name}"
                names.add(full if full in LAYER_OF else node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("bnpl_credit"))
    return names


def test_every_module_has_a_layer() -> None:
    assert sorted(set(_modules()) - set(LAYER_OF)) == []
    assert sorted(set(LAYER_OF) - set(_modules())) == []


def test_no_module_imports_a_module_above_it() -> None:
    upward = []
    for module, path in _modules().items():
        for imported in _imports(path):
            if imported in LAYER_OF and LAYER_OF[imported] > LAYER_OF[module]:
                upward.append(
                    f"{module} ({LAYERS[LAYER_OF[module]][0]}) imports {imported} ({LAYERS[LAYER_OF[imported]][0]})"
                )
    assert upward == []
