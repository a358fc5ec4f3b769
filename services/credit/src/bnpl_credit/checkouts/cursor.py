"""The ``nextToken`` of the merchant's checkout list (opaque; scoped by the store to the merchant)."""

from __future__ import annotations

import base64
import binascii
import json
import re

from bnpl_common.timefmt import format_instant, parse_instant

from bnpl_credit.checkouts.ports import CheckoutCursor
from bnpl_credit.errors import InvalidNextToken

_ID = re.compile(r"chk_[0-9a-f]{24}")


def encode_token(cursor: CheckoutCursor) -> str:
    raw = json.dumps([format_instant(cursor.created_at), cursor.checkout_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str) -> CheckoutCursor:
    try:
        if len(token) > 200:
            raise ValueError("too long")
        parts = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not (isinstance(parts, list) and len(parts) == 2 and all(isinstance(p, str) for p in parts)):
            raise ValueError("not a cursor")
        moment = parse_instant(parts[0])
        if format_instant(moment) != parts[0] or not _ID.fullmatch(parts[1]):
            raise ValueError("not a cursor")
        return CheckoutCursor(moment, parts[1])
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error) as exc:
        raise InvalidNextToken("nextToken is not valid", field="nextToken") from exc
