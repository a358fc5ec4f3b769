"""Trust in the profile snapshot: the credit service decides only on a profile the user service
signed (``bnpl_common.profile_signature``), so a caller holding the gateway's credential alone
cannot invent an income. Unsigned, altered or stale: 403 ``ProfileNotTrusted``, nothing done."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bnpl_common.errors import Forbidden
from bnpl_common.profile_signature import ProfileSignatureError, ProfileVerifier, parse_verify_keys

from bnpl_credit.applications.schemas import ProfileSignatureIn


class ProfileNotTrusted(Forbidden):
    error_type = "ProfileNotTrusted"


def profile_verifier(verify_keys: str, *, max_age_seconds: int) -> ProfileVerifier:
    return ProfileVerifier(parse_verify_keys(verify_keys), max_age=timedelta(seconds=max_age_seconds))


def check_profile_signature(verifier: ProfileVerifier, raw_body: Any, signature: ProfileSignatureIn | None) -> None:
    """``raw_body`` is the request's JSON as received: the signature covers the profile as the
    user service served it, fields this service ignores included."""
    if signature is None:
        raise ProfileNotTrusted("the profile must carry the user service's signature", field="profileSignature")
    profile = raw_body.get("profile") if isinstance(raw_body, dict) else None
    if not isinstance(profile, dict):
        raise ProfileNotTrusted("the profile must carry the user service's signature", field="profileSignature")
    try:
        # real time, as for SigV4 signatures: the business clock may be shifted in tests
        verifier.verify(profile, signed_at=signature.signed_at, signature=signature.signature, now=datetime.now(UTC))
    except ProfileSignatureError as exc:
        raise ProfileNotTrusted(str(exc), field="profileSignature") from exc
