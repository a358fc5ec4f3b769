"""Keeping a rendered document: both forms stored under the plan or application they belong to."""

from __future__ import annotations

from dataclasses import dataclass

from bnpl_credit.disclosures.inputs import DocumentKind
from bnpl_credit.disclosures.render import RenderedDocument
from bnpl_credit.disclosures.store import DocumentStore, StoredDocument, document_key


@dataclass(frozen=True, slots=True)
class KeptDocument:
    """What the plan (or the declined application) records: where each form is, and its hash."""

    kind: DocumentKind
    pdf: StoredDocument
    html: StoredDocument


async def keep(
    store: DocumentStore, document: RenderedDocument, *, subject: str, name: str | None = None
) -> KeptDocument:
    """Stores the PDF and the HTML page of ``document`` under ``subject`` (``plans/<planId>``,
    ``applications/<applicationId>``) as ``name`` (default: its kind). Keeping the same document
    again is a no-op; keeping a different one where one is kept raises ``DocumentConflict``:
    what was accepted stays."""
    name = name or document.kind.value
    pdf = await store.put(document_key(subject, name, "pdf"), document.pdf)
    html = await store.put(document_key(subject, name, "html"), document.html.encode())
    return KeptDocument(kind=document.kind, pdf=pdf, html=html)
