"""Review cases: opened by every REFERRED decision and by a declined shopper's request; decided
by staff (four eyes where the rules ask for them); expired when nobody decided in time.

Every step is one store transaction: the case, what its outcome changes (the application, a
new decision record linked to the original, the credit line, the order's claim), its outbox
event and its audit record. The shopper is told by SMS once the outcome is stored.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bnpl_common.clock import Clock
from bnpl_common.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from bnpl_common.idempotency import StoredResponse, check_key, ensure_same_request, fingerprint
from bnpl_common.jwt import Principal
from bnpl_common.money import Money as MoneyValue
from bnpl_common.retry import retry_on_contention
from bnpl_common.timefmt import format_instant

from bnpl_credit.applications.documents import adverse_action_notice
from bnpl_credit.applications.model import Application, ApplicationStatus, DecisionRecord, Offer
from bnpl_credit.applications.ports import Reservation
from bnpl_credit.audit.model import (
    SYSTEM_ACTOR,
    AuditAction,
    AuditRecord,
    application_subject,
    case_subject,
    customer_subject,
)
from bnpl_credit.checkouts.events import status_event
from bnpl_credit.checkouts.model import CheckoutStatus
from bnpl_credit.checkouts.ports import CheckoutWrite
from bnpl_credit.credit_line.model import Account
from bnpl_credit.credit_line.service import customer_history
from bnpl_credit.decision.engine import DecisionEngine, DecisionStatus, Reason, hold_amount, lending_market
from bnpl_credit.decision.schedule import build_schedule
from bnpl_credit.errors import ApplicationNotFound, ConcurrentUpdate, InvalidApplicationState
from bnpl_credit.events.model import Event, EventType
from bnpl_credit.idempotency import NewIdempotency
from bnpl_credit.reviews.cursor import audit_cursor, case_cursor, encode
from bnpl_credit.reviews.model import (
    CaseOrigin,
    CaseStatus,
    Proposal,
    ReviewAction,
    ReviewCase,
    ReviewDecision,
)
from bnpl_credit.reviews.notify import Sms, tell_shopper
from bnpl_credit.reviews.ports import ApplicationChange, CaseAlreadyOpen
from bnpl_credit.reviews.reasons import REVIEW_REASONS
from bnpl_credit.reviews.schemas import (
    AuditEntry,
    AuditPage,
    CaseDetail,
    CasePage,
    CaseSummary,
    DecideInput,
    DecisionSeen,
    ProposalOut,
    ReviewOutcome,
    ReviewStatus,
)
from bnpl_credit.schemas import Money, ReasonOut
from bnpl_credit.storage.port import CreditStore

log = logging.getLogger("bnpl.credit.reviews")

EXPIRY_BATCH = 100
# the policy's own reason codes: what "the policy rules that fired" are, in a decision's reasons
POLICY_RULE_CODES = frozenset(
    {"KO_AGE", "KO_LATE_PAYMENTS", "AFFORDABILITY", "CREDIT_LIMIT", "HIGH_RISK", "RISK_GRADE"}
)


class CaseNotFound(NotFound):
    error_type = "CaseNotFound"


class ReviewAlreadyRequested(Conflict):
    error_type = "ReviewAlreadyRequested"


Store = CreditStore  # what reviews read and write: every port of the credit store


@dataclass(frozen=True, slots=True)
class ReviewRules:
    ttl: timedelta
    four_eyes_amount: int
    gateway_url: str = "http://127.0.0.1:8000"  # GATEWAY_PUBLIC_URL, in the merchant's view of a session


# -- opening -----------------------------------------------------------------------------------


def _status_view(case: ReviewCase, rules: ReviewRules, now: datetime) -> ReviewStatus:
    return ReviewStatus(
        case_id=case.id,
        status=case.status_at(now, rules.ttl).value,
        opened_at=case.opened_at,
        expires_at=case.expires_at(rules.ttl),
        info_request=case.info_request,
        closed_at=case.closed_at,
    )


async def review_status(
    store: Store, clock: Clock, rules: ReviewRules, customer_id: str, *, application_id: str
) -> ReviewStatus | None:
    """The review of one of the caller's applications, if there is one."""
    if await store.get_application(customer_id, application_id) is None:
        raise ApplicationNotFound("no such application", field="applicationId")
    case = await store.case_for_application(customer_id, application_id)
    return _status_view(case, rules, clock.now()) if case is not None else None


