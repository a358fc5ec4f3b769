"""HTTP routes of the shopper's documents: an approval's pre-contract information, a decline's
notice, a plan's kept documents, and the download of a local document by its signed link."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from bnpl_common.errors import ERROR_RESPONSES, Forbidden
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import Field

from bnpl_credit.applications import disclosure
from bnpl_credit.deps import AppClock, AppDocuments, CurrentCustomer, CurrentMarkets, Store
from bnpl_credit.disclosures.local import LinkRefused, LocalDocumentStore
from bnpl_credit.disclosures.store import DocumentNotFound
from bnpl_credit.schemas import CamelModel

router = APIRouter(tags=["documents"], responses=ERROR_RESPONSES)

# set by ``main.create_app``: checks the gateway's service signature (no user token: a browser
# follows a download link without one; the link's own signature says which document)
ServiceGate = Callable[[Request], Awaitable[None]]


class PreContractOut(CamelModel):
    application_id: str
    kind: str = Field(description='the market\'s document: "secci", "uk-pcci" or "tila-box"')
    title: str
    html: str = Field(description="the document as an HTML fragment (escaped when rendered)")
    content_hash: str = Field(description="SHA-256 (hex) of the PDF: what confirm's acceptedDocumentHash names")
    pdf_url: str
    expires_at: datetime
    acceptance_required: bool


class DocumentOut(CamelModel):
    kind: str = Field(description='"pre-contract" or "decline-notice"')
    name: str
    title: str
    content_hash: str
    content_type: str
    url: str
    expires_at: datetime

    @classmethod
    def of(cls, document: disclosure.LinkedDocument) -> DocumentOut:
        return cls(
            kind=document.kind,
            name=document.name,
            title=document.title,
            content_hash=document.sha256,
            content_type=document.content_type,
            url=document.link.url,
            expires_at=document.link.expires_at,
        )


class DocumentList(CamelModel):
    items: list[DocumentOut]


@router.get(
    "/v1/applications/{application_id}/pre-contract",
    response_model=PreContractOut,
    responses={404: {"description": "Not found"}, 409: {"description": "Not an approval"}},
)
async def pre_contract(
    application_id: str,
    customer: CurrentCustomer,
    store: Store,
    documents: AppDocuments,
    markets: CurrentMarkets,
    clock: AppClock,
) -> PreContractOut:
    """The market's pre-contract information of an approval (the schedule of a confirmation today), to accept."""
    pc = await disclosure.pre_contract(
        store, documents, markets, customer.sub, application_id=application_id, today=clock.now().date()
    )
    return PreContractOut(
        application_id=pc.application_id,
        kind=pc.name,
        title=pc.title,
        html=pc.fragment,
        content_hash=pc.pdf_sha256,
        pdf_url=pc.link.url,
        expires_at=pc.link.expires_at,
        acceptance_required=pc.acceptance_required,
    )


@router.get(
    "/v1/applications/{application_id}/documents",
    response_model=DocumentList,
    responses={404: {"description": "Not found"}},
)
async def application_documents(
    application_id: str, customer: CurrentCustomer, store: Store, documents: AppDocuments, markets: CurrentMarkets
) -> DocumentList:
    """A declined application's notice as a document, with a time-limited link."""
    items = await disclosure.application_documents(
        store, documents, markets, customer.sub, application_id=application_id
    )
    return DocumentList(items=[DocumentOut.of(d) for d in items])


@router.get("/v1/plans/{plan_id}/documents", response_model=DocumentList, responses={404: {"description": "Not found"}})
async def plan_documents(
    plan_id: str, customer: CurrentCustomer, store: Store, documents: AppDocuments
) -> DocumentList:
    """The documents kept with a plan (the accepted pre-contract information), with time-limited links."""
    items = await disclosure.plan_documents(store, documents, customer.sub, plan_id=plan_id)
    return DocumentList(items=[DocumentOut.of(d) for d in items])


@router.get("/v1/documents/{key:path}", include_in_schema=False)
async def download(
    key: str,
    request: Request,
    documents: AppDocuments,
    expires: Annotated[str, Query(max_length=16)] = "",
    signature: Annotated[str, Query(max_length=128)] = "",
) -> Response:
    """A local document by its signed, expiring link (forwarded by the gateway)."""
    gate: ServiceGate = request.app.state.document_gate
    await gate(request)
    store = documents.store
    if not isinstance(store, LocalDocumentStore):  # S3 links go to S3
        return Response("not found", status_code=404, media_type="text/plain")
    try:
        record, content = await store.open_signed(key, expires=expires, signature=signature)
    except (LinkRefused, ValueError) as exc:
        raise Forbidden("this link is not valid or has expired") from exc
    except DocumentNotFound:
        return Response("not found", status_code=404, media_type="text/plain")
    name = record.key.rsplit("/", 1)[-1]
    return Response(
        content,
        media_type=record.content_type,
        headers={"content-disposition": f'attachment; filename="{name}"', "cache-control": "private, no-store"},
    )
