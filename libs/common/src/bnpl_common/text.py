"""Text that people type: what a stored string may contain, and a check for strings that cannot
be encoded at all.

A name or an address line is shown later on a screen, in a log line, in a letter or in a
terminal. Control characters (NUL, ESC of ANSI sequences, CR/LF) forge log lines and repaint
terminals; bidirectional overrides (U+202E) show text in another order than it is stored;
zero-width characters make two different names look the same, or a name look empty. None of
them belongs in a name or an address, so they are refused, never silently removed (a changed
value would be stored without the caller knowing).

Zero-width joiner and non-joiner (U+200D, U+200C) are the exception: Persian and Indic
scripts need them between letters. A value must still hold at least one visible character.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator

# Unicode general categories never accepted: controls, format characters (bidi overrides,
# zero-width space...), surrogates, private use, unassigned, line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_JOINERS = frozenset({"\u200c", "\u200d"})
_VISIBLE_CATEGORY_INITIALS = frozenset("LNPS")  # letters, numbers, punctuation, symbols


def refused_character(value: str) -> str | None:
    """The first character of ``value`` that text fields refuse, if any."""
    for char in value:
        if char not in _JOINERS and unicodedata.category(char) in _REFUSED_CATEGORIES:
            return char
    return None


def check_plain_text(value: str) -> str:
    """``value`` unchanged, or ``ValueError`` naming the first refused character (a pydantic
    ``AfterValidator``: the error becomes a 422 naming the field)."""
    char = refused_character(value)
    if char is not None:
        raise ValueError(f"must not contain control, formatting or invisible characters (found U+{ord(char):04X})")
    if value and not any(unicodedata.category(c)[0] in _VISIBLE_CATEGORY_INITIALS for c in value):
        raise ValueError("must contain at least one visible character")
    return value


PlainText = Annotated[str, AfterValidator(check_plain_text)]
"""A ``str`` field that refuses control and invisible characters (see the module docstring)."""


def _is_surrogate(char: str) -> bool:
    return "\ud800" <= char <= "\udfff"


def unencodable_path(value: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """The path (keys and list indexes) of the first string in a decoded JSON value that holds
    an unpaired surrogate (``"\\ud800"`` is valid JSON, but no UTF-8 can carry it), or None."""
    stack: list[tuple[tuple[str, ...], Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if any(_is_surrogate(c) for c in item):
                return where
        elif isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                if isinstance(key, str) and any(_is_surrogate(c) for c in key):
                    return (*where, key.encode("utf-8", "backslashreplace").decode())
                stack.append(((*where, str(key)), child))
        elif isinstance(item, list | tuple):
            stack.extend(((*where, str(i)), child) for i, child in reversed(list(enumerate(item))))
    return None
