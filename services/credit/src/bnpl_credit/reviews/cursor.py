"""The ``nextToken`` of the review queue and of the audit log: opaque, strictly checked."""

from __future__ import annotations

import base64
import binascii
import json

from bnpl_common.timefmt import format_instant, parse_instant

from bnpl_credit.errors import InvalidNextToken
from bnpl_credit.reviews.ports import AuditCursor, CaseCursor

_MAX = 300


def encode(moment_text: str, ident: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([moment_text, ident]).encode()).decode().rstrip("=")


def _decode(token: str) -> tuple[str, str]:
    try:
        if len(token) > _MAX:
            raise ValueError("too long")
        parts = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not (isinstance(parts, list) and len(parts) == 2 and all(isinstance(p, str) and p for p in parts)):
            raise ValueError("not a cursor")
        moment = parse_instant(parts[0])
        if format_instant(moment) != parts[0]:
            raise ValueError("not a cursor")
        return parts[0], parts[1]
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error) as exc:
        raise InvalidNextToken("nextToken is not a token this service issued", field="nextToken") from exc


def case_cursor(token: str) -> CaseCursor:
    moment, ident = _decode(token)
    return CaseCursor(parse_instant(moment), ident)


def audit_cursor(token: str) -> AuditCursor:
    moment, ident = _decode(token)
    return AuditCursor(parse_instant(moment), ident)
