"""The documents a shopper is given: the market's pre-contract information for an approval (to
read and accept before confirming), the notice of a decline, and the links to download what was
kept. Rendering is deterministic (the same application gives the same bytes and hash), so a
document is rendered once, stored immutable under its application
(``applications/<id>/pre-contract.pdf``), and every later read finds it there.

The document shows the schedule of a confirmation on the day it is read: due dates count from
the day of confirmation, so read on the day of the decision it is ``pre-contract``, read on a
later day of the hold it is ``pre-contract-<date>`` with that day's dates (and the rate for
them). Confirming checks the accepted hash against the document of the confirmation's own day
(``DocumentOutdated`` when the shopper accepted another day's: read and accept again) and
records it on the plan (:class:`~bnpl_credit.plans.model.PlanDocument`), so the kept document's
dates are the plan's. The market decides whether acceptance is required
(``disclosures.acceptance_required``; every market's file does).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from bnpl_credit.applications.model import Application
from bnpl_credit.applications.ports import ApplicationStore
from bnpl_credit.checkouts.ports import CheckoutStore
from bnpl_credit.decision.engine import DecisionStatus
from bnpl_credit.decision.schedule import due_dates
from bnpl_credit.disclosures.archive import KeptDocument, keep
from bnpl_credit.disclosures.inputs import DeclineDisclosure, DocumentKind, Payment, Reason, disclose_offer
from bnpl_credit.disclosures.render import TITLES, DocumentRenderer, RenderedDocument
from bnpl_credit.disclosures.store import DocumentLink, DocumentStore, document_key
from bnpl_credit.errors import (
    AcceptanceRequired,
    ApplicationNotFound,
    DocumentMismatch,
    DocumentOutdated,
    DocumentsUnavailable,
    InvalidApplicationState,
    PlanNotFound,
)
from bnpl_credit.markets.catalog import Market, MarketCatalog
from bnpl_credit.plans.model import PlanDocument
from bnpl_credit.plans.ports import PlanStore

ACCEPTED_HASH_FIELD = "acceptedDocumentHash"

log = logging.getLogger("bnpl.credit.documents")


class DocumentReads(ApplicationStore, CheckoutStore, Protocol):
    """What producing an application's documents reads: the application and its checkout session."""


@dataclass(frozen=True, slots=True)
class Documents:
    """What serving documents needs: the renderer, the store and how long a link lives;
    ``prerender``: render a decision's document right after answering it (see :func:`prepare`)."""

    renderer: DocumentRenderer | None  # None: this process cannot render (fonts missing)
    store: DocumentStore
    link_ttl: timedelta
    prerender: bool = False


@dataclass(frozen=True, slots=True)
class PreContract:
    application_id: str
    name: str  # the market's document: "secci", "uk-pcci", "tila-box"
    title: str
    fragment: str
    pdf_sha256: str
    link: DocumentLink
    acceptance_required: bool


@dataclass(frozen=True, slots=True)
class LinkedDocument:
    kind: str
    name: str
    title: str
    sha256: str
    content_type: str
    link: DocumentLink


def _subject(application_id: str) -> str:
    return f"applications/{application_id}"


def market_of(markets: MarketCatalog, application: Application) -> Market:
    """The terms the application was decided under (its offer's version), else its currency's."""
    version = application.offer.schedule.market_version if application.offer else None
    market = (markets.version(version) if version else None) or markets.for_currency(application.order.currency)
    if market is None:
        raise InvalidApplicationState(f"{application.order.currency} is no longer lent in", field="applicationId")
    return market


def _decided_on(application: Application) -> date:
    return application.created_at.date()


def _pre_contract_name(application: Application, start: date) -> str:
    """``pre-contract`` for a confirmation on the decision's day, else ``pre-contract-<date>``."""
    name = DocumentKind.PRE_CONTRACT.value
    return name if start == _decided_on(application) else f"{name}-{start.isoformat()}"


