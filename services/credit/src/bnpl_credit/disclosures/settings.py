"""What the document capability reads from the environment, and the objects built from it.

Its own settings class until the credit service's wiring takes these fields over; the names
are the environment variables, the same in ``.env``, docker-compose.yml and CloudFormation.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

import boto3
from bnpl_common.clock import Clock
from bnpl_common.settings import CommonSettings
from botocore.config import Config
from pydantic import Field, model_validator

from bnpl_credit.disclosures.local import LocalDocumentStore
from bnpl_credit.disclosures.pdf import Fonts
from bnpl_credit.disclosures.render import DocumentRenderer
from bnpl_credit.disclosures.s3 import S3DocumentStore
from bnpl_credit.disclosures.store import DocumentStore

# Local-only link key: known to everyone, refused for BNPL_ENV=aws.
LOCAL_DOCUMENT_LINK_KEY = "local-only-document-link-key-not-for-production"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


class DocumentSettings(CommonSettings):
    placeholder_secrets: ClassVar[frozenset[str]] = CommonSettings.placeholder_secrets | {LOCAL_DOCUMENT_LINK_KEY}

    document_store: Literal["local", "s3"] = "local"
    documents_dir: str = ".data/documents"
    document_bucket: str | None = None
    document_kms_key_id: str | None = None  # absent: the account's aws/s3 key
    s3_endpoint: str | None = None  # a moto server or LocalStack; absent in AWS
    document_link_key: str = Field(default=LOCAL_DOCUMENT_LINK_KEY, min_length=16)
    document_link_base_url: str = ""  # where the shopper's browser reaches /documents/ (the gateway)
    document_link_ttl_seconds: int = Field(default=900, ge=60, le=7 * 24 * 3600)
    # TrueType faces embedded in every PDF: Debian's fonts-dejavu-core in the credit image
    document_font: str = str(DEJAVU / "DejaVuSans.ttf")
    document_bold_font: str = str(DEJAVU / "DejaVuSans-Bold.ttf")
    # Render a decision's document right after answering it (off the response) rather than at its
    # first read. Off by default: a render costs 0.1-0.2 s of CPU in a worker thread (holding the
    # GIL while the event loop serves other requests), several times a whole decision, and would be
    # paid for every decline whose notice is never opened and every approval left at checkout; at
    # first read it is paid once, for documents someone reads (the page's first read waits ~0.3 s).
    document_prerender: bool = False

    @model_validator(mode="after")
    def _check_store(self) -> DocumentSettings:
        if self.document_store == "s3" and not self.document_bucket:
            raise ValueError("DOCUMENT_STORE=s3 needs DOCUMENT_BUCKET")
        return self

    def secret_values(self) -> dict[str, str]:
        return super().secret_values() | {"DOCUMENT_LINK_KEY": self.document_link_key}

    @property
    def link_ttl(self) -> timedelta:
        return timedelta(seconds=self.document_link_ttl_seconds)

    @property
    def fonts(self) -> Fonts:
        return Fonts(regular=Path(self.document_font), bold=Path(self.document_bold_font))


def document_renderer(settings: DocumentSettings) -> DocumentRenderer:
    return DocumentRenderer(settings.fonts)


def document_store(settings: DocumentSettings, clock: Clock, *, s3_client: Any = None) -> DocumentStore:
    """The adapter the settings choose: a local folder, or S3 (a client is made if none is given)."""
    if settings.document_store == "local":
        return LocalDocumentStore(
            Path(settings.documents_dir),
            link_key=settings.document_link_key.encode(),
            clock=clock,
            base_url=settings.document_link_base_url,
        )
    if s3_client is None:
        s3_client = boto3.client(
            "s3",
            region_name=settings.aws_region,
            endpoint_url=settings.s3_endpoint,
            # SigV4 presigned URLs (required with SSE-KMS) and explicit timeouts
            config=Config(signature_version="s3v4", connect_timeout=2, read_timeout=10, retries={"max_attempts": 3}),
        )
    assert settings.document_bucket is not None  # checked by the validator
    return S3DocumentStore(s3_client, settings.document_bucket, kms_key_id=settings.document_kms_key_id, clock=clock)
