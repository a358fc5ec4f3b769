"""The profile snapshot the user service signs and the credit service verifies (Ed25519).

The credit service decides on the profile the gateway sends it. Without a signature of its own
origin, whoever holds the gateway's service credential could send any income. The user
service therefore signs the profile it serves; the gateway passes profile and signature through
untouched; the credit service verifies both against the user service's public key and refuses
an unsigned, altered or stale profile.

Why Ed25519 and not an HMAC: the credit service holds only the public key, so a leak of the
credit service's settings (or the gateway's) cannot mint a profile either; only the user
service, which owns the profiles, can. Signatures are deterministic and 64 bytes.

What is signed: ``{"profile": <the profile JSON as served>, "signedAt": <UTC instant>}`` in a
canonical JSON form (sorted keys, no spaces, ASCII escapes), prefixed by a domain tag so the
key signs nothing else. The signature travels as ``<keyId>.<base64url signature>``; several
verification keys may be configured to rotate without downtime.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

_DOMAIN = b"bnpl-profile-snapshot-v1\n"

# Local-only key pair (the seed is public on purpose): refused with BNPL_ENV=aws.
LOCAL_PROFILE_SIGNING_KEY_ID = "local"
LOCAL_PROFILE_SIGNING_SEED = "bG9jYWwtb25seS1wcm9maWxlLXNpZ25pbmcta2V5ISE"


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def private_key(seed: str) -> Ed25519PrivateKey:
    """The signing key from its 32-byte seed, base64url (``PROFILE_SIGNING_KEY``)."""
    try:
        raw = _b64decode(seed.strip())
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a profile signing key is the base64url of a 32-byte Ed25519 seed") from exc
    if len(raw) != 32:
        raise ValueError("a profile signing key is the base64url of a 32-byte Ed25519 seed")
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_text(key: Ed25519PrivateKey) -> str:
    """The base64url raw public key of ``key`` (what ``PROFILE_VERIFY_KEYS`` holds)."""
    return _b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def public_key(text: str) -> Ed25519PublicKey:
    try:
        raw = _b64decode(text.strip())
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a profile verification key is the base64url of a 32-byte Ed25519 public key") from exc
    if len(raw) != 32:
        raise ValueError("a profile verification key is the base64url of a 32-byte Ed25519 public key")
    return Ed25519PublicKey.from_public_bytes(raw)


LOCAL_PROFILE_VERIFY_KEY = public_key_text(private_key(LOCAL_PROFILE_SIGNING_SEED))


def canonical(profile: Mapping[str, Any], signed_at: str) -> bytes:
    """The bytes a signature covers. ``ensure_ascii`` makes any string encodable (a lone
    surrogate included), so the form exists for every decoded JSON value."""
    body = json.dumps(
        {"profile": profile, "signedAt": signed_at}, sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )
    return _DOMAIN + body.encode("ascii")


@dataclass(frozen=True, slots=True)
class ProfileSigner:
    key_id: str
    key: Ed25519PrivateKey

    def sign(self, profile: Mapping[str, Any], signed_at: str) -> str:
        return f"{self.key_id}.{_b64encode(self.key.sign(canonical(profile, signed_at)))}"


class ProfileSignatureError(ValueError):
    """The snapshot's signature is missing, unknown, wrong or too old (the message says which)."""


@dataclass(frozen=True, slots=True)
class ProfileVerifier:
    keys: Mapping[str, Ed25519PublicKey]
    max_age: timedelta
    max_future: timedelta = timedelta(seconds=60)

    def verify(self, profile: Mapping[str, Any], *, signed_at: str, signature: str, now: datetime) -> None:
        """Raise :class:`ProfileSignatureError` unless ``signature`` is a valid signature of one
        of ``keys`` over ``profile`` and ``signed_at``, made at most ``max_age`` before ``now``."""
        key_id, dot, encoded = signature.partition(".")
        key = self.keys.get(key_id) if dot else None
        if key is None:
            raise ProfileSignatureError("the profile's signature names no known key")
        try:
            key.verify(_b64decode(encoded), canonical(profile, signed_at))
        except (InvalidSignature, binascii.Error, ValueError) as exc:
            raise ProfileSignatureError("the profile does not match its signature") from exc
        try:
            when = datetime.fromisoformat(signed_at)
        except ValueError as exc:
            raise ProfileSignatureError("the profile's signature time is not an instant") from exc
        if when.tzinfo is None:
            raise ProfileSignatureError("the profile's signature time is not an instant")
        if when > now + self.max_future or now - when > self.max_age:
            raise ProfileSignatureError("the profile's signature is too old; read the profile again")


def parse_verify_keys(text: str) -> dict[str, Ed25519PublicKey]:
    """``keyId:base64url,...`` (``PROFILE_VERIFY_KEYS``)."""
    keys: dict[str, Ed25519PublicKey] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key_id, sep, value = item.partition(":")
        if not sep or not key_id or not value or "." in key_id:
            raise ValueError("PROFILE_VERIFY_KEYS must be KEY_ID:BASE64URL_PUBLIC_KEY[,...]")
        keys[key_id] = public_key(value)
    return keys
