"""Calendar arithmetic on plain dates."""

from __future__ import annotations

from datetime import date


def age_on(born: date, today: date) -> int:
    """Completed years on ``today``; someone born on 29 February turns a year older on 1 March
    in years without one."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
