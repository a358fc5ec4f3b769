"""Stripe's request encoding: ``application/x-www-form-urlencoded`` with bracketed keys
(``metadata[k]=v``, ``allowed_payment_method_types[0]=card``), decoded into nested dicts and lists."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_PART = re.compile(r"\[([^\]]*)\]")


class FormError(ValueError):
    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


def decode_form(body: bytes) -> dict[str, Any]:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise FormError("the request body is not UTF-8", "body") from exc
    root: dict[str, Any] = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        parts = [head, *_PART.findall("[" + rest)] if rest else [head]
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise FormError(f"invalid parameter {key}", key)
        node[parts[-1]] = value
    decoded = _lists(root)
    if not isinstance(decoded, dict):
        raise FormError("parameters must have names", "body")
    return decoded


def _lists(node: Any) -> Any:
    """Dicts keyed 0..n-1 become lists."""
    if not isinstance(node, dict):
        return node
    converted = {k: _lists(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        indexes = sorted(converted, key=int)
        if [int(i) for i in indexes] == list(range(len(indexes))):
            return [converted[i] for i in indexes]
    return converted
