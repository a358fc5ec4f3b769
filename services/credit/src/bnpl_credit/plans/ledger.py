"""The plan's ledger: pure functions over a stored plan document, all in integer minor units.

Per installment the document keeps ``amount`` (scheduled, never changes), ``lateFee``,
``credited`` (what refunds took off it), ``paid`` (what payments put on it) and
``returned`` (what was paid and later given back because a refund exceeded what was owed),
so that at every moment::

    due(i)  = amount + lateFee - credited          >= 0
    net(i)  = paid - returned                      0 <= net(i) <= due(i)
    sum(amount)                = principal + financeCharge
    sum(due)                   = principal + financeCharge + lateFees - credits   (totalDue)
    sum(payments)              = sum(paid),  sum(refunds' returnedToShopper) = sum(returned)
    amountOutstanding          = totalDue - sum(net)

Lateness is derived: an installment unpaid after ``dueDate + grace_days`` is LATE and gets
one fee (policy-capped). :func:`apply_lateness` writes that into the document; reads run it
on a copy, writes (payments, refunds, the sweeper) persist it with ``installment.late``.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

from bnpl_credit.decision.policy import LateFees


def due(inst: dict[str, Any]) -> int:
    return int(inst["amount"] + inst["lateFee"] - inst["credited"])


def net_paid(inst: dict[str, Any]) -> int:
    return int(inst["paid"] - inst["returned"])


def unpaid(inst: dict[str, Any]) -> int:
    return due(inst) - net_paid(inst)


def late_after(inst: dict[str, Any], grace_days: int) -> date:
    return date.fromisoformat(inst["dueDate"]) + timedelta(days=grace_days)


def installment_status(inst: dict[str, Any], today: date, grace_days: int) -> str:
    if due(inst) == 0 and inst["credited"] > 0:
        return "REFUNDED"
    if unpaid(inst) <= 0:
        return "PAID"
    if inst.get("lateAt") or today > late_after(inst, grace_days):
        return "LATE"
    return "DUE"


def was_ever_late(inst: dict[str, Any], today: date, grace_days: int) -> bool:
    """Late now, or marked late once (paying afterwards does not erase it)."""
    return bool(inst.get("lateAt")) or (unpaid(inst) > 0 and today > late_after(inst, grace_days))


def totals(plan: dict[str, Any]) -> dict[str, int]:
    insts = plan["installments"]
    late_fees = sum(i["lateFee"] for i in insts)
    total_due = sum(due(i) for i in insts)
    paid = sum(net_paid(i) for i in insts)
    return {
        "lateFees": late_fees,
        "credited": sum(i["credited"] for i in insts),
        "totalDue": total_due,
        "amountPaid": paid,
        "amountOutstanding": total_due - paid,
        "returnedToShopper": sum(i["returned"] for i in insts),
    }


def settle_status(plan: dict[str, Any], today: date) -> None:
    """ACTIVE until nothing is owed; then COMPLETED (REFUNDED stays)."""
    if plan["status"] == "REFUNDED":
        return
    if totals(plan)["amountOutstanding"] == 0:
        if plan["status"] != "COMPLETED":
            plan["completedOn"] = today.isoformat()
        plan["status"] = "COMPLETED"
    else:
        plan["status"] = "ACTIVE"


def apply_lateness(plan: dict[str, Any], today: date, fees: LateFees) -> list[dict[str, Any]]:
    """Mark installments newly LATE with their fee (mutates ``plan``); what was marked."""
    if plan["status"] != "ACTIVE":
        return []
    marked = []
    for inst in plan["installments"]:
        if inst.get("lateAt") or unpaid(inst) <= 0 or today <= late_after(inst, fees.grace_days):
            continue
        inst["lateAt"] = today.isoformat()
        inst["lateFee"] = fees.fee(inst["amount"], plan["currency"])
        marked.append({"sequence": inst["sequence"], "dueDate": inst["dueDate"], "lateFee": inst["lateFee"]})
    return marked


def with_lateness(plan: dict[str, Any], today: date, fees: LateFees) -> dict[str, Any]:
    """A copy of ``plan`` as it stands today (what reads show)."""
    view = copy.deepcopy(plan)
    apply_lateness(view, today, fees)
    return view


def allocate_payment(plan: dict[str, Any], amount: int, today: date) -> list[dict[str, int]]:
    """Put ``amount`` on the oldest unpaid installments first (mutates ``plan``).

    The caller has checked ``amount <= amountOutstanding``.
    """
    remaining = amount
    allocations = []
    for inst in sorted(plan["installments"], key=lambda i: i["sequence"]):
        if remaining == 0:
            break
        take = min(unpaid(inst), remaining)
        if take <= 0:
            continue
        inst["paid"] += take
        remaining -= take
        allocations.append({"sequence": inst["sequence"], "amount": take})
    if remaining:
        raise ValueError("payment exceeds what is owed")
    settle_status(plan, today)
    return allocations


def apply_refund(plan: dict[str, Any], amount: int, today: date) -> dict[str, Any]:
    """A merchant refund of ``amount`` (of the principal; mutates ``plan``).

    Partial: the amount comes off what is still owed, last installments first; if more is
    refunded than is still owed, the rest comes off paid installments (last first) and is
    returned to the shopper. Full (refunds reach the principal): the purchase is undone, so
    every installment is cancelled, finance charge and fees included, and everything the
    shopper paid is returned; the plan ends REFUNDED.
    """
    plan["refunded"] = plan.get("refunded", 0) + amount
    full = plan["refunded"] >= plan["principal"]
    ordered = sorted(plan["installments"], key=lambda i: i["sequence"], reverse=True)
    credits: dict[int, int] = {}
    returns: dict[int, int] = {}

    def credit(inst: dict[str, Any], value: int) -> None:
        inst["credited"] += value
        credits[inst["sequence"]] = credits.get(inst["sequence"], 0) + value

    if full:
        for inst in ordered:
            if due(inst) > 0:
                credit(inst, due(inst))
    else:
        remaining = amount
        for inst in ordered:  # first what is still owed
            take = min(max(unpaid(inst), 0), remaining)
            if take > 0:
                credit(inst, take)
                remaining -= take
        for inst in ordered:  # then what was paid: returned to the shopper
            take = min(due(inst), remaining)
            if take > 0:
                credit(inst, take)
                remaining -= take
    for inst in ordered:
        excess = net_paid(inst) - due(inst)
        if excess > 0:
            inst["returned"] += excess
            returns[inst["sequence"]] = excess
    if full:
        plan["status"] = "REFUNDED"
        plan["refundedOn"] = today.isoformat()
    else:
        settle_status(plan, today)
    return {
        "full": full,
        "credits": [{"sequence": s, "amount": a} for s, a in sorted(credits.items())],
        "returnedToShopper": sum(returns.values()),
        "returns": [{"sequence": s, "amount": a} for s, a in sorted(returns.items())],
    }


def check_invariants(plan: dict[str, Any], payments: list[dict[str, Any]], refunds: list[dict[str, Any]]) -> None:
    """Raise AssertionError unless the plan's money adds up (tests, and a guard before writes)."""
    insts = plan["installments"]
    t = totals(plan)
    assert sum(i["amount"] for i in insts) == plan["principal"] + plan["financeCharge"] == plan["totalOfPayments"]
    assert t["totalDue"] == plan["principal"] + plan["financeCharge"] + t["lateFees"] - t["credited"]
    for i in insts:
        assert 0 <= i["credited"] <= i["amount"] + i["lateFee"], i
        assert 0 <= net_paid(i) <= due(i), i
    assert sum(p["amount"]["amount"] for p in payments) == sum(i["paid"] for i in insts)
    assert sum(r["returnedToShopper"]["amount"] for r in refunds) == t["returnedToShopper"]
    assert sum(r["amount"]["amount"] for r in refunds) == plan.get("refunded", 0) <= plan["principal"]
    assert t["amountOutstanding"] >= 0
