"""The ``nextToken`` of the application list: an opaque, strictly checked page cursor."""

from __future__ import annotations

import base64
import binascii
import json
import uuid

from bnpl_common.timefmt import format_instant, parse_instant

from bnpl_credit.applications.ports import PageCursor
from bnpl_credit.errors import InvalidNextToken

_MAX_TOKEN_LENGTH = 200


def encode_token(cursor: PageCursor) -> str:
    raw = json.dumps([format_instant(cursor.created_at), cursor.application_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str) -> PageCursor:
    """The cursor of :func:`encode_token`, checked strictly: exactly two strings, a timestamp as
    this service writes them and a UUID; anything else is a 422 on ``nextToken``, never a 500.
    The cursor only pages through the caller's own applications (the store scopes the query by
    customer), so it needs no secret."""
    try:
        if len(token) > _MAX_TOKEN_LENGTH:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        parts = json.loads(raw)
        if not (isinstance(parts, list) and len(parts) == 2 and all(isinstance(part, str) for part in parts)):
            raise ValueError("not a cursor")
        created_at, application_id = parts
        moment = parse_instant(created_at)
        if format_instant(moment) != created_at or str(uuid.UUID(application_id)) != application_id:
            raise ValueError("not a cursor")
        return PageCursor(moment, application_id)
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error) as exc:
        raise InvalidNextToken("nextToken is not valid", field="nextToken") from exc
