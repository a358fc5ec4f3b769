"""REST JSON (camelCase, as the GraphQL fields) to Strawberry objects and back.

The services and the schema use the same field names (docs/contracts.md), so one
generic mapping replaces a hand-written converter per type.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
from enum import Enum
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

import strawberry
from strawberry.utils.str_converters import to_camel_case

T = TypeVar("T")


@cache
def _init_fields(cls: type) -> tuple[tuple[str, Any], ...]:
    """(name, type) of each field the Strawberry type ``cls`` takes in its constructor."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a Strawberry type")
    hints = get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls) if f.init and f.name in hints)


def _convert(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(tp) if a is not type(None)]
        return _convert(inner[0], value) if len(inner) == 1 else value
    if origin is list:
        (item,) = get_args(tp)
        return [_convert(item, v) for v in value]
    if isinstance(tp, type):
        if dataclasses.is_dataclass(tp):
            return build(tp, value)
        if issubclass(tp, Enum):
            return tp(value)
        if tp is dt.datetime:
            return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
        if tp is dt.date:
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
        if tp is int and isinstance(value, float) and value.is_integer():
            return int(value)
    return value


def build(cls: type[T], data: dict[str, Any]) -> T:
    """A Strawberry type from a service's JSON object; unknown keys are ignored."""
    kind: type = cls  # the cache needs a hashable argument, which a bare ``type[T]`` is not to mypy
    kwargs = {name: _convert(tp, data.get(to_camel_case(name))) for name, tp in _init_fields(kind)}
    return cls(**kwargs)


def to_json(value: Any) -> Any:
    """A Strawberry input as the JSON body a service expects; unset fields are left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            to_camel_case(f.name): to_json(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not strawberry.UNSET
        }
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value
