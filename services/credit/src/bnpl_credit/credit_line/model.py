"""The customer's credit line: the account (limit, currency, version) and the history a
decision and the credit line read from the customer's own applications and plans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Account:
    """The customer's credit line: limit and currency, set at the first approval.

    ``version`` moves with every reservation (approval), so that a reservation computed
    from a snapshot is written only if no other reservation landed in between.
    """

    credit_limit: int
    currency: str
    version: int


@dataclass(frozen=True, slots=True)
class CustomerHistory:
    """The customer's own record with us, as the decision and the credit line need it."""

    late_installments: int
    open_plans_outstanding: int  # in the credit line's currency (or any, before there is a line)
    held_approvals: int
    account: Account | None
    # plans repaid on time and lateness, with their days: how the limit grows (credit_line.growth)
    repaid_on_time: tuple[date, ...] = ()
    late_on: tuple[date, ...] = ()

    @property
    def exposure(self) -> int:
        return self.held_approvals + self.open_plans_outstanding