def _render_pre_contract(
    renderer: DocumentRenderer, application: Application, market: Market, start: date, from_checkout: bool
) -> RenderedDocument:
    """The pre-contract information of a confirmation on ``start``: the offer's amounts with the
    due dates a plan confirmed that day gets (``plans.confirm.open_plan``) and the rate for them.
    A checkout session's plan starts at the merchant's first capture: the document says that its
    dates are those of an order shipped on ``start``."""
    offer = application.offer
    if offer is None or application.expires_at is None:
        raise InvalidApplicationState("only an approval has pre-contract information", field="applicationId")
    schedule = offer.schedule
    order = application.order
    # the PDF's date: the decision's, or the start of a later day (the same day, the same bytes)
    issued_at = max(application.created_at, datetime.combine(start, time.min, tzinfo=UTC))
    dates = due_dates(market.product(order.plan_type), len(schedule.installments), start)
    disclosure = disclose_offer(
        market,
        order.plan_type,
        reference=application.id,
        merchant_name=order.merchant_id,
        shopper_name=None,  # the signed-in shopper reads it; no personal data in a stored document
        issued_at=issued_at,
        valid_until=application.expires_at,
        start=start,
        amount_financed=schedule.amount_financed,
        borrowing_rate_basis_points=schedule.apr_basis_points,
        installments=[Payment(d, i.amount) for d, i in zip(dates, schedule.installments, strict=True)],
        starts_at_shipment=from_checkout,
    )
    return renderer.pre_contract(disclosure)


def _render_decline(renderer: DocumentRenderer, application: Application, market: Market) -> RenderedDocument:
    order = application.order
    reasons = tuple(Reason(r.code, r.description) for r in application.reasons[:4])
    disclosure = DeclineDisclosure(
        market=market,
        application_id=application.id,
        decided_at=application.created_at,
        reasons=reasons,
        merchant_name=order.merchant_id,
        product=order.plan_type,
        amount=order.amount,
        shopper_name=None,
    )
    return renderer.decline_notice(disclosure)


async def _kept(
    docs: Documents,
    application: Application,
    market: Market,
    kind: DocumentKind,
    *,
    start: date | None = None,
    from_checkout: bool = False,
) -> KeptDocument:
    """The application's document of ``kind`` (a pre-contract one for a confirmation on
    ``start``, default the decision's day), rendered and stored the first time it is asked for."""
    subject = _subject(application.id)
    start = start or _decided_on(application)
    name = _pre_contract_name(application, start) if kind is DocumentKind.PRE_CONTRACT else kind.value
    pdf = await docs.store.head(document_key(subject, name, "pdf"))
    html = await docs.store.head(document_key(subject, name, "html"))
    if pdf is not None and html is not None:
        return KeptDocument(kind=kind, pdf=pdf, html=html)
    if docs.renderer is None:
        raise DocumentsUnavailable("documents cannot be produced now; try again later", field="applicationId")
    if kind is DocumentKind.PRE_CONTRACT:
        rendered = await asyncio.to_thread(
            _render_pre_contract, docs.renderer, application, market, start, from_checkout
        )
    else:
        rendered = await asyncio.to_thread(_render_decline, docs.renderer, application, market)  # CPU: ~0.2 s
    return await keep(docs.store, rendered, subject=subject, name=name)


async def prepare(
    store: DocumentReads, docs: Documents, markets: MarketCatalog, customer_id: str, application_id: str
) -> None:
    """Right after a decision is answered: render and keep its document (an approval's
    pre-contract information for the decision's day, a decline's notice), so the page's first
    request finds it stored instead of waiting for a render (about 0.1-0.2 s of CPU each).
    Best effort: a failure here only means the first request renders it."""
    if docs.renderer is None or not docs.prerender:
        return
    try:
        application = await store.get_application(customer_id, application_id)
        if application is None:
            return
        if application.decision is DecisionStatus.APPROVED and application.offer is not None:
            from_checkout = await store.checkout_by_application(application.id) is not None
            terms = market_of(markets, application)
            await _kept(docs, application, terms, DocumentKind.PRE_CONTRACT, from_checkout=from_checkout)
        elif application.decision is DecisionStatus.DECLINED and application.reasons:
            market = markets.for_currency(application.order.currency)
            if market is not None:
                await _kept(docs, application, market, DocumentKind.DECLINE_NOTICE)
    except Exception as exc:  # best effort: the request path renders it again
        log.warning("document not prepared", extra={"application_id": application_id, "error": type(exc).__name__})


async def _application(store: ApplicationStore, customer_id: str, application_id: str) -> Application:
    application = await store.get_application(customer_id, application_id)
    if application is None:
        raise ApplicationNotFound("no such application", field="applicationId")
    return application


