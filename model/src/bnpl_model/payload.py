"""Request bodies of the SageMaker contract -> instances (standard library only).

Shared by the HTTP server (``server.py``) and the SageMaker container handler
(``code/inference.py`` in the package), so both accept exactly the same payloads:

- ``application/json``: ``{"instances": [{feature: value, ...}, ...]}``
- ``text/csv``: one row per instance, no header, columns in the model's
  ``input_features`` order, empty cell = missing.

Errors are ``PayloadError`` with an HTTP ``status_code`` (400 malformed, 415
unsupported media type) and an error ``type``. Bodies are never echoed or logged.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

JSON = "application/json"
CSV = "text/csv"
SUPPORTED = (JSON, CSV)


class PayloadError(ValueError):
    """A request body that cannot be turned into instances."""

    def __init__(self, status_code: int, error_type: str, message: str):
        super().__init__(message)
        self.status_code = status_code
        self.error_type = error_type
        self.message = message


def media_type(content_type: str | None) -> str:
    """``"application/json; charset=utf-8"`` -> ``"application/json"``."""
    return (content_type or "").split(";")[0].strip().lower()


def parse_csv(text: str, feature_names: Sequence[str]) -> list[dict[str, Any]]:
    instances = []
    for lineno, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or (all(not c.strip() for c in row) and len(row) <= 1):
            continue  # blank line
        if len(row) != len(feature_names):
            raise PayloadError(
                400,
                "InvalidInput",
                f"CSV row {lineno} has {len(row)} columns, expected {len(feature_names)} ({','.join(feature_names)})",
            )
        instances.append({n: (c if c.strip() else None) for n, c in zip(feature_names, row, strict=True)})
    if not instances:
        raise PayloadError(400, "InvalidInput", "CSV body has no rows")
    return instances


def parse_instances(body: bytes | str, content_type: str | None, feature_names: Sequence[str]) -> list[Any]:
    """Decode a request body into a list of instances (not yet validated feature by feature)."""
    ctype = media_type(content_type)
    if ctype not in SUPPORTED:
        raise PayloadError(415, "UnsupportedMediaType", "use application/json or text/csv")
    if isinstance(body, bytes | bytearray):
        try:
            text = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            raise PayloadError(400, "MalformedRequest", "body is not UTF-8") from None
    elif isinstance(body, str):
        text = body
    else:
        raise PayloadError(400, "MalformedRequest", "body must be bytes or text")
    if ctype == CSV:
        return parse_csv(text, feature_names)
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PayloadError(400, "MalformedJSON", f"invalid JSON: {exc.msg} at {exc.pos}") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("instances"), list):
        raise PayloadError(400, "InvalidShape", 'body must be {"instances": [{...}, ...]}')
    return payload["instances"]
