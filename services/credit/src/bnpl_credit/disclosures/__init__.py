"""Disclosures as documents: the pre-contract information each market requires and decline
notices, rendered to HTML and PDF, and an immutable document store with time-limited links."""

from bnpl_credit.disclosures.archive import KeptDocument, keep
from bnpl_credit.disclosures.inputs import (
    DeclineDisclosure,
    DocumentKind,
    OfferDisclosure,
    Payment,
    Reason,
    disclose_offer,
)
from bnpl_credit.disclosures.local import LinkRefused, LocalDocumentStore, verify_link
from bnpl_credit.disclosures.pdf import Fonts
from bnpl_credit.disclosures.render import DocumentRenderer, RenderedDocument
from bnpl_credit.disclosures.s3 import S3DocumentStore
from bnpl_credit.disclosures.store import (
    DocumentConflict,
    DocumentLink,
    DocumentNotFound,
    DocumentStore,
    StoredDocument,
    document_key,
)

__all__ = [
    "DeclineDisclosure",
    "DocumentConflict",
    "DocumentKind",
    "DocumentLink",
    "DocumentNotFound",
    "DocumentRenderer",
    "DocumentStore",
    "Fonts",
    "KeptDocument",
    "LinkRefused",
    "LocalDocumentStore",
    "OfferDisclosure",
    "Payment",
    "Reason",
    "RenderedDocument",
    "S3DocumentStore",
    "StoredDocument",
    "disclose_offer",
    "document_key",
    "keep",
    "verify_link",
]