async def pre_contract(
    store: DocumentReads,
    docs: Documents,
    markets: MarketCatalog,
    customer_id: str,
    *,
    application_id: str,
    today: date,
) -> PreContract:
    """The pre-contract information of one of the caller's approvals, with the dates of a
    confirmation ``today`` (of a confirmed one: the confirmation day's, the one kept)."""
    application = await _application(store, customer_id, application_id)
    if application.decision is not DecisionStatus.APPROVED:
        raise InvalidApplicationState("only an approval has pre-contract information", field="applicationId")
    market = market_of(markets, application)
    start = application.confirmed_at.date() if application.confirmed_at else max(today, _decided_on(application))
    from_checkout = await store.checkout_by_application(application.id) is not None
    kept = await _kept(docs, application, market, DocumentKind.PRE_CONTRACT, start=start, from_checkout=from_checkout)
    _, html = await docs.store.get(kept.html.key)
    return PreContract(
        application_id=application.id,
        name=market.disclosures.pre_contract,
        title=TITLES[market.disclosures.pre_contract],
        fragment=_fragment_of(html.decode()),
        pdf_sha256=kept.pdf.sha256,
        link=await docs.store.link(kept.pdf.key, expires_in=docs.link_ttl),
        acceptance_required=market.disclosures.acceptance_required,
    )


def _fragment_of(page: str) -> str:
    """The fragment inside the standalone page (``_page.html.j2`` puts it alone in ``<body>``)."""
    start, end = page.find("<body>"), page.rfind("</body>")
    return page[start + len("<body>") : end].strip() if start != -1 and end > start else page


async def accepted_document(
    docs: Documents,
    application: Application,
    market: Market,
    accepted_hash: str | None,
    *,
    today: date,
    from_checkout: bool = False,
) -> PlanDocument | None:
    """At confirmation ``today``: the accepted pre-contract document, checked against the one
    with today's dates, as the plan records it. None when nothing was accepted and the market
    does not require it."""
    if accepted_hash is None:
        if market.disclosures.acceptance_required:
            raise AcceptanceRequired(
                f"accept the {TITLES[market.disclosures.pre_contract]} before confirming: pass its contentHash",
                field=ACCEPTED_HASH_FIELD,
            )
        return None
    start = max(today, _decided_on(application))
    kept = await _kept(docs, application, market, DocumentKind.PRE_CONTRACT, start=start, from_checkout=from_checkout)
    if accepted_hash.lower() != kept.pdf.sha256:
        if await _accepted_another_day(docs, application, accepted_hash.lower(), start):
            raise DocumentOutdated(
                "the pre-contract information you accepted shows the due dates of a confirmation on"
                f" another day; confirming on {start.isoformat()} moves them: read and accept it again",
                field=ACCEPTED_HASH_FIELD,
                info={"confirmingOn": start.isoformat()},
            )
        raise DocumentMismatch(
            "the accepted document is not this offer's pre-contract information", field=ACCEPTED_HASH_FIELD
        )
    return PlanDocument(
        kind=DocumentKind.PRE_CONTRACT.value,
        title=TITLES[market.disclosures.pre_contract],
        pdf_key=kept.pdf.key,
        pdf_sha256=kept.pdf.sha256,
        html_key=kept.html.key,
        html_sha256=kept.html.sha256,
    )


async def _accepted_another_day(docs: Documents, application: Application, accepted: str, start: date) -> bool:
    """Whether ``accepted`` is this application's pre-contract document of an earlier day of its hold."""
    subject = _subject(application.id)
    day = _decided_on(application)
    while day < start:
        stored = await docs.store.head(document_key(subject, _pre_contract_name(application, day), "pdf"))
        if stored is not None and stored.sha256 == accepted:
            return True
        day += timedelta(days=1)
    return False


async def plan_documents(store: PlanStore, docs: Documents, customer_id: str, *, plan_id: str) -> list[LinkedDocument]:
    """The documents kept with one of the caller's plans, each with a fresh time-limited link."""
    plan = await store.get_plan(customer_id, plan_id)
    if plan is None:
        raise PlanNotFound("no such plan", field="planId")
    out = []
    for document in plan.terms.documents:
        link = await docs.store.link(document.pdf_key, expires_in=docs.link_ttl)
        name = next((n for n, t in TITLES.items() if t == document.title), document.kind)
        out.append(LinkedDocument(document.kind, name, document.title, document.pdf_sha256, "application/pdf", link))
    return out


async def application_documents(
    store: ApplicationStore, docs: Documents, markets: MarketCatalog, customer_id: str, *, application_id: str
) -> list[LinkedDocument]:
    """A declined application's notice (rendered the first time), with a time-limited link."""
    application = await _application(store, customer_id, application_id)
    if application.decision is not DecisionStatus.DECLINED or not application.reasons:
        return []
    market = markets.for_currency(application.order.currency)
    if market is None:
        return []
    kept = await _kept(docs, application, market, DocumentKind.DECLINE_NOTICE)
    name = market.disclosures.decline_notice
    link = await docs.store.link(kept.pdf.key, expires_in=docs.link_ttl)
    return [LinkedDocument(kept.kind.value, name, TITLES[name], kept.pdf.sha256, "application/pdf", link)]