async def request_review(
    store: Store, clock: Clock, rules: ReviewRules, customer_id: str, *, application_id: str, statement: str
) -> ReviewStatus:
    """A declined shopper asks a person to look again (once per application); a shopper asked
    for information answers through the same call."""

    async def attempt() -> ReviewStatus:
        now = clock.now()
        application = await store.get_application(customer_id, application_id)
        if application is None:
            raise ApplicationNotFound("no such application", field="applicationId")
        existing = await store.case_for_application(customer_id, application_id)
        if existing is not None:
            if existing.status_at(now, rules.ttl) is not CaseStatus.INFO_REQUESTED:
                raise ReviewAlreadyRequested(
                    "this application has been reviewed or is being reviewed already", field="applicationId"
                )
            answered = existing.answer(statement, now=now, ttl=rules.ttl)
            event = _event(EventType.REVIEW_UPDATED, answered, now, {"status": str(answered.status)})
            # the answer is filed with the case: who asked what, and what came back (the text is on the case)
            audit = AuditRecord.new(
                at=now,
                actor=customer_id,
                actor_groups=(),
                action=AuditAction.CASE_INFO_ANSWERED,
                subjects=(
                    case_subject(answered.id),
                    application_subject(answered.application_id),
                    customer_subject(customer_id),
                ),
                case_id=answered.id,
                details={"from": str(existing.status), "to": str(answered.status), "characters": len(statement)},
            )
            await store.save_case(answered, change=None, decision=None, audit=[audit], events=[event], idempotency=None)
            return _status_view(answered, rules, now)
        if application.status not in (ApplicationStatus.DECLINED, ApplicationStatus.REFERRED):
            raise InvalidApplicationState(
                f"an application that is {application.status} cannot be reviewed", field="applicationId"
            )
        order = application.order
        case = ReviewCase.open(
            application_id=application.id,
            customer_id=customer_id,
            origin=CaseOrigin.CONTESTED if application.status is ApplicationStatus.DECLINED else CaseOrigin.REFERRAL,
            original_status=application.decision,
            amount=order.amount,
            currency=order.currency,
            plan_type=order.plan_type,
            now=now,
            statement=statement,
        )
        try:
            await store.open_case(
                case, audit=(), events=[_event(EventType.REVIEW_OPENED, case, now, {})], idempotency=None
            )
        except CaseAlreadyOpen:
            raise ConcurrentUpdate("a review was opened meanwhile; try again", field="applicationId") from None
        log.info("review requested", extra={"case_id": case.id, "application_id": application_id})
        return _status_view(case, rules, now)

    return await retry_on_contention(attempt)


# -- staff reads -------------------------------------------------------------------------------


def _money(amount: int, currency: str) -> Money:
    return Money.of(amount, currency)


def _summary(case: ReviewCase, rules: ReviewRules, now: datetime, merchant_id: str | None = None) -> dict[str, Any]:
    p = case.proposal
    proposal = (
        ProposalOut(
            decision=p.action.value,
            reviewer=p.reviewer,
            decided_at=p.decided_at,
            amount=_money(p.amount, case.currency) if p.amount is not None else None,
            plan_type=p.plan_type,
            reasons=list(p.reasons),
            note=p.note,
        )
        if p is not None
        else None
    )
    return {
        "id": case.id,
        "application_id": case.application_id,
        "customer_id": case.customer_id,
        "origin": case.origin.value,
        "status": case.status_at(now, rules.ttl).value,
        "opened_at": case.opened_at,
        "expires_at": case.expires_at(rules.ttl),
        "age_seconds": max(int((now - case.opened_at).total_seconds()), 0),
        "original_decision": case.original_status.value,
        "amount": _money(case.amount, case.currency),
        "plan_type": case.plan_type,
        "merchant_id": merchant_id,
        "needs_four_eyes": case.needs_four_eyes(p.amount if p and p.amount else case.amount, rules.four_eyes_amount),
        "proposal": proposal,
        "second_approver": case.second_approver,
        "closed_at": case.closed_at,
        "version": case.version,
    }


