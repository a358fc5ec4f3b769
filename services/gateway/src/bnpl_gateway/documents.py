"""Markets in GraphQL: early payoff, withdrawal, the pre-contract information and the documents
kept with plans and declines, and ``GET /documents/...``: a document's time-limited link,
forwarded (signed) to the credit service, which checks the link and serves the file.

The credit service is not reachable from a browser (a private network in AWS), so the local
document store's links point here; S3 presigned links (AWS) go to S3 directly.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

import strawberry
from bnpl_common.internal_http import CallFailed
from fastapi import FastAPI, Request
from fastapi.responses import Response

from bnpl_gateway.context import GatewayContext
from bnpl_gateway.convert import build
from bnpl_gateway.types import Money, PaymentPlan

log = logging.getLogger("bnpl.gateway.documents")
Info = strawberry.Info[GatewayContext, None]

DOCUMENT_PATH = "/documents/"
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}(/[A-Za-z0-9][A-Za-z0-9._-]{0,127}){0,7}$")


@strawberry.type(description="What settles a plan today: pay `amount` with makePayment.")
class PayoffQuote:
    amount: Money = strawberry.field(description="Principal outstanding plus interest accrued to asOf.")
    as_of: dt.date
    rebate: Money = strawberry.field(description="The interest not yet earned that paying off cancels.")
    remaining: Money = strawberry.field(description="The installments still to come, as scheduled.")


@strawberry.type(description="A withdrawal within the market's period (14 days in the EU and the UK).")
class Withdrawal:
    plan_id: strawberry.ID
    withdrawn_on: dt.date
    principal: Money = strawberry.field(description="The principal still financed, repaid.")
    interest: Money = strawberry.field(description="Interest at the borrowing rate for the days used.")
    days: int = strawberry.field(description="The days the credit was used.")
    amount_paid: Money = strawberry.field(description="Taken now: principal + interest - what was already paid.")
    returned_to_shopper: Money = strawberry.field(
        description="Paid beyond principal + interest (paying ahead): given back to the shopper."
    )
    plan: PaymentPlan


@strawberry.type(description="A document kept for the shopper, downloadable through a time-limited link.")
class Document:
    kind: str = strawberry.field(description='"pre-contract" or "decline-notice".')
    name: str = strawberry.field(description='The market\'s document: "secci", "uk-pcci", "tila-box", ...')
    title: str
    content_hash: str = strawberry.field(description="SHA-256 (hex) of the PDF.")
    content_type: str
    url: str = strawberry.field(description="A signed link that expires at expiresAt.")
    expires_at: dt.datetime


@strawberry.type(description="The pre-contract information the shopper's market requires, to read and accept.")
class PrecontractInformation:
    application_id: strawberry.ID
    kind: str = strawberry.field(description='The market\'s document: "secci" (EU), "uk-pcci" (UK), "tila-box" (US).')
    title: str
    html: str = strawberry.field(description="The document as an HTML fragment (escaped server-side) to show.")
    content_hash: str = strawberry.field(description="SHA-256 (hex) of the PDF: pass it to confirmPlan.")
    pdf_url: str = strawberry.field(description="A time-limited link to the PDF.")
    expires_at: dt.datetime = strawberry.field(description="When pdfUrl stops working.")
    acceptance_required: bool = strawberry.field(
        description="The market requires confirmPlan's acceptedDocumentHash (the page always asks)."
    )


def documents_of(data: dict[str, Any]) -> list[Document]:
    return [build(Document, item) for item in data.get("items", [])]


async def plan_documents(info: Info, plan_id: str) -> list[Document]:
    ctx = info.context
    return documents_of(await ctx.upstreams.credit.call("GET", f"/v1/plans/{plan_id}/documents", token=ctx.token))


async def application_documents(info: Info, application_id: str) -> list[Document]:
    ctx = info.context
    data = await ctx.upstreams.credit.call("GET", f"/v1/applications/{application_id}/documents", token=ctx.token)
    return documents_of(data)


def mount_documents(app: FastAPI) -> None:
    """``GET /documents/<key>?expires=...&signature=...``: the credit service checks the link."""

    @app.get(DOCUMENT_PATH + "{key:path}", include_in_schema=False)
    async def download(key: str, request: Request) -> Response:
        if not _KEY.fullmatch(key) or ".." in key:
            return Response("not found", status_code=404, media_type="text/plain")
        credit = request.app.state.upstreams.credit
        params = {k: request.query_params.get(k, "") for k in ("expires", "signature")}
        try:
            upstream = await credit.send("GET", f"/v1/documents/{key}", params=params)
        except CallFailed:
            return Response("the document service is unavailable", status_code=502, media_type="text/plain")
        if upstream.status != 200:
            status = {401: 403, 403: 403, 404: 404}.get(upstream.status, 502)
            return Response("this link is not valid" if status == 403 else "not found", status, media_type="text/plain")
        headers = {
            "content-disposition": upstream.headers.get("content-disposition", "attachment"),
            "cache-control": "private, no-store",
            "x-content-type-options": "nosniff",
        }
        return Response(upstream.body, media_type=upstream.headers.get("content-type"), headers=headers)
