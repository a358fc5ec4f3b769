"""The documents a shopper is given: the market's pre-contract information for an approval (to
read and accept before confirming), the notice of a decline, and the links to download what was
kept. Rendering is deterministic (the same application gives the same bytes and hash), so a
document is rendered once, stored immutable under its application
(``applications/<id>/pre-contract.pdf``), and every later read finds it there.

Confirming checks the accepted hash against the stored document and records it on the plan
(:class:`~bnpl_credit.plans.model.PlanDocument`); the market decides whether acceptance is
required (``disclosures.acceptance_required`` in its file).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from bnpl_credit.applications.model import Application
from bnpl_credit.applications.ports import ApplicationStore
from bnpl_credit.decision.engine import DecisionStatus
from bnpl_credit.disclosures.archive import KeptDocument, keep
from bnpl_credit.disclosures.inputs import DeclineDisclosure, DocumentKind, Payment, Reason, disclose_offer
from bnpl_credit.disclosures.render import TITLES, DocumentRenderer, RenderedDocument
from bnpl_credit.disclosures.store import DocumentLink, DocumentStore, document_key
from bnpl_credit.errors import (
    AcceptanceRequired,
    ApplicationNotFound,
    DocumentMismatch,
    DocumentsUnavailable,
    InvalidApplicationState,
    PlanNotFound,
)
from bnpl_credit.markets.catalog import Market, MarketCatalog
from bnpl_credit.plans.model import PlanDocument
from bnpl_credit.plans.ports import PlanStore

ACCEPTED_HASH_FIELD = "acceptedDocumentHash"


@dataclass(frozen=True, slots=True)
class Documents:
    """What serving documents needs: the renderer, the store and how long a link lives."""

    renderer: DocumentRenderer | None  # None: this process cannot render (fonts missing)
    store: DocumentStore
    link_ttl: timedelta


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


def _render_pre_contract(renderer: DocumentRenderer, application: Application, market: Market) -> RenderedDocument:
    offer = application.offer
    if offer is None or application.expires_at is None:
        raise InvalidApplicationState("only an approval has pre-contract information", field="applicationId")
    schedule = offer.schedule
    order = application.order
    disclosure = disclose_offer(
        market,
        order.plan_type,
        reference=application.id,
        merchant_name=order.merchant_id,
        shopper_name=None,  # the signed-in shopper reads it; no personal data in a stored document
        issued_at=application.created_at,
        valid_until=application.expires_at,
        start=application.created_at.date(),
        amount_financed=schedule.amount_financed,
        borrowing_rate_basis_points=schedule.apr_basis_points,
        installments=[Payment(i.due_date, i.amount) for i in schedule.installments],
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


async def _kept(docs: Documents, application: Application, market: Market, kind: DocumentKind) -> KeptDocument:
    """The application's document of ``kind``, rendered and stored the first time it is asked for."""
    subject = _subject(application.id)
    pdf = await docs.store.head(document_key(subject, kind.value, "pdf"))
    html = await docs.store.head(document_key(subject, kind.value, "html"))
    if pdf is not None and html is not None:
        return KeptDocument(kind=kind, pdf=pdf, html=html)
    if docs.renderer is None:
        raise DocumentsUnavailable("documents cannot be produced now; try again later", field="applicationId")
    render = _render_pre_contract if kind is DocumentKind.PRE_CONTRACT else _render_decline
    rendered = await asyncio.to_thread(render, docs.renderer, application, market)  # CPU: ~0.2 s
    return await keep(docs.store, rendered, subject=subject)


async def _application(store: ApplicationStore, customer_id: str, application_id: str) -> Application:
    application = await store.get_application(customer_id, application_id)
    if application is None:
        raise ApplicationNotFound("no such application", field="applicationId")
    return application


async def pre_contract(
    store: ApplicationStore, docs: Documents, markets: MarketCatalog, customer_id: str, *, application_id: str
) -> PreContract:
    """The pre-contract information of one of the caller's approvals (or confirmed plans)."""
    application = await _application(store, customer_id, application_id)
    if application.decision is not DecisionStatus.APPROVED:
        raise InvalidApplicationState("only an approval has pre-contract information", field="applicationId")
    market = market_of(markets, application)
    kept = await _kept(docs, application, market, DocumentKind.PRE_CONTRACT)
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
    docs: Documents, application: Application, market: Market, accepted_hash: str | None
) -> PlanDocument | None:
    """At confirmation: the accepted pre-contract document, checked against the one disclosed,
    as the plan records it. None when nothing was accepted and the market does not require it."""
    if accepted_hash is None:
        if market.disclosures.acceptance_required:
            raise AcceptanceRequired(
                f"accept the {TITLES[market.disclosures.pre_contract]} before confirming: pass its contentHash",
                field=ACCEPTED_HASH_FIELD,
            )
        return None
    kept = await _kept(docs, application, market, DocumentKind.PRE_CONTRACT)
    if accepted_hash.lower() != kept.pdf.sha256:
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