async def queue(
    store: Store, clock: Clock, rules: ReviewRules, *, status: CaseStatus, limit: int, next_token: str | None
) -> CasePage:
    """Cases stored with ``status``, oldest first (the queue's order)."""
    after = case_cursor(next_token) if next_token else None
    found = await store.list_cases(status, limit=limit + 1, after=after)
    page = found[:limit]
    now = clock.now()
    token = encode(format_instant(page[-1].opened_at), page[-1].id) if len(found) > limit else None
    return CasePage(items=[CaseSummary(**_summary(c, rules, now)) for c in page], next_token=token)


def _audit(
    staff: Principal | None,
    action: AuditAction,
    case: ReviewCase,
    now: datetime,
    *,
    reason: str | None = None,
    details: dict[str, object] | None = None,
) -> AuditRecord:
    return AuditRecord.new(
        at=now,
        actor=staff.sub if staff else SYSTEM_ACTOR,
        actor_groups=staff.groups if staff else (),
        action=action,
        subjects=(
            case_subject(case.id),
            application_subject(case.application_id),
            customer_subject(case.customer_id),
        ),
        case_id=case.id,
        reason=reason,
        details=details,
    )


def _seen(record: DecisionRecord | None, application: Application) -> DecisionSeen | None:
    if record is None:
        return None
    score = record.score
    profile = record.profile

    def money(name: str) -> Money | None:
        value = profile.get(name)
        if isinstance(value, dict) and isinstance(value.get("amount"), int) and isinstance(value.get("currency"), str):
            return Money.of(value["amount"], value["currency"])
        return None

    h = record.history
    return DecisionSeen(
        decided_at=record.decided_at,
        status=str(record.status),
        features=dict(record.features),
        feature_mapping_version=record.feature_mapping_version,
        score=score.score if score else None,
        pd=score.pd if score else None,
        risk_grade=score.grade if score else None,
        scorer_failure=record.scorer_failure,
        reasons=ReasonOut.many(record.reasons),
        policy_rules_fired=[r.code for r in record.reasons if r.code in POLICY_RULE_CODES],
        model_version=score.model_version if score else application.model_version,
        policy_version=record.policy_version,
        history={
            "lateInstallments": h.late_installments,
            "openPlansOutstanding": h.open_plans_outstanding,
            "heldApprovals": h.held_approvals,
            "creditLimit": h.credit_limit,
            "creditLineCurrency": h.credit_line_currency,
        },
        monthly_income=money("monthlyIncome"),
        monthly_expenses=money("monthlyExpenses"),
    )


def _outcome(d: ReviewDecision | None) -> ReviewOutcome | None:
    if d is None:
        return None
    return ReviewOutcome(
        id=d.id,
        status=d.status.value,
        decided_at=d.decided_at,
        amount=_money(d.amount, d.currency),
        plan_type=d.plan_type,
        reasons=list(d.reasons),
        deciders=list(d.deciders),
        note=d.note,
        original_decision=d.original_status.value,
    )


async def _load(store: Store, case_id: str) -> tuple[ReviewCase, Application]:
    case = await store.get_case(case_id)
    if case is None:
        raise CaseNotFound("no such case", field="caseId")
    application = await store.get_application(case.customer_id, case.application_id)
    if application is None:  # a case is stored with (or after) its application
        raise CaseNotFound("the case's application is missing", field="caseId")
    return case, application


async def case_detail(store: Store, clock: Clock, rules: ReviewRules, staff: Principal, *, case_id: str) -> CaseDetail:
    """One case with what its decision saw; the view is audited (it shows a customer's data)."""
    now = clock.now()
    case, application = await _load(store, case_id)
    record = await store.get_decision_record(case.customer_id, case.application_id)
    decision = await store.get_review_decision(case.id)
    await store.append_audit([_audit(staff, AuditAction.CASE_VIEWED, case, now)])
    return CaseDetail(
        **_summary(case, rules, now, application.order.merchant_id),
        statement=case.statement,
        info_request=case.info_request,
        application_status=str(application.status_at(now)),
        decision=_seen(record, application),
        outcome=_outcome(decision),
    )


