"""Who a profile belongs to across accounts: the person key.

One person may open several accounts (several Cognito users). Credit is lent to people, not to
accounts, so the credit service keeps one credit line per person. A person is named by a keyed
HMAC of what identifies them here: the verified phone number, the family name (normalised) and
the date of birth. The key (``PERSON_KEY_SECRET``) stays in the user service; the credit
service sees only the HMAC, which says "same person" and nothing else (it cannot be turned back
into a number or a name without the key).

Normalising the family name makes "O'Brien", "o brien" and "OBRIEN" one person: Unicode NFKC,
case folded, accents removed, and everything but letters and digits dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from datetime import date

LOCAL_PERSON_KEY_SECRET = "local-only-person-key-secret"  # noqa: S105 - refused with BNPL_ENV=aws


def normalise_family_name(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name).casefold())
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c))


def person_key(secret: str, *, phone_number: str, family_name: str, date_of_birth: date) -> str:
    """The person's key: HMAC-SHA256(secret, number | family name | date of birth), hex."""
    message = "\x1f".join(
        ("person-v1", phone_number, normalise_family_name(family_name), date_of_birth.isoformat())
    ).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
