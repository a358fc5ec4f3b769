"""What is stored stays readable: documents written before the records were typed (captured in
``data/stored_documents_v1.json`` from the service as it was, through its own service functions
on SQLite) load into records and serialize back to exactly the same JSON. Both adapters keep
these documents (SQLite in its ``doc``/``record`` columns, DynamoDB in each item's ``doc``).

Those documents predate the disclosed rate: they load with the rate of their market computed
from their own cash flows, and are written back with it added, nothing else changed."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from bnpl_credit.applications.model import ApplicationStatus
from bnpl_credit.events.model import Event
from bnpl_credit.plans.model import PlanStatus
from bnpl_credit.storage import documents

STORED = json.loads((Path(__file__).parent / "data" / "stored_documents_v1.json").read_text(encoding="utf-8"))

ROUND_TRIPS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], dict[str, Any]]]] = {
    "applications": (documents.application_from_doc, documents.application_doc),
    "decisions": (documents.decision_record_from_doc, documents.decision_record_doc),
    "plans": (lambda doc: documents.plan_from_doc(doc, 1), documents.plan_doc),
    "payments": (documents.payment_from_doc, documents.payment_doc),
    "refunds": (documents.refund_from_doc, documents.refund_doc),
    "events": (Event.from_message, Event.to_message),
}


@pytest.mark.parametrize("kind", sorted(ROUND_TRIPS))
def test_stored_documents_load_and_serialize_back_unchanged(kind: str) -> None:
    load, dump = ROUND_TRIPS[kind]
    assert STORED[kind], "the fixture has documents of every kind"
    for doc in STORED[kind]:
        again = dump(load(doc))
        assert documents.dumps(_without_rates(again)) == documents.dumps(doc)
        assert documents.dumps(dump(load(again))) == documents.dumps(again)  # the rate, once written, is kept


RATE_FIELDS = ("rateKind", "rateLabel", "annualRate", "marketVersion")


def _without_rates(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` less the rate fields that documents written before the markets lack."""
    out = {k: v for k, v in doc.items() if k not in RATE_FIELDS}
    if isinstance(out.get("offer"), dict):
        out["offer"] = _without_rates(out["offer"])
    return out


def test_documents_written_before_the_markets_read_with_their_market_s_rate() -> None:
    plans = {p.terms.plan_type: p for p in (documents.plan_from_doc(d, 1) for d in STORED["plans"])}
    monthly = plans["MONTHLY_6"].terms
    assert monthly.currency == "EUR" and monthly.apr_basis_points == 1499
    # the APRC of a 14.99 % nominal, six-month plan is above its nominal rate
    assert monthly.rate.kind == "APRC" and monthly.rate.label == "APRC"
    assert monthly.rate.annual_rate == Decimal("16.1")
    assert plans["PAY_IN_4"].terms.rate.annual_rate == 0
    offers = [a.offer for a in map(documents.application_from_doc, STORED["applications"]) if a.offer]
    assert {(o.plan_type, o.schedule.rate.kind) for o in offers} == {("PAY_IN_4", "APRC"), ("MONTHLY_6", "APRC")}


def test_the_fixture_covers_every_state_that_shapes_a_document() -> None:
    statuses = {documents.application_from_doc(d).status for d in STORED["applications"]}
    assert statuses == {
        ApplicationStatus.CONFIRMED,
        ApplicationStatus.CANCELLED,
        ApplicationStatus.DECLINED,
        ApplicationStatus.REFERRED,
    }
    assert any(d["notice"] for d in STORED["applications"])  # an adverse-action notice
    assert any(d["score"] is None for d in STORED["decisions"])  # a scorer failure
    plans = [documents.plan_from_doc(d, 1) for d in STORED["plans"]]
    assert {p.status for p in plans} == {PlanStatus.ACTIVE, PlanStatus.REFUNDED}
    assert any(i.late_on is not None for p in plans for i in p.installments)  # marked late
    assert {e["type"] for e in STORED["events"]} >= {
        "decision.made",
        "application.cancelled",
        "plan.activated",
        "payment.applied",
        "installment.late",
        "refund.applied",
    }


def test_the_sqlite_adapter_shares_a_decoded_application_only_for_the_same_text() -> None:
    """The adapter keeps decoded applications by their stored text (``sqlite._application``):
    the same text gives the same immutable object, a changed text a fresh decode."""
    import dataclasses

    from bnpl_credit.storage.sqlite import _application

    doc = next(d for d in STORED["applications"] if d["status"] == "CONFIRMED")
    text = json.dumps(doc)
    first = _application(text)
    assert _application(json.dumps(doc)) is first  # an equal text read again: not decoded again
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.status = ApplicationStatus.CANCELLED  # type: ignore[misc] - what sharing relies on
    changed = _application(json.dumps({**doc, "status": "CANCELLED"}))
    assert changed.status is ApplicationStatus.CANCELLED and first.status is ApplicationStatus.CONFIRMED