async def audit_log(
    store: Store, clock: Clock, staff: Principal, *, subject: str, limit: int, next_token: str | None
) -> AuditPage:
    """A subject's audit records, newest first (for approvers; reading them is audited too)."""
    after = audit_cursor(next_token) if next_token else None
    found = await store.list_audit(subject, limit=limit + 1, after=after)
    page = found[:limit]
    await store.append_audit(
        [
            AuditRecord.new(
                at=clock.now(),
                actor=staff.sub,
                actor_groups=staff.groups,
                action=AuditAction.AUDIT_VIEWED,
                subjects=(f"staff:{staff.sub}",),
                details={"subject": subject},
            )
        ]
    )
    token = encode(format_instant(page[-1].at), page[-1].id) if len(found) > limit else None
    return AuditPage(
        items=[
            AuditEntry(
                id=r.id,
                at=r.at,
                actor=r.actor,
                actor_groups=list(r.actor_groups),
                action=str(r.action),
                subjects=list(r.subjects),
                case_id=r.case_id,
                reason=r.reason,
                details=dict(r.details),
            )
            for r in page
        ],
        next_token=token,
    )


# -- staff actions -----------------------------------------------------------------------------


def _event(event_type: EventType, case: ReviewCase, now: datetime, extra: dict[str, object]) -> Event:
    return Event.new(
        event_type,
        now=now,
        customer_id=case.customer_id,
        data={"caseId": case.id, "applicationId": case.application_id, "origin": str(case.origin), **extra},
    )


def _proposal(staff: Principal, body: DecideInput, case: ReviewCase, now: datetime) -> Proposal:
    action = ReviewAction(body.decision)
    if action is ReviewAction.REQUEST_INFO:
        if not body.note:
            raise ValidationFailed("say what the shopper should send", field="note")
        return Proposal(action, staff.sub, now, None, None, (), body.note)
    if action is ReviewAction.DECLINE:
        codes = body.reasons or []
        if not codes:
            raise ValidationFailed("a decline names at least one reason from the catalogue", field="reasons")
        unknown = [code for code in codes if code not in REVIEW_REASONS]
        if unknown:
            raise ValidationFailed(f"not in the reason catalogue: {', '.join(unknown)}", field="reasons")
        return Proposal(action, staff.sub, now, None, None, tuple(dict.fromkeys(codes)), body.note)
    if body.amount is not None and body.amount.currency != case.currency:
        raise ValidationFailed(f"the case is in {case.currency}", field="amount.currency")
    amount = body.amount.amount if body.amount is not None else case.amount
    if amount <= 0:
        raise ValidationFailed("approve a positive amount", field="amount.amount")
    if amount > case.amount:
        raise ValidationFailed("a reviewer may approve the amount asked or less", field="amount")
    return Proposal(action, staff.sub, now, amount, body.plan_type or case.plan_type, (), body.note)


@dataclass(frozen=True, slots=True)
class _Step:
    change: ApplicationChange | None
    decision: ReviewDecision | None
    event: Event
    sms: str | None


