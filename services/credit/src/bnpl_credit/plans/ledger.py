"""The plan's ledger: the plan aggregate, all in integer minor units.

Per installment the plan keeps ``amount`` (scheduled, never changes), ``late_fee``,
``credited`` (what refunds took off it), ``rebated`` (interest not earned that was cancelled:
early settlement, withdrawal, a refund's recomputed schedule), ``paid`` (what payments put on
it) and ``returned`` (what was paid and later given back because a refund exceeded what was
owed), so that at every moment::

    due(i)  = amount + lateFee - credited - rebated   >= 0
    net(i)  = paid - returned                      0 <= net(i) <= due(i)
    sum(amount)                = principal + financeCharge
    sum(due)                   = principal + financeCharge + lateFees - credits - rebates   (totalDue)
    sum(payments)              = sum(paid),  sum(refunds' returnedToShopper) = sum(returned)
    amountOutstanding          = totalDue - sum(net)

Lateness is derived: an installment unpaid after ``dueDate + grace_days`` is LATE and gets
one fee, ``min(amount_minor, amount * max_percent_of_installment / 100)``, on the late-fee
terms of the plan's market (:class:`~bnpl_credit.markets.catalog.LateFeeRules`).
:meth:`Plan.mark_late` records that; reads look at
:meth:`Plan.as_of` (a copy), writes (payments, refunds, the sweeper) persist it with
``installment.late``.

:class:`Plan` is the aggregate: only its methods change it, each keeps the equations above,
and ``version`` (the one it was read at) lets the store refuse a change computed from a
stale read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from bnpl_credit.decision.policy import PlanTypeName
from bnpl_credit.errors import CurrencyMismatch, Overpayment, PlanNotActive, RefundExceedsPrincipal
from bnpl_credit.markets.catalog import DisclosedRate, LateFeeRules, MarketCatalog
from bnpl_credit.plans.model import Allocation, InstallmentStatus, Payment, PlanDocument, PlanStatus, Refund


@dataclass(frozen=True, slots=True)
class Installment:
    sequence: int
    due_date: date
    amount: int
    late_fee: int = 0
    credited: int = 0
    paid: int = 0
    returned: int = 0
    late_on: date | None = None  # the day it was marked late (it stays marked once paid)
    rebated: int = 0  # interest not earned, cancelled (early settlement, withdrawal, refund recompute)

    @property
    def due(self) -> int:
        return self.amount + self.late_fee - self.credited - self.rebated

    @property
    def net_paid(self) -> int:
        return self.paid - self.returned

    @property
    def unpaid(self) -> int:
        return self.due - self.net_paid

    def late_after(self, grace_days: int) -> date:
        return self.due_date + timedelta(days=grace_days)

    def status(self, today: date, grace_days: int) -> InstallmentStatus:
        if self.due == 0 and self.credited > 0:
            return InstallmentStatus.REFUNDED
        if self.unpaid <= 0:
            return InstallmentStatus.PAID
        if self.late_on is not None or today > self.late_after(grace_days):
            return InstallmentStatus.LATE
        return InstallmentStatus.DUE

    def was_ever_late(self, today: date, grace_days: int) -> bool:
        """Late now, or marked late once (paying afterwards does not erase it)."""
        return self.late_on is not None or (self.unpaid > 0 and today > self.late_after(grace_days))


@dataclass(frozen=True, slots=True)
class Totals:
    late_fees: int
    credited: int
    rebated: int
    total_due: int
    amount_paid: int
    amount_outstanding: int
    returned_to_shopper: int


@dataclass(frozen=True, slots=True)
class LateMark:
    """An installment :meth:`Plan.mark_late` just marked, with its fee."""

    sequence: int
    due_date: date
    late_fee: int


@dataclass(frozen=True, slots=True)
class RefundOutcome:
    full: bool
    credits: tuple[Allocation, ...]
    returned_to_shopper: int
    returns: tuple[Allocation, ...]


@dataclass(frozen=True, slots=True)
class Recomputation:
    """A refund's recomputed schedule: what each unpaid installment becomes (by sequence; an
    installment not named becomes 0), and how much of the reduction is interest no longer
    earned (the rest is the refund itself)."""

    unpaid: Mapping[int, int]
    interest_cancelled: int


@dataclass(frozen=True, slots=True)
class PlanTerms:
    """What a plan was opened with; never changes."""

    id: str
    customer_id: str
    application_id: str
    plan_type: PlanTypeName
    merchant_id: str
    order_reference: str
    currency: str
    principal: int  # amount financed
    finance_charge: int
    total_of_payments: int
    apr_basis_points: int  # the nominal rate the interest was computed at
    created_at: datetime
    rate: DisclosedRate  # the annual rate disclosed for the plan's own cash flows (APRC or APR)
    market_version: str | None = None  # the market terms it was made under (None: stored before they were recorded)
    documents: tuple[PlanDocument, ...] = ()  # what the shopper accepted, kept with its hash

    @property
    def apr(self) -> float:
        """The nominal rate in percent, e.g. 24.99 (the disclosed one is :attr:`rate`)."""
        return self.apr_basis_points / 100


class Plan:
    """A payment plan: its fixed terms, its installments and where it stands."""

    __slots__ = (
        "_completed_on",
        "_installments",
        "_refunded",
        "_refunded_on",
        "_status",
        "_withdrawn_on",
        "terms",
        "version",
    )

    def __init__(
        self,
        terms: PlanTerms,
        installments: Iterable[Installment],
        *,
        status: PlanStatus = PlanStatus.ACTIVE,
        refunded: int = 0,
        completed_on: date | None = None,
        refunded_on: date | None = None,
        withdrawn_on: date | None = None,
        version: int = 0,
    ) -> None:
        self.terms = terms
        self._withdrawn_on = withdrawn_on
        self._installments = sorted(installments, key=lambda i: i.sequence)
        self._status = status
        self._refunded = refunded
        self._completed_on = completed_on
        self._refunded_on = refunded_on
        self.version = version  # as read from the store (0: not stored yet)
        self._check_balances()

    # -- reading ---------------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self.terms.id

    @property
    def customer_id(self) -> str:
        return self.terms.customer_id

    @property
    def currency(self) -> str:
        return self.terms.currency

    @property
    def status(self) -> PlanStatus:
        return self._status

    @property
    def refunded(self) -> int:
        """Merchant refunds so far (at most the principal)."""
        return self._refunded

    @property
    def completed_on(self) -> date | None:
        return self._completed_on

    @property
    def refunded_on(self) -> date | None:
        return self._refunded_on

    @property
    def withdrawn_on(self) -> date | None:
        """The day the shopper withdrew from the agreement (EU Art. 26, UK s. 66A), if they did."""
        return self._withdrawn_on

    @property
    def installments(self) -> tuple[Installment, ...]:
        return tuple(self._installments)

    def totals(self) -> Totals:
        insts = self._installments
        total_due = sum(i.due for i in insts)
        paid = sum(i.net_paid for i in insts)
        return Totals(
            late_fees=sum(i.late_fee for i in insts),
            credited=sum(i.credited for i in insts),
            rebated=sum(i.rebated for i in insts),
            total_due=total_due,
            amount_paid=paid,
            amount_outstanding=total_due - paid,
            returned_to_shopper=sum(i.returned for i in insts),
        )

    def copy(self) -> Plan:
        """An independent copy (installments are immutable: sharing them is safe)."""
        return Plan(
            self.terms,
            self._installments,
            status=self._status,
            refunded=self._refunded,
            completed_on=self._completed_on,
            refunded_on=self._refunded_on,
            withdrawn_on=self._withdrawn_on,
            version=self.version,
        )

    def as_of(self, today: date, fees: LateFeeRules) -> Plan:
        """A copy of the plan as it stands ``today`` (what reads show)."""
        view = self.copy()
        view.mark_late(today, fees)
        return view

    # -- changing --------------------------------------------------------------------------

    def _settle(self, today: date) -> None:
        """ACTIVE until nothing is owed; then COMPLETED (REFUNDED stays)."""
        if self._status is PlanStatus.REFUNDED:
            return
        if self.totals().amount_outstanding == 0:
            if self._status is not PlanStatus.COMPLETED:
                self._completed_on = today
            self._status = PlanStatus.COMPLETED
        else:
            self._status = PlanStatus.ACTIVE

    def mark_late(self, today: date, fees: LateFeeRules) -> list[LateMark]:
        """Mark installments newly LATE with their fee; what was marked."""
        if self._status is not PlanStatus.ACTIVE:
            return []
        marked = []
        for n, inst in enumerate(self._installments):
            if inst.late_on is not None or inst.unpaid <= 0 or today <= inst.late_after(fees.grace_days):
                continue
            late = replace(inst, late_on=today, late_fee=fees.fee(inst.amount))
            self._installments[n] = late
            marked.append(LateMark(late.sequence, late.due_date, late.late_fee))
        self._check_balances()
        return marked

    def waive_late_fees(self, today: date, *, sequence: int | None = None) -> list[tuple[int, int]]:
        """Take the unpaid part of late fees off (one installment's, or all): (sequence, amount
        waived) of each. A fee already paid stays: giving it back would be a refund."""
        if self._status is not PlanStatus.ACTIVE:
            raise PlanNotActive(f"a {self._status} plan has no late fee to waive", field="planId")
        waived = []
        for n, inst in enumerate(self._installments):
            if inst.late_fee == 0 or (sequence is not None and inst.sequence != sequence):
                continue
            amount = min(inst.late_fee, inst.unpaid)
            if amount > 0:
                self._installments[n] = replace(inst, late_fee=inst.late_fee - amount)
                waived.append((inst.sequence, amount))
        self._check_balances()
        self._settle(today)
        return waived

    def begin(self, due_dates: Sequence[date]) -> None:
        """An AUTHORIZED plan starts (the merchant's first capture): its installments get their
        due dates, the amounts stay."""
        if self._status is not PlanStatus.AUTHORIZED:
            raise PlanNotActive(f"a {self._status} plan has begun already", field="planId")
        if len(due_dates) != len(self._installments):
            raise ValueError("one due date per installment")
        self._installments = [replace(i, due_date=d) for i, d in zip(self._installments, due_dates, strict=True)]
        self._status = PlanStatus.ACTIVE
        self._check_balances()

    def take_payment(
        self, amount: int, currency: str, today: date, *, before_start: bool = False
    ) -> tuple[Allocation, ...]:
        """Put ``amount`` on the oldest unpaid installments first; more than is owed is refused.
        ``before_start``: an AUTHORIZED plan's first part, charged at confirmation; it stays AUTHORIZED."""
        if currency != self.currency:
            raise CurrencyMismatch(f"this plan is in {self.currency}", field="amount.currency")
        allowed = (PlanStatus.ACTIVE, PlanStatus.AUTHORIZED) if before_start else (PlanStatus.ACTIVE,)
        if self._status not in allowed:
            raise Overpayment(
                f"nothing is owed on a {self._status} plan",
                field="amount.amount",
                info={"amountOutstanding": 0, "planStatus": self._status},
            )
        outstanding = self.totals().amount_outstanding
        if amount > outstanding:
            raise Overpayment(
                f"the payment is more than the {outstanding} minor units still owed",
                field="amount.amount",
                info={"amountOutstanding": outstanding},
            )
        remaining = amount
        allocations = []
        for n, inst in enumerate(self._installments):
            if remaining == 0:
                break
            take = min(inst.unpaid, remaining)
            if take <= 0:
                continue
            self._installments[n] = replace(inst, paid=inst.paid + take)
            remaining -= take
            allocations.append(Allocation(inst.sequence, take))
        if self._status is not PlanStatus.AUTHORIZED:
            self._settle(today)
        self._check_balances()
        return tuple(allocations)

    def refund(
        self, amount: int, currency: str, today: date, *, recomputed: Recomputation | None = None
    ) -> RefundOutcome:
        """A merchant refund of ``amount`` of the principal.

        Partial: with ``recomputed`` (a plan with interest), each unpaid installment is brought
        to its recomputed amount: the refund and the interest no longer earned on it come off,
        so interest is charged only on what is still financed. Whatever of the refund is left
        (or all of it, without ``recomputed``) comes off what is still owed, last installments
        first; if more is refunded than is still owed, the rest comes off paid installments
        (last first) and is returned to the shopper. Full (refunds reach the principal): the
        purchase is undone, so every installment is cancelled, finance charge and fees
        included, and everything the shopper paid is returned; the plan ends REFUNDED.
        """
        if currency != self.currency:
            raise CurrencyMismatch(f"this plan is in {self.currency}", field="amount.currency")
        if self._status is PlanStatus.REFUNDED:
            raise PlanNotActive("this plan was refunded in full", field="planId", info={"status": self._status})
        refundable = self.terms.principal - self._refunded
        if amount > refundable:
            raise RefundExceedsPrincipal(
                f"at most {refundable} minor units of this plan's principal can still be refunded",
                field="amount.amount",
                info={"refundable": refundable},
            )
        self._refunded += amount
        full = self._refunded >= self.terms.principal
        last_first = list(reversed(range(len(self._installments))))
        credits: dict[int, int] = {}
        returns: dict[int, int] = {}

        def credit(n: int, value: int) -> None:
            inst = self._installments[n]
            self._installments[n] = replace(inst, credited=inst.credited + value)
            credits[inst.sequence] = credits.get(inst.sequence, 0) + value

        if full:
            for n in last_first:
                if self._installments[n].due > 0:
                    credit(n, self._installments[n].due)
        else:
            remaining = amount
            if recomputed is not None:
                remaining = self._recompute(recomputed, remaining, credit)
            for n in last_first:  # first what is still owed
                take = min(max(self._installments[n].unpaid, 0), remaining)
                if take > 0:
                    credit(n, take)
                    remaining -= take
            for n in last_first:  # then what was paid: returned to the shopper
                take = min(self._installments[n].due, remaining)
                if take > 0:
                    credit(n, take)
                    remaining -= take
        for n in last_first:
            inst = self._installments[n]
            excess = inst.net_paid - inst.due
            if excess > 0:
                self._installments[n] = replace(inst, returned=inst.returned + excess)
                returns[inst.sequence] = excess
        if full:
            self._status = PlanStatus.REFUNDED
            self._refunded_on = today
        else:
            self._settle(today)
        self._check_balances()
        return RefundOutcome(
            full=full,
            credits=tuple(Allocation(s, a) for s, a in sorted(credits.items())),
            returned_to_shopper=sum(returns.values()),
            returns=tuple(Allocation(s, a) for s, a in sorted(returns.items())),
        )

    def _recompute(self, recomputed: Recomputation, refund: int, credit: Callable[[int, int], None]) -> int:
        """Bring each unpaid installment to ``recomputed.unpaid`` (by sequence; absent: 0): the
        interest cancelled comes off as a rebate (last installments first), the rest of each
        reduction as a credit of the refund. What of the refund is left over."""
        interest = recomputed.interest_cancelled
        remaining = refund
        for n in reversed(range(len(self._installments))):
            inst = self._installments[n]
            reduction = max(inst.unpaid, 0) - recomputed.unpaid.get(inst.sequence, 0)
            if reduction <= 0:
                continue
            rebate = min(reduction, interest)
            if rebate:
                interest -= rebate
                self._installments[n] = replace(inst, rebated=inst.rebated + rebate)
            take = min(reduction - rebate, remaining)
            if take > 0:
                credit(n, take)
                remaining -= take
        return remaining

    def cancel_interest(self, amount: int, today: date) -> tuple[Allocation, ...]:
        """Cancel ``amount`` of interest not earned off what is still owed, last installments
        first (the rebate of an early settlement or a withdrawal); at most what is owed."""
        if amount < 0 or amount > self.totals().amount_outstanding:
            raise LedgerInvariantBroken("an interest rebate is between nothing and what is owed")
        left = amount
        rebates = []
        for n in reversed(range(len(self._installments))):
            inst = self._installments[n]
            take = min(max(inst.unpaid, 0), left)
            if take > 0:
                self._installments[n] = replace(inst, rebated=inst.rebated + take)
                rebates.append(Allocation(inst.sequence, take))
                left -= take
        self._settle(today)
        self._check_balances()
        return tuple(sorted(rebates, key=lambda a: a.sequence))

    def give_back(self, amount: int, today: date) -> tuple[Allocation, ...]:
        """Of what was paid, ``amount`` was more than the plan costs (a withdrawal after paying
        ahead): it is cancelled off paid installments, last first, and returned to the shopper.
        Only once nothing is owed; at most what was paid."""
        if self.totals().amount_outstanding != 0 or not 0 <= amount <= self.totals().amount_paid:
            raise LedgerInvariantBroken("only a settled plan gives back, at most what was paid")
        left = amount
        returns = []
        for n in reversed(range(len(self._installments))):
            inst = self._installments[n]
            take = min(inst.net_paid, left)
            if take > 0:
                self._installments[n] = replace(inst, rebated=inst.rebated + take, returned=inst.returned + take)
                returns.append(Allocation(inst.sequence, take))
                left -= take
        self._check_balances()
        return tuple(sorted(returns, key=lambda a: a.sequence))

    def mark_withdrawn(self, today: date) -> None:
        """Record the shopper's withdrawal; the plan must already be settled."""
        if self.totals().amount_outstanding != 0:
            raise LedgerInvariantBroken("a withdrawal settles the plan first")
        self._withdrawn_on = today
        self._settle(today)

    # -- checking --------------------------------------------------------------------------

    def _check_balances(self) -> None:
        """The equations of the module docstring that the plan alone can check."""
        terms = self.terms
        t = self.totals()
        _require(
            sum(i.amount for i in self._installments) == terms.principal + terms.finance_charge,
            "installments do not add up to principal + finance charge",
        )
        _require(terms.principal + terms.finance_charge == terms.total_of_payments, "total of payments is off")
        _require(
            t.total_due == terms.principal + terms.finance_charge + t.late_fees - t.credited - t.rebated,
            "total due is off",
        )
        for i in self._installments:
            _require(0 <= i.credited <= i.amount + i.late_fee, f"installment {i.sequence}: credited out of range")
            _require(i.rebated >= 0 and i.due >= 0, f"installment {i.sequence}: rebated out of range")
            _require(0 <= i.net_paid <= i.due, f"installment {i.sequence}: paid out of range")
        _require(0 <= self._refunded <= terms.principal, "refunded out of range")

    def check_invariants(self, payments: Sequence[Payment], refunds: Sequence[Refund]) -> None:
        """Raise :class:`LedgerInvariantBroken` unless the plan's money adds up, with its
        payments and refunds as stored (the contract tests run it on both adapters)."""
        self._check_balances()
        insts = self._installments
        _require(sum(p.amount for p in payments) == sum(i.paid for i in insts), "payments != paid")
        _require(
            sum(r.returned_to_shopper for r in refunds) == self.totals().returned_to_shopper, "returns != returned"
        )
        _require(sum(r.amount for r in refunds) == self._refunded, "refunds != refunded")


def late_fee_terms(markets: MarketCatalog, plan: Plan) -> LateFeeRules:
    """The late-fee terms of the market version ``plan`` was made under."""
    return markets.late_fees(plan.currency, plan.terms.market_version)


class LedgerInvariantBroken(AssertionError):
    """The plan's money does not add up: a bug, never a customer's doing (so never a 4xx)."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise LedgerInvariantBroken(message)
