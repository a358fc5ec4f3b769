"""Standard Webhooks signatures (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``).

The signature is HMAC-SHA256 over ``<id>.<timestamp>.<body>`` with the merchant's secret
(``whsec_<base64>``), written ``v1,<base64>``. During a secret rotation the merchant has two
valid secrets and every message carries one signature per secret, space separated, so a
receiver that still knows only the old secret, or already only the new one, accepts it.
Signing is the ``standardwebhooks`` library's, the one receivers verify with.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook


def signature_headers(secrets: Sequence[str], *, msg_id: str, timestamp: datetime, payload: str) -> dict[str, str]:
    """The three headers of one attempt: same ``msg_id`` on every retry, the attempt's own time."""
    if not secrets:
        raise ValueError("a merchant without a webhook secret cannot be sent webhooks")
    moment = timestamp.astimezone(UTC)  # the library reads the time as UTC
    signatures = [Webhook(secret).sign(msg_id, moment, payload) for secret in secrets]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
