"""The ``nextToken`` of a customer's profile audit: opaque, strictly checked (as the credit
service's audit log's)."""

from __future__ import annotations

import base64
import binascii
import json

from bnpl_common.errors import ValidationFailed
from bnpl_common.timefmt import format_instant, parse_instant

from bnpl_user.staff.model import StaffAuditCursor

_MAX = 300


class InvalidNextToken(ValidationFailed):
    error_type = "InvalidNextToken"


def encode(cursor: StaffAuditCursor) -> str:
    raw = json.dumps([format_instant(cursor.at), cursor.record_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str) -> StaffAuditCursor:
    try:
        if len(token) > _MAX:
            raise ValueError("too long")
        parts = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not (isinstance(parts, list) and len(parts) == 2 and all(isinstance(p, str) and p for p in parts)):
            raise ValueError("not a cursor")
        moment = parse_instant(parts[0])
        if format_instant(moment) != parts[0]:
            raise ValueError("not a cursor")
        return StaffAuditCursor(moment, parts[1])
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error) as exc:
        raise InvalidNextToken("nextToken is not a token this service issued", field="nextToken") from exc
