"""The stored JSON documents of the credit service, shared by both adapters.

SQLite keeps them in its ``doc``/``record`` columns, DynamoDB in each item's ``doc``
attribute; the queried and conditioned fields sit beside them as columns or attributes.
The documents keep the API's camelCase field names they have always had, so rows written
before the records were typed load unchanged. Timestamps are
:func:`~bnpl_common.timefmt.format_instant` text (they sort).

Offers and plans store the rate they disclosed (``rateKind``, ``rateLabel``, ``annualRate``,
the last as decimal text, exact). Documents written before the markets were wired in have
none: their rate is computed on reading from their own cash flows under the market in force
for their currency (the only terms there were), drawn on the day they were made.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from bnpl_common.timefmt import format_instant, parse_instant

from bnpl_credit.applications.model import (
    AdverseActionNotice,
    Application,
    ApplicationStatus,
    DecisionRecord,
    HistoryFacts,
    Offer,
    Order,
)
from bnpl_credit.decision.engine import DecisionStatus, Reason
from bnpl_credit.decision.policy import PLAN_TYPES, PlanTypeName
from bnpl_credit.decision.schedule import Schedule, ScheduledInstallment
from bnpl_credit.markets.catalog import DisclosedRate, MarketCatalog, disclosed_rate, load_catalog
from bnpl_credit.markets.rates import RateKind
from bnpl_credit.plans.ledger import Installment, Plan, PlanTerms
from bnpl_credit.plans.model import Allocation, Payment, PaymentSource, PlanDocument, PlanStatus, Refund
from bnpl_credit.scoring.port import ScoreResult, parse_prediction

Doc = dict[str, Any]


def dumps(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True)


def loads(text: str) -> Doc:
    doc = json.loads(text)
    if not isinstance(doc, dict):
        raise ValueError("a stored document is not a JSON object")
    return doc


def _money(amount: int, currency: str) -> Doc:
    return {"amount": amount, "currency": currency}


def _opt_iso(moment: datetime | None) -> str | None:
    return format_instant(moment) if moment is not None else None


def _opt_time(text: str | None) -> datetime | None:
    return parse_instant(text) if text else None


def _opt_date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


_PLAN_TYPES: dict[str, PlanTypeName] = {name: name for name in PLAN_TYPES}


def _plan_type(value: str) -> PlanTypeName:
    return _PLAN_TYPES[value]  # a name this service wrote: anything else is a KeyError, not a guess


# -- reasons, offers, notices --------------------------------------------------------------


def _reasons_doc(reasons: tuple[Reason, ...]) -> list[Doc]:
    return [{"code": r.code, "description": r.description} for r in reasons]


def _reasons(docs: list[Doc]) -> tuple[Reason, ...]:
    return tuple(Reason(d["code"], d["description"]) for d in docs)


@cache
def _markets() -> MarketCatalog:
    return load_catalog()


def _rate_doc(rate: DisclosedRate) -> Doc:
    return {"rateKind": rate.kind.value, "rateLabel": rate.label, "annualRate": str(rate.annual_rate)}


def _rate(
    doc: Doc, *, currency: str, plan_type: str, start: date, principal: int, installments: Sequence[tuple[date, int]]
) -> DisclosedRate:
    if "annualRate" in doc:
        return DisclosedRate(RateKind(doc["rateKind"]), doc["rateLabel"], Decimal(doc["annualRate"]))
    market = _markets().for_currency(currency)
    if market is None:
        raise ValueError(f"a stored {currency} plan without its rate, and no market lends in {currency}")
    return disclosed_rate(
        market, market.product(plan_type), start=start, amount_financed=principal, installments=installments
    )


def _version_doc(version: str | None) -> Doc:
    return {"marketVersion": version} if version is not None else {}


def offer_doc(offer: Offer) -> Doc:
    s, currency = offer.schedule, offer.currency
    return {
        **_rate_doc(s.rate),
        **_version_doc(s.market_version),
        "planType": offer.plan_type,
        "amountFinanced": _money(s.amount_financed, currency),
        "financeCharge": _money(s.finance_charge, currency),
        "totalOfPayments": _money(s.total_of_payments, currency),
        "apr": offer.apr,
        "aprBasisPoints": s.apr_basis_points,
        "installments": [
            {"sequence": i.sequence, "dueDate": i.due_date.isoformat(), "amount": _money(i.amount, currency)}
            for i in s.installments
        ],
    }


def _offer(doc: Doc | None, made_on: date) -> Offer | None:
    if doc is None:
        return None
    currency = doc["amountFinanced"]["currency"]
    installments = tuple(
        ScheduledInstallment(i["sequence"], date.fromisoformat(i["dueDate"]), i["amount"]["amount"])
        for i in doc["installments"]
    )
    rate = _rate(
        doc,
        currency=currency,
        plan_type=doc["planType"],
        start=made_on,
        principal=doc["amountFinanced"]["amount"],
        installments=[(i.due_date, i.amount) for i in installments],
    )
    schedule = Schedule(
        amount_financed=doc["amountFinanced"]["amount"],
        finance_charge=doc["financeCharge"]["amount"],
        total_of_payments=doc["totalOfPayments"]["amount"],
        apr_basis_points=doc["aprBasisPoints"],
        installments=installments,
        rate=rate,
        market_version=doc.get("marketVersion"),
    )
    return Offer(_plan_type(doc["planType"]), currency, schedule)


def _notice_doc(notice: AdverseActionNotice | None) -> Doc | None:
    if notice is None:
        return None
    return {
        "action": str(notice.action),
        "date": notice.date.isoformat(),
        "reasons": _reasons_doc(notice.reasons),
        "score": notice.score,
        "text": notice.text,
    }


def _notice(doc: Doc | None) -> AdverseActionNotice | None:
    if doc is None:
        return None
    return AdverseActionNotice(
        date=date.fromisoformat(doc["date"]),
        reasons=_reasons(doc["reasons"]),
        score=doc["score"],
        text=doc["text"],
        action=DecisionStatus(doc["action"]),
    )


def _order_doc(order: Order) -> Doc:
    return {
        "merchantId": order.merchant_id,
        "orderReference": order.order_reference,
        "amount": _money(order.amount, order.currency),
        "planType": order.plan_type,
    }


def _order(doc: Doc) -> Order:
    return Order(
        merchant_id=doc["merchantId"],
        order_reference=doc["orderReference"],
        amount=doc["amount"]["amount"],
        currency=doc["amount"]["currency"],
        plan_type=_plan_type(doc["planType"]),
    )


# -- applications and decision records -----------------------------------------------------


def application_doc(app: Application) -> Doc:
    currency = app.order.currency
    doc: Doc = {
        "id": app.id,
        "customerId": app.customer_id,
        "status": str(app.status),
        "decision": str(app.decision),
        **_order_doc(app.order),
        "hold": _money(app.hold, currency) if app.hold is not None else None,
        "createdAt": format_instant(app.created_at),
        "expiresAt": _opt_iso(app.expires_at),
        "score": app.score,
        "riskGrade": app.risk_grade,
        "pd": app.pd,
        "reasons": _reasons_doc(app.reasons),
        "notice": _notice_doc(app.notice),
        "offer": offer_doc(app.offer) if app.offer is not None else None,
        "modelVersion": app.model_version,
        "policyVersion": app.policy_version,
        "planId": app.plan_id,
    }
    for name, moment in (
        ("cancelledAt", app.cancelled_at),
        ("confirmedAt", app.confirmed_at),
        ("expiredAt", app.expired_at),
    ):
        if moment is not None:
            doc[name] = format_instant(moment)
    return doc


def application_from_doc(doc: Doc) -> Application:
    hold = doc.get("hold")
    created_at = parse_instant(doc["createdAt"])
    return Application(
        id=doc["id"],
        customer_id=doc["customerId"],
        status=ApplicationStatus(doc["status"]),
        decision=DecisionStatus(doc["decision"]),
        order=_order(doc),
        hold=hold["amount"] if hold else None,
        created_at=created_at,
        expires_at=_opt_time(doc.get("expiresAt")),
        score=doc.get("score"),
        risk_grade=doc.get("riskGrade"),
        pd=doc.get("pd"),
        reasons=_reasons(doc.get("reasons", [])),
        notice=_notice(doc.get("notice")),
        offer=_offer(doc.get("offer"), created_at.date()),
        model_version=doc.get("modelVersion"),
        policy_version=doc["policyVersion"],
        plan_id=doc.get("planId"),
        cancelled_at=_opt_time(doc.get("cancelledAt")),
        confirmed_at=_opt_time(doc.get("confirmedAt")),
        expired_at=_opt_time(doc.get("expiredAt")),
    )


def decision_record_doc(record: DecisionRecord) -> Doc:
    currency = record.order.currency
    h = record.history
    return {
        "applicationId": record.application_id,
        "customerId": record.customer_id,
        "decidedAt": format_instant(record.decided_at),
        "status": str(record.status),
        "order": _order_doc(record.order),
        "profile": dict(record.profile),
        "history": {
            "lateInstallments": h.late_installments,
            "openPlansOutstanding": h.open_plans_outstanding,
            "heldApprovals": h.held_approvals,
            "creditLimit": h.credit_limit,
            "creditLineCurrency": h.credit_line_currency,
        },
        "features": dict(record.features),
        "featureMappingVersion": record.feature_mapping_version,
        "score": record.score.to_prediction() if record.score else None,
        "scorerFailure": record.scorer_failure,
        "reasons": _reasons_doc(record.reasons),
        "notice": _notice_doc(record.notice),
        "offer": offer_doc(record.offer) if record.offer is not None else None,
        "hold": _money(record.hold, currency) if record.hold is not None else None,
        "expiresAt": _opt_iso(record.expires_at),
        "newCreditLimit": record.new_credit_limit,
        "modelVersion": record.score.model_version if record.score else None,
        "policyVersion": record.policy_version,
        # only when a challenger scored (records before shadow scoring are written back unchanged)
        **({"shadow": record.shadow.to_prediction()} if record.shadow else {}),
    }


def decision_record_from_doc(doc: Doc) -> DecisionRecord:
    h = doc["history"]
    score: ScoreResult | None = parse_prediction(doc["score"]) if doc.get("score") else None
    hold = doc.get("hold")
    decided_at = parse_instant(doc["decidedAt"])
    return DecisionRecord(
        application_id=doc["applicationId"],
        customer_id=doc["customerId"],
        decided_at=decided_at,
        status=DecisionStatus(doc["status"]),
        order=_order(doc["order"]),
        profile=doc["profile"],
        history=HistoryFacts(
            late_installments=h["lateInstallments"],
            open_plans_outstanding=h["openPlansOutstanding"],
            held_approvals=h["heldApprovals"],
            credit_limit=h.get("creditLimit"),
            credit_line_currency=h.get("creditLineCurrency"),
        ),
        features=doc["features"],
        feature_mapping_version=doc["featureMappingVersion"],
        score=score,
        scorer_failure=doc.get("scorerFailure"),
        reasons=_reasons(doc.get("reasons", [])),
        notice=_notice(doc.get("notice")),
        offer=_offer(doc.get("offer"), decided_at.date()),
        hold=hold["amount"] if hold else None,
        expires_at=_opt_time(doc.get("expiresAt")),
        new_credit_limit=doc.get("newCreditLimit"),
        policy_version=doc["policyVersion"],
        shadow=parse_prediction(doc["shadow"]) if doc.get("shadow") else None,
    )


# -- plans, payments, refunds --------------------------------------------------------------


def plan_doc(plan: Plan) -> Doc:
    t = plan.terms
    doc: Doc = {
        "id": t.id,
        "customerId": t.customer_id,
        "applicationId": t.application_id,
        "status": str(plan.status),
        "planType": t.plan_type,
        "merchantId": t.merchant_id,
        "orderReference": t.order_reference,
        "currency": t.currency,
        "principal": t.principal,
        "financeCharge": t.finance_charge,
        "totalOfPayments": t.total_of_payments,
        "apr": t.apr,
        "aprBasisPoints": t.apr_basis_points,
        **_rate_doc(t.rate),
        **_version_doc(t.market_version),
        **_plan_documents_doc(t.documents),
        "refunded": plan.refunded,
        "installments": [
            {
                "sequence": i.sequence,
                "dueDate": i.due_date.isoformat(),
                "amount": i.amount,
                "lateFee": i.late_fee,
                "credited": i.credited,
                "paid": i.paid,
                "returned": i.returned,
                "lateAt": i.late_on.isoformat() if i.late_on else None,
                # only when some interest was cancelled: documents stored before stay as they were
                **({"rebated": i.rebated} if i.rebated else {}),
            }
            for i in plan.installments
        ],
        "createdAt": format_instant(t.created_at),
    }
    if plan.completed_on is not None:
        doc["completedOn"] = plan.completed_on.isoformat()
    if plan.refunded_on is not None:
        doc["refundedOn"] = plan.refunded_on.isoformat()
    if plan.withdrawn_on is not None:
        doc["withdrawnOn"] = plan.withdrawn_on.isoformat()
    return doc


def plan_from_doc(doc: Doc, version: int) -> Plan:
    created_at = parse_instant(doc["createdAt"])
    rate = _rate(
        doc,
        currency=doc["currency"],
        plan_type=doc["planType"],
        start=created_at.date(),
        principal=doc["principal"],
        installments=[(date.fromisoformat(i["dueDate"]), i["amount"]) for i in doc["installments"]],
    )
    terms = PlanTerms(
        id=doc["id"],
        customer_id=doc["customerId"],
        application_id=doc["applicationId"],
        plan_type=_plan_type(doc["planType"]),
        merchant_id=doc["merchantId"],
        order_reference=doc["orderReference"],
        currency=doc["currency"],
        principal=doc["principal"],
        finance_charge=doc["financeCharge"],
        total_of_payments=doc["totalOfPayments"],
        apr_basis_points=doc["aprBasisPoints"],
        created_at=created_at,
        rate=rate,
        market_version=doc.get("marketVersion"),
        documents=_plan_documents(doc.get("documents", [])),
    )
    installments = [
        Installment(
            sequence=i["sequence"],
            due_date=date.fromisoformat(i["dueDate"]),
            amount=i["amount"],
            late_fee=i["lateFee"],
            credited=i["credited"],
            paid=i["paid"],
            returned=i["returned"],
            late_on=_opt_date(i.get("lateAt")),
            rebated=i.get("rebated", 0),
        )
        for i in doc["installments"]
    ]
    return Plan(
        terms,
        installments,
        status=PlanStatus(doc["status"]),
        refunded=doc.get("refunded", 0),
        completed_on=_opt_date(doc.get("completedOn")),
        refunded_on=_opt_date(doc.get("refundedOn")),
        withdrawn_on=_opt_date(doc.get("withdrawnOn")),
        version=version,
    )


def _plan_documents_doc(documents: tuple[PlanDocument, ...]) -> Doc:
    if not documents:
        return {}
    return {
        "documents": [
            {
                "kind": d.kind,
                "title": d.title,
                "pdfKey": d.pdf_key,
                "pdfSha256": d.pdf_sha256,
                "htmlKey": d.html_key,
                "htmlSha256": d.html_sha256,
            }
            for d in documents
        ]
    }


def _plan_documents(docs: list[Doc]) -> tuple[PlanDocument, ...]:
    return tuple(
        PlanDocument(
            kind=d["kind"],
            title=d["title"],
            pdf_key=d["pdfKey"],
            pdf_sha256=d["pdfSha256"],
            html_key=d["htmlKey"],
            html_sha256=d["htmlSha256"],
        )
        for d in docs
    )


def _allocations_doc(allocations: tuple[Allocation, ...], currency: str) -> list[Doc]:
    return [{"sequence": a.sequence, "amount": _money(a.amount, currency)} for a in allocations]


def _allocations(docs: list[Doc]) -> tuple[Allocation, ...]:
    return tuple(Allocation(d["sequence"], d["amount"]["amount"]) for d in docs)


def payment_doc(payment: Payment) -> Doc:
    currency = payment.currency
    return {
        "id": payment.id,
        "customerId": payment.customer_id,
        "planId": payment.plan_id,
        "amount": _money(payment.amount, currency),
        "source": str(payment.source),
        "createdAt": format_instant(payment.created_at),
        "allocations": _allocations_doc(payment.allocations, currency),
        **({"pspChargeId": payment.psp_charge_id} if payment.psp_charge_id else {}),
    }


def payment_from_doc(doc: Doc) -> Payment:
    return Payment(
        id=doc["id"],
        customer_id=doc["customerId"],
        plan_id=doc["planId"],
        amount=doc["amount"]["amount"],
        currency=doc["amount"]["currency"],
        source=PaymentSource(doc["source"]),
        created_at=parse_instant(doc["createdAt"]),
        allocations=_allocations(doc["allocations"]),
        psp_charge_id=doc.get("pspChargeId"),
    )


def refund_doc(refund: Refund) -> Doc:
    currency = refund.currency
    return {
        "id": refund.id,
        "customerId": refund.customer_id,
        "planId": refund.plan_id,
        "merchantId": refund.merchant_id,
        "orderReference": refund.order_reference,
        "amount": _money(refund.amount, currency),
        "reason": refund.reason,
        "full": refund.full,
        "credits": _allocations_doc(refund.credits, currency),
        "returnedToShopper": _money(refund.returned_to_shopper, currency),
        "planStatus": str(refund.plan_status),
        "amountOutstanding": _money(refund.amount_outstanding, currency),
        "createdAt": format_instant(refund.created_at),
        "by": refund.by,
    }


def refund_from_doc(doc: Doc) -> Refund:
    return Refund(
        id=doc["id"],
        customer_id=doc["customerId"],
        plan_id=doc["planId"],
        merchant_id=doc["merchantId"],
        order_reference=doc["orderReference"],
        amount=doc["amount"]["amount"],
        currency=doc["amount"]["currency"],
        reason=doc["reason"],
        full=doc["full"],
        credits=_allocations(doc["credits"]),
        returned_to_shopper=doc["returnedToShopper"]["amount"],
        plan_status=PlanStatus(doc["planStatus"]),
        amount_outstanding=doc["amountOutstanding"]["amount"],
        created_at=parse_instant(doc["createdAt"]),
        by=doc["by"],
    )
