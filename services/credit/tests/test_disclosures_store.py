"""The document store port: one contract suite run against the local folder and against S3 on a
real moto server (HTTP, SSE-KMS with a moto KMS key), then what is particular to each adapter:
the local adapter's signed links, S3's encryption and presigned URLs, and the settings."""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.testing import moto_server
from bnpl_credit.disclosures import (
    DocumentConflict,
    DocumentNotFound,
    DocumentStore,
    LinkRefused,
    LocalDocumentStore,
    S3DocumentStore,
    document_key,
    verify_link,
)
from bnpl_credit.disclosures.settings import DocumentSettings, document_store
from botocore.config import Config
from botocore.exceptions import ClientError
from pydantic import ValidationError

NOW = datetime(2026, 11, 29, 15, 4, tzinfo=UTC)
LINK_KEY = b"test-document-link-key-0123456789"
PDF = b"%PDF-1.7 the pre-contract information"
OTHER = b"%PDF-1.7 something else"


@dataclass
class Aws:
    endpoint: str
    kms_key_id: str

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(signature_version="s3v4"),
        )


@pytest.fixture(scope="module")
def aws() -> Iterator[Aws]:
    with moto_server() as endpoint:
        kms = boto3.client(
            "kms", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
        )
        yield Aws(endpoint, kms.create_key(Description="documents")["KeyMetadata"]["KeyId"])


@dataclass
class Subject:
    """A store under test, and how a shopper's browser follows one of its links."""

    store: DocumentStore
    follow: Callable[[str], Awaitable[bytes]]
    clock: FixedClock


def local_subject(root: Path) -> Subject:
    clock = FixedClock(NOW)
    store = LocalDocumentStore(root, link_key=LINK_KEY, clock=clock, base_url="http://127.0.0.1:8000")

    async def follow(url: str) -> bytes:
        _, content = await store.open_link(url)
        return content

    return Subject(store, follow, clock)


def s3_subject(aws: Aws) -> Subject:
    client = aws.client("s3")
    bucket = f"documents-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    clock = FixedClock(NOW)

    async def follow(url: str) -> bytes:
        async with httpx.AsyncClient(timeout=10) as http:
            answer = await http.get(url)
        answer.raise_for_status()
        return answer.content

    return Subject(S3DocumentStore(client, bucket, kms_key_id=aws.kms_key_id, clock=clock), follow, clock)


@pytest.fixture(params=["local", "s3"])
def subject(request: pytest.FixtureRequest, tmp_path: Path) -> Subject:
    if request.param == "local":
        return local_subject(tmp_path / "documents")
    return s3_subject(request.getfixturevalue("aws"))


def run(awaitable: Awaitable[Any]) -> Any:
    async def wrapper() -> Any:
        return await awaitable

    return asyncio.run(wrapper())


KEY = document_key("plans/p_123", "pre-contract", "pdf")


# -- the contract every adapter keeps ---------------------------------------------------------


def test_a_document_is_stored_with_its_hash(subject: Subject) -> None:
    store = subject.store
    record = run(store.put(KEY, PDF))
    assert record.key == KEY and record.size == len(PDF) and record.content_type == "application/pdf"
    assert record.sha256 == hashlib.sha256(PDF).hexdigest()
    stored, content = run(store.get(KEY))
    assert content == PDF and stored.sha256 == record.sha256
    assert run(store.head(KEY)) == record
    assert run(store.ping()) is True


def test_the_same_document_again_is_idempotent(subject: Subject) -> None:
    first = run(subject.store.put(KEY, PDF))
    assert run(subject.store.put(KEY, PDF)) == first
    assert run(subject.store.get(KEY))[1] == PDF


def test_a_stored_document_never_changes(subject: Subject) -> None:
    run(subject.store.put(KEY, PDF))
    with pytest.raises(DocumentConflict):
        run(subject.store.put(KEY, OTHER))
    assert run(subject.store.get(KEY))[1] == PDF