async def _approval_change(
    store: Store, engine: DecisionEngine, case: ReviewCase, application: Application, proposal: Proposal, now: datetime
) -> ApplicationChange:
    """The approval a review grants: the policy's plan and schedule, a hold on the credit line."""
    assert proposal.amount is not None and proposal.plan_type is not None
    policy = engine.policy
    market = lending_market(policy, engine.markets, case.currency, field="amount.currency")
    if proposal.plan_type not in market.products:
        raise PreconditionFailed(f"{proposal.plan_type} is not offered in {case.currency}", field="planType")
    product = market.product(proposal.plan_type)
    if not product.min_amount <= proposal.amount <= product.max_amount:
        raise PreconditionFailed(
            f"{proposal.plan_type} is available from {product.min_amount} to {product.max_amount} minor units",
            field="amount",
        )
    grade = application.risk_grade or policy.quote_grade
    try:
        schedule = build_schedule(market, proposal.plan_type, amount=proposal.amount, grade=grade, start=now.date())
    except KeyError:
        raise PreconditionFailed(
            f"{proposal.plan_type} is not offered at risk grade {grade}", field="planType"
        ) from None
    hold = hold_amount(proposal.amount, schedule)
    snapshot = await store.snapshot(case.customer_id)
    # the referral's own hold gives way to the approval's
    others = tuple(a for a in snapshot.approved_applications if a.id != application.id)
    history = customer_history(replace(snapshot, approved_applications=others), now=now, markets=engine.markets)
    account = history.account
    if account is not None:
        if account.currency != case.currency:
            raise PreconditionFailed("the customer's credit line is in another currency", field="amount")
        available = max(account.credit_limit - history.exposure, 0)
        reservation = Reservation(expected_version=account.version)
    else:
        record = await store.get_decision_record(case.customer_id, case.application_id)
        profile = record.profile if record else {}
        income, expenses = profile.get("monthlyIncome"), profile.get("monthlyExpenses")
        limit = policy.initial_credit_limit(
            grade,
            monthly_income=int(income["amount"]) if isinstance(income, dict) else 0,
            monthly_expenses=int(expenses["amount"]) if isinstance(expenses, dict) else 0,
        )
        available = limit
        reservation = Reservation(expected_version=None, new_account=Account(limit, case.currency, 1))
    if hold > available:
        raise PreconditionFailed(
            f"the plan's total of payments is more than the credit available ({available} minor units)",
            field="amount",
        )
    approved = replace(
        application,
        status=ApplicationStatus.APPROVED,
        decision=DecisionStatus.APPROVED,
        order=replace(application.order, amount=proposal.amount, plan_type=proposal.plan_type),
        hold=hold,
        expires_at=now + timedelta(minutes=policy.approval_hold_minutes),
        reasons=(),
        notice=None,
        offer=Offer(proposal.plan_type, case.currency, schedule),
    )
    return ApplicationChange(approved, application.status, now, reservation=reservation, claim_order=True)


def _decline_change(
    engine: DecisionEngine, application: Application, proposal: Proposal, now: datetime
) -> ApplicationChange:
    reasons = tuple(Reason(code, REVIEW_REASONS[code]) for code in proposal.reasons)
    notice = adverse_action_notice(
        reasons=reasons,
        now=now,
        order=application.order,
        score=application.score,
        max_reasons=engine.policy.max_reasons,
    )
    declined = replace(
        application,
        status=ApplicationStatus.DECLINED,
        decision=DecisionStatus.DECLINED,
        reasons=reasons,
        notice=notice,
        hold=None,
        expires_at=None,
        offer=None,
    )
    return ApplicationChange(declined, application.status, now)


async def _session_moved(
    store: Store, rules: ReviewRules, application: Application, status: CheckoutStatus, now: datetime
) -> CheckoutWrite | None:
    """The application's checkout session, moved with the review's outcome, and the event that
    tells the merchant (``checkout.approved``, ``checkout.declined``, ``checkout.expired``);
    None when there is no session or it already says so (a contested decline upheld)."""
    session = await store.checkout_by_application(application.id)
    if session is None or session.status is status:
        return None
    if session.status not in (CheckoutStatus.REFERRED, CheckoutStatus.DECLINED):
        return None  # the session ended on its own (cancelled by the merchant's sweeper): it stays
    moved = session.reviewed(now, status=status, hold_ends_at=application.expires_at)
    return CheckoutWrite(moved, [status_event(moved, now, gateway_url=rules.gateway_url)])


