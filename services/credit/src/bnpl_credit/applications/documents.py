"""What a decision produces: the application, its immutable decision record, the adverse-action
notice of a decline and the ``decision.made`` event. Pure: no I/O, no clock of its own."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bnpl_common.money import Money
from bnpl_common.timefmt import format_instant

from bnpl_credit.applications.model import (
    AdverseActionNotice,
    Application,
    ApplicationStatus,
    DecisionRecord,
    HistoryFacts,
    Offer,
    Order,
)
from bnpl_credit.credit_line.model import CustomerHistory
from bnpl_credit.decision.engine import Decision, DecisionStatus, Reason, hold_amount
from bnpl_credit.decision.features import FEATURE_MAPPING_VERSION
from bnpl_credit.decision.policy import Policy
from bnpl_credit.events.model import Event, EventType
from bnpl_credit.markets.catalog import Market
from bnpl_credit.scoring.port import FeatureRow, ScoreResult

ECOA_NOTICE = (
    "The federal Equal Credit Opportunity Act prohibits creditors from discriminating against credit applicants "
    "on the basis of race, color, religion, national origin, sex, marital status, age (provided the applicant has "
    "the capacity to enter into a binding contract); because all or part of the applicant's income derives from "
    "any public assistance program; or because the applicant has in good faith exercised any right under the "
    "Consumer Credit Protection Act. You have the right to a statement of the specific reasons for this decision "
    "and to a free copy of the information we used, if you ask within 60 days."
)


def adverse_action_notice(
    *,
    reasons: tuple[Reason, ...],
    now: datetime,
    order: Order,
    score: int | None,
    max_reasons: int,
    market: Market | None = None,
) -> AdverseActionNotice:
    """The notice of a decline: the action, the principal reasons (at most four), the date, and
    the text the shopper is shown. The ECOA notice (Reg B 12 CFR 1002.9) only where the market's
    notice is the US adverse-action notice; in the EU and the UK, the right to ask for a person
    to review the decision (the market file's ``disclosures.human_review``)."""
    principal = reasons[:max_reasons]
    amount = Money(amount=order.amount, currency=order.currency).format()
    lines = [
        f"Thank you for applying to pay {amount} to {order.merchant_id} over time. We cannot offer you credit "
        "for this purchase now.",
        "The principal reasons for our decision are:",
        *(f"{n}. {r.description}" for n, r in enumerate(principal, 1)),
        "Our decision was based in whole or in part on the information you gave us and on your history with us.",
    ]
    if score is not None:
        lines.append(f"Your credit score with us was {score}; the reasons above are the key factors that affected it.")
    ecoa = market is None or market.disclosures.decline_notice == "ecoa-adverse-action"
    if ecoa:
        lines.append(ECOA_NOTICE)
    elif market is not None and market.disclosures.human_review is not None:
        lines.append(
            "This decision was made by automated processing. You have the right to ask for a person to review it, "
            f"to give your point of view and to contest it: {market.disclosures.human_review}."
        )
    return AdverseActionNotice(date=now.date(), reasons=principal, score=score, text="\n".join(lines))


@dataclass(frozen=True, slots=True)
class DecisionDocuments:
    application: Application
    record: DecisionRecord
    event: Event


def decision_documents(
    policy: Policy,
    *,
    customer_id: str,
    order: Order,
    profile: Mapping[str, object],
    history: CustomerHistory,
    features: FeatureRow,
    decision: Decision,
    now: datetime,
    market: Market | None = None,
) -> DecisionDocuments:
    """The application a decision creates, with its record and its ``decision.made`` event."""
    score = decision.score
    offer = Offer(order.plan_type, order.currency, decision.schedule) if decision.schedule else None
    notice = (
        adverse_action_notice(
            reasons=decision.reasons,
            now=now,
            order=order,
            score=score.score if score else None,
            max_reasons=policy.max_reasons,
            market=market,
        )
        if decision.status is DecisionStatus.DECLINED
        else None
    )
    approved = decision.status is DecisionStatus.APPROVED
    hold = hold_amount(order.amount, decision.schedule) if approved else None
    if decision.status is DecisionStatus.REFERRED:
        hold = order.amount  # a referral holds the amount asked while its review case is open
    application = Application(
        id=str(uuid.uuid4()),
        customer_id=customer_id,
        status=ApplicationStatus(decision.status.value),
        decision=decision.status,
        order=order,
        hold=hold,
        created_at=now,
        expires_at=decision.expires_at,
        score=score.score if score else None,
        risk_grade=score.grade if score else None,
        pd=score.pd if score else None,
        reasons=decision.reasons,
        notice=notice,
        offer=offer,
        model_version=score.model_version if score else None,
        policy_version=policy.version,
    )
    record = DecisionRecord(
        application_id=application.id,
        customer_id=customer_id,
        decided_at=now,
        status=decision.status,
        order=order,
        profile=profile,
        history=HistoryFacts.of(history),
        features=features,
        feature_mapping_version=FEATURE_MAPPING_VERSION,
        score=score,
        scorer_failure=decision.scorer_failure,
        reasons=decision.reasons,
        notice=notice,
        offer=offer,
        hold=hold,
        expires_at=decision.expires_at,
        new_credit_limit=decision.new_credit_limit,
        policy_version=policy.version,
        shadow=decision.shadow,
    )
    event = Event.new(
        EventType.DECISION_MADE,
        now=now,
        customer_id=customer_id,
        data={
            "applicationId": application.id,
            "status": str(decision.status),
            "planType": order.plan_type,
            "amount": {"amount": order.amount, "currency": order.currency},
            "merchantId": order.merchant_id,
            "orderReference": order.order_reference,
            "reasonCodes": [r.code for r in decision.reasons],
            "expiresAt": format_instant(decision.expires_at) if decision.expires_at else None,
            "modelVersion": application.model_version,
            "policyVersion": policy.version,
            # what the data lake and retraining need: the model's inputs exactly as scored (model
            # units, no personal identifiers), and what the model said
            "featureMappingVersion": FEATURE_MAPPING_VERSION,
            "features": dict(features),
            "score": score.score if score else None,
            "pd": score.pd if score else None,
            "grade": score.grade if score else None,
            **({"shadow": _shadow(decision.shadow)} if decision.shadow else {}),
        },
    )
    return DecisionDocuments(application, record, event)


def _shadow(score: ScoreResult) -> dict[str, object]:
    return {"pd": score.pd, "score": score.score, "grade": score.grade, "modelVersion": score.model_version}