def test_two_writers_racing_for_one_key_leave_one_document(subject: Subject) -> None:
    async def race() -> list[Any]:
        return await asyncio.gather(subject.store.put(KEY, PDF), subject.store.put(KEY, OTHER), return_exceptions=True)

    outcomes = run(race())
    conflicts = [o for o in outcomes if isinstance(o, DocumentConflict)]
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(conflicts) == 1 and len(winners) == 1
    assert run(subject.store.get(KEY))[0].sha256 == winners[0].sha256


def test_a_missing_document(subject: Subject) -> None:
    assert run(subject.store.head("plans/none/pre-contract.pdf")) is None
    with pytest.raises(DocumentNotFound):
        run(subject.store.get("plans/none/pre-contract.pdf"))
    with pytest.raises(DocumentNotFound):
        run(subject.store.link("plans/none/pre-contract.pdf", expires_in=timedelta(minutes=5)))


@pytest.mark.parametrize(
    "key", ["../escape.pdf", "plans/../../escape.pdf", "/absolute.pdf", "plans//x.pdf", "x.exe", "", "a/.hidden.pdf"]
)
def test_keys_that_could_escape_or_mislead_are_refused(subject: Subject, key: str) -> None:
    with pytest.raises(ValueError, match="key"):
        run(subject.store.put(key, PDF))


def test_a_link_downloads_the_document_until_it_expires(subject: Subject) -> None:
    run(subject.store.put(KEY, PDF))
    link = run(subject.store.link(KEY, expires_in=timedelta(minutes=15)))
    assert link.expires_at == NOW + timedelta(minutes=15)
    assert run(subject.follow(link.url)) == PDF
    with pytest.raises(ValueError, match="seven days"):
        run(subject.store.link(KEY, expires_in=timedelta(days=8)))


def test_html_is_stored_as_html(subject: Subject) -> None:
    record = run(subject.store.put("plans/p_123/pre-contract.html", b"<article>accepted</article>"))
    assert record.content_type == "text/html; charset=utf-8"


# -- local: signed links ----------------------------------------------------------------------


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_a_local_link_expires(tmp_path: Path) -> None:
    subject = local_subject(tmp_path)
    store = subject.store
    assert isinstance(store, LocalDocumentStore)
    run(store.put(KEY, PDF))
    link = run(store.link(KEY, expires_in=timedelta(minutes=15)))
    assert link.url.startswith("http://127.0.0.1:8000/documents/plans/p_123/pre-contract.pdf?")
    subject.clock.advance(timedelta(minutes=14, seconds=59))
    assert run(store.open_link(link.url))[1] == PDF
    subject.clock.advance(timedelta(seconds=1))
    with pytest.raises(LinkRefused, match="expired"):
        run(store.open_link(link.url))


def test_a_tampered_local_link_is_refused(tmp_path: Path) -> None:
    subject = local_subject(tmp_path)
    store = subject.store
    assert isinstance(store, LocalDocumentStore)
    run(store.put(KEY, PDF))
    run(store.put("plans/p_999/pre-contract.pdf", OTHER))
    url = run(store.link(KEY, expires_in=timedelta(minutes=15))).url
    params = query(url)
    signature = params["signature"]
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    later = str(int(params["expires"]) + 3600)
    for tampered in (
        url.replace(signature, flipped),  # another signature
        url.replace("p_123", "p_999"),  # another shopper's document, same signature
        url.replace(f"expires={params['expires']}", f"expires={later}"),  # a longer life
        url.replace(f"expires={params['expires']}", "expires=soon"),
        url.replace(f"&signature={signature}", ""),
        url.replace("/documents/", "/elsewhere/"),
    ):
        with pytest.raises(LinkRefused):
            run(store.open_link(tampered))
    other_key = LocalDocumentStore(tmp_path, link_key=b"another-key-entirely-0123456789", clock=subject.clock)
    with pytest.raises(LinkRefused, match="signature"):
        run(other_key.open_link(url))