async def _closing_step(
    store: Store, engine: DecisionEngine, rules: ReviewRules, case: ReviewCase, application: Application, now: datetime
) -> _Step:
    """What a case that just closed APPROVED or DECLINED changes besides itself."""
    proposal = case.proposal
    assert proposal is not None
    if case.status is CaseStatus.APPROVED:
        change = await _approval_change(store, engine, case, application, proposal, now)
        status = DecisionStatus.APPROVED
    else:
        change = _decline_change(engine, application, proposal, now)
        status = DecisionStatus.DECLINED
    session = await _session_moved(
        store,
        rules,
        change.application,
        CheckoutStatus.APPROVED if status is DecisionStatus.APPROVED else CheckoutStatus.DECLINED,
        now,
    )
    change = replace(change, checkout=session)
    new = change.application
    deciders = (proposal.reviewer, *((case.second_approver,) if case.second_approver else ()))
    decision = ReviewDecision(
        id=str(uuid.uuid4()),
        case_id=case.id,
        application_id=case.application_id,
        customer_id=case.customer_id,
        decided_at=now,
        status=status,
        original_status=case.original_status,
        amount=new.order.amount,
        currency=case.currency,
        plan_type=new.order.plan_type,
        reasons=proposal.reasons,
        deciders=deciders,
        note=proposal.note,
    )
    event = _event(
        EventType.REVIEW_DECIDED,
        case,
        now,
        {
            "status": str(status),
            "reviewDecisionId": decision.id,
            "merchantId": new.order.merchant_id,
            "orderReference": new.order.order_reference,
            "amount": {"amount": new.order.amount, "currency": new.order.currency},
            "planType": new.order.plan_type,
            "reasonCodes": list(proposal.reasons),
            "expiresAt": format_instant(new.expires_at) if new.expires_at else None,
        },
    )
    amount = MoneyValue(amount=new.order.amount, currency=new.order.currency).format()
    text = (
        f"Good news: your request to pay {amount} later at {new.order.merchant_id} was approved after review. "
        "Open the checkout to confirm your plan."
        if status is DecisionStatus.APPROVED
        else f"We looked again at your request to pay {amount} later at {new.order.merchant_id}; we cannot "
        "offer credit for it. The reasons are in your application."
    )
    return _Step(change, decision, event, text)


async def _phone(store: Store, case: ReviewCase) -> object:
    record = await store.get_decision_record(case.customer_id, case.application_id)
    return record.profile.get("phoneNumber") if record else None


async def _act(
    store: Store,
    engine: DecisionEngine,
    clock: Clock,
    rules: ReviewRules,
    sms: Sms | None,
    staff: Principal,
    *,
    case_id: str,
    op: str,
    body: dict[str, Any],
    idempotency_key: str | None,
    move: Any,
) -> StoredResponse:
    key = check_key(idempotency_key)
    request_fp = fingerprint({"op": op, "caseId": case_id, "body": body})
    scope = f"staff:{staff.sub}"
    told: list[tuple[ReviewCase, str]] = []

    async def attempt() -> StoredResponse:
        now = clock.now()
        stored = await store.get_idempotent(scope, key, now=now)
        if stored is not None:
            ensure_same_request(stored.fingerprint, request_fp)
            return stored
        case, application = await _load(store, case_id)
        moved: ReviewCase = move(case, now)
        step: _Step | None = None
        if moved.status in (CaseStatus.APPROVED, CaseStatus.DECLINED):
            step = await _closing_step(store, engine, rules, moved, application, now)
        action = {
            CaseStatus.INFO_REQUESTED: AuditAction.CASE_INFO_REQUESTED,
        }.get(moved.status, AuditAction.CASE_SECOND_APPROVAL if op == "approve" else AuditAction.CASE_DECIDED)
        proposal = moved.proposal
        audit = _audit(
            staff,
            action,
            moved,
            now,
            reason=body.get("note") if op == "decide" else None,
            details={
                "from": str(case.status),
                "to": str(moved.status),
                "decision": body.get("decision"),
                "amount": proposal.amount if proposal else None,
                "planType": proposal.plan_type if proposal else None,
                "reasons": list(proposal.reasons) if proposal else [],
            },
        )
        events: Sequence[Event] = (
            [step.event] if step else [_event(EventType.REVIEW_UPDATED, moved, now, {"status": str(moved.status)})]
        )
        body_out = CaseSummary(**_summary(moved, rules, now, application.order.merchant_id)).to_json()
        winner = await store.save_case(
            moved,
            change=step.change if step else None,
            decision=step.decision if step else None,
            audit=[audit],
            events=events,
            idempotency=NewIdempotency(scope, key, request_fp, 200, body_out, now),
        )
        if winner is not None:
            ensure_same_request(winner.fingerprint, request_fp)
            return winner
        if step is not None and step.sms:
            told.append((moved, step.sms))
        elif moved.status is CaseStatus.INFO_REQUESTED:
            told.append(
                (
                    moved,
                    "We need a little more information to review your request to pay later. "
                    "Open your application to answer.",
                )
            )
        log.info("review case moved", extra={"case_id": case_id, "status": str(moved.status)})
        return StoredResponse(request_fp, 200, body_out)

    result = await retry_on_contention(attempt)
    for case, text in told:
        await tell_shopper(sms, await _phone(store, case), text, case_id=case.id)
    return result


