"""Documents in S3: encrypted with a KMS key, written once, downloaded through presigned URLs.

``put`` is a conditional write (``If-None-Match: *``): S3 refuses it when the key exists, so
immutability does not depend on a read before the write, and a concurrent writer of the same
key loses cleanly. The loser compares the stored SHA-256 (object metadata) with its own: the
same document is an idempotent success, another one a :class:`DocumentConflict`. In AWS the
bucket should also have S3 Object Lock (compliance mode) so that not even a role with
``s3:DeleteObject`` can rewrite the evidence.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bnpl_common.aio import run_blocking
from bnpl_common.clock import Clock
from botocore.exceptions import ClientError

from bnpl_credit.disclosures.store import (
    DocumentConflict,
    DocumentLink,
    DocumentNotFound,
    StoredDocument,
    check_key,
    check_ttl,
    content_type_of,
    sha256_hex,
)

_HASH_METADATA = "sha256"
_EXISTS = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "412", "409"})
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class S3DocumentStore:
    """The document store port over one S3 bucket (SSE-KMS)."""

    def __init__(self, client: Any, bucket: str, *, kms_key_id: str | None, clock: Clock) -> None:
        self._client = client
        self._bucket = bucket
        self._kms_key_id = kms_key_id
        self._clock = clock

    async def put(self, key: str, content: bytes) -> StoredDocument:
        return await run_blocking(self._put, key, content)

    def _put(self, key: str, content: bytes) -> StoredDocument:
        record = StoredDocument(key, sha256_hex(content), len(content), content_type_of(key))
        encryption: dict[str, Any] = {"ServerSideEncryption": "aws:kms", "BucketKeyEnabled": True}
        if self._kms_key_id:
            encryption["SSEKMSKeyId"] = self._kms_key_id  # else the account's aws/s3 key
        try:
            self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=content,
                ContentType=record.content_type,
                Metadata={_HASH_METADATA: record.sha256},
                IfNoneMatch="*",
                **encryption,
            )
        except ClientError as error:
            if _code(error) not in _EXISTS:
                raise
            existing = self._head(key)
            if existing is None or existing.sha256 != record.sha256:
                raise DocumentConflict(key) from None
        return record

    def _head(self, key: str) -> StoredDocument | None:
        try:
            answer = self._client.head_object(Bucket=self._bucket, Key=check_key(key))
        except ClientError as error:
            if _code(error) in _MISSING:
                return None
            raise
        return StoredDocument(
            key=key,
            sha256=answer.get("Metadata", {}).get(_HASH_METADATA, ""),
            size=int(answer["ContentLength"]),
            content_type=str(answer.get("ContentType", content_type_of(key))),
        )

    async def head(self, key: str) -> StoredDocument | None:
        return await run_blocking(self._head, key)

    async def get(self, key: str) -> tuple[StoredDocument, bytes]:
        return await run_blocking(self._get, key)

    def _get(self, key: str) -> tuple[StoredDocument, bytes]:
        try:
            answer = self._client.get_object(Bucket=self._bucket, Key=check_key(key))
        except ClientError as error:
            if _code(error) in _MISSING:
                raise DocumentNotFound(key) from None
            raise
        content: bytes = answer["Body"].read()
        # the hash is recomputed from the bytes, so a record never vouches for content it lacks
        return StoredDocument(key, sha256_hex(content), len(content), content_type_of(key)), content

    async def link(self, key: str, *, expires_in: timedelta) -> DocumentLink:
        check_ttl(expires_in)
        if await self.head(key) is None:
            raise DocumentNotFound(key)
        now = self._clock.now()
        url = await run_blocking(
            self._client.generate_presigned_url,
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{key.rsplit("/", 1)[-1]}"',
            },
            ExpiresIn=int(expires_in.total_seconds()),
        )
        return DocumentLink(url=str(url), expires_at=now + expires_in)

    async def ping(self) -> bool:
        try:
            await run_blocking(self._client.head_bucket, Bucket=self._bucket)
        except ClientError:
            return False
        return True