def test_verify_link_refuses_an_expiry_beyond_seven_days() -> None:
    from bnpl_credit.disclosures.local import _signature

    far = int((NOW + timedelta(days=30)).timestamp())
    with pytest.raises(LinkRefused, match="longest"):
        verify_link(LINK_KEY, key=KEY, expires=str(far), signature=_signature(LINK_KEY, KEY, far), now=NOW)
    near = int((NOW + timedelta(hours=1)).timestamp())
    signed = _signature(LINK_KEY, KEY, near)
    assert verify_link(LINK_KEY, key=KEY, expires=str(near), signature=signed, now=NOW) == KEY


def test_local_files_are_read_only_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    store = local_subject(tmp_path).store
    run(store.put(KEY, PDF))
    with pytest.raises(DocumentConflict):
        run(store.put(KEY, OTHER))
    path = tmp_path / "plans" / "p_123" / "pre-contract.pdf"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o444
    assert [p.name for p in path.parent.iterdir()] == ["pre-contract.pdf"]


def test_a_short_link_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        LocalDocumentStore(tmp_path, link_key=b"short", clock=FixedClock(NOW))


# -- S3: encryption and presigned URLs --------------------------------------------------------


def test_s3_objects_are_encrypted_with_the_kms_key_and_carry_their_hash(aws: Aws) -> None:
    subject = s3_subject(aws)
    store = subject.store
    assert isinstance(store, S3DocumentStore)
    record = run(store.put(KEY, PDF))
    head = aws.client("s3").head_object(Bucket=store._bucket, Key=KEY)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert aws.kms_key_id in head["SSEKMSKeyId"]
    assert head["Metadata"]["sha256"] == record.sha256
    assert head["ContentType"] == "application/pdf"


def test_an_s3_link_is_a_presigned_get_with_the_expiry_asked(aws: Aws) -> None:
    # moto serves a presigned URL without checking its signature or expiry; S3 checks both,
    # so here the URL's own terms are checked
    subject = s3_subject(aws)
    run(subject.store.put(KEY, PDF))
    link = run(subject.store.link(KEY, expires_in=timedelta(minutes=10)))
    params = query(link.url)
    assert params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert params["X-Amz-Expires"] == "600"
    assert params["X-Amz-Signature"]
    assert params["response-content-disposition"] == 'attachment; filename="pre-contract.pdf"'


def test_an_s3_failure_is_not_taken_for_a_conflict(aws: Aws) -> None:
    store = S3DocumentStore(aws.client("s3"), "no-such-bucket-here", kms_key_id=None, clock=FixedClock(NOW))
    with pytest.raises(ClientError):
        run(store.put(KEY, PDF))
    assert run(store.ping()) is False


# -- settings -------------------------------------------------------------------------------


def test_the_local_link_key_is_refused_in_aws() -> None:
    with pytest.raises(ValidationError, match="DOCUMENT_LINK_KEY"):
        DocumentSettings(bnpl_env="aws", service_auth_keys={"AKIAREALKEY": "a-real-secret-not-a-placeholder"})


def test_s3_needs_a_bucket() -> None:
    with pytest.raises(ValidationError, match="DOCUMENT_BUCKET"):
        DocumentSettings(bnpl_env="test", document_store="s3")


def test_the_settings_choose_the_adapter(tmp_path: Path, aws: Aws) -> None:
    clock = FixedClock(NOW)
    local = document_store(DocumentSettings(bnpl_env="test", documents_dir=str(tmp_path)), clock)
    assert isinstance(local, LocalDocumentStore)
    settings = DocumentSettings(bnpl_env="test", document_store="s3", document_bucket="docs", s3_endpoint=aws.endpoint)
    assert isinstance(document_store(settings, clock, s3_client=aws.client("s3")), S3DocumentStore)