async def decide(
    store: Store,
    engine: DecisionEngine,
    clock: Clock,
    rules: ReviewRules,
    sms: Sms | None,
    staff: Principal,
    *,
    case_id: str,
    body: DecideInput,
    idempotency_key: str | None,
) -> StoredResponse:
    """The first reviewer's decision: approve, decline with reasons, or ask for information."""

    def move(case: ReviewCase, now: datetime) -> ReviewCase:
        return case.decide(
            _proposal(staff, body, case, now), now=now, ttl=rules.ttl, four_eyes_amount=rules.four_eyes_amount
        )

    return await _act(
        store,
        engine,
        clock,
        rules,
        sms,
        staff,
        case_id=case_id,
        op="decide",
        body=body.model_dump(mode="json"),
        idempotency_key=idempotency_key,
        move=move,
    )


async def approve(
    store: Store,
    engine: DecisionEngine,
    clock: Clock,
    rules: ReviewRules,
    sms: Sms | None,
    staff: Principal,
    *,
    case_id: str,
    idempotency_key: str | None,
) -> StoredResponse:
    """The second pair of eyes confirms an approval (an approver, not the first reviewer)."""

    def move(case: ReviewCase, now: datetime) -> ReviewCase:
        return case.confirm(staff.sub, now=now, ttl=rules.ttl)

    return await _act(
        store,
        engine,
        clock,
        rules,
        sms,
        staff,
        case_id=case_id,
        op="approve",
        body={},
        idempotency_key=idempotency_key,
        move=move,
    )


# -- expiry ------------------------------------------------------------------------------------


async def expire_cases(
    store: Store, clock: Clock, rules: ReviewRules, sms: Sms | None, *, batch: int = EXPIRY_BATCH
) -> int:
    """Write back cases nobody decided in time: EXPIRED, a referral's application EXPIRED too (a
    contested decline stands), an event, an audit record; then the shopper is told."""
    now = clock.now()
    expired = 0
    seen: set[str] = set()
    while True:
        due = await store.list_live_cases_opened_before(now - rules.ttl, limit=batch)
        fresh = [c for c in due if c.id not in seen]
        for case in fresh:
            seen.add(case.id)
            try:
                moved = case.expire(now=now, ttl=rules.ttl)
                application = await store.get_application(case.customer_id, case.application_id)
                change = None
                if application is not None and application.status is ApplicationStatus.REFERRED:
                    ended = replace(application, status=ApplicationStatus.EXPIRED, expired_at=now)
                    change = ApplicationChange(
                        ended,
                        ApplicationStatus.REFERRED,
                        now,
                        checkout=await _session_moved(store, rules, ended, CheckoutStatus.EXPIRED, now),
                    )
                await store.save_case(
                    moved,
                    change=change,
                    decision=None,
                    audit=[_audit(None, AuditAction.CASE_EXPIRED, moved, now)],
                    events=[_event(EventType.REVIEW_EXPIRED, moved, now, {"status": "EXPIRED"})],
                    idempotency=None,
                )
            except ConcurrentUpdate:
                continue  # decided meanwhile, or the next sweep finds it again
            expired += 1
            log.info("review case expired", extra={"case_id": case.id})
            await tell_shopper(
                sms,
                await _phone(store, case),
                "We could not finish reviewing your request to pay later in time, so it has been closed. "
                "You can apply again at any time.",
                case_id=case.id,
            )
        if len(due) < batch or not fresh:
            return expired
