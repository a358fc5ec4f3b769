"""JSON documents of payment profiles and plan collections (both storage adapters use them)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bnpl_common.timefmt import format_instant, parse_instant

from bnpl_credit.collections.model import InstallmentCollection, PaymentProfile, PlanCollection, SavedMethod


def profile_doc(profile: PaymentProfile) -> dict[str, Any]:
    method = profile.method
    return {
        "customerId": profile.customer_id,
        "pspCustomerId": profile.psp_customer_id,
        "setups": list(profile.setups),
        "method": None
        if method is None
        else {
            "paymentMethodId": method.payment_method_id,
            "type": method.type,
            "brand": method.brand,
            "last4": method.last4,
            "expMonth": method.exp_month,
            "expYear": method.exp_year,
            "savedAt": format_instant(method.saved_at),
        },
    }


def profile_from_doc(doc: dict[str, Any]) -> PaymentProfile:
    m = doc.get("method")
    method = (
        None
        if not m
        else SavedMethod(
            payment_method_id=str(m["paymentMethodId"]),
            type=str(m["type"]),
            brand=str(m["brand"]),
            last4=str(m["last4"]),
            exp_month=None if m.get("expMonth") is None else int(m["expMonth"]),
            exp_year=None if m.get("expYear") is None else int(m["expYear"]),
            saved_at=parse_instant(str(m["savedAt"])),
        )
    )
    return PaymentProfile(
        customer_id=str(doc["customerId"]),
        psp_customer_id=str(doc["pspCustomerId"]),
        method=method,
        setups=tuple(str(s) for s in doc.get("setups") or ()),
    )


def collection_doc(collection: PlanCollection) -> dict[str, Any]:
    return {
        "planId": collection.plan_id,
        "customerId": collection.customer_id,
        "installments": [
            {
                "sequence": i.sequence,
                "attempts": i.attempts,
                "nextAttemptOn": None if i.next_attempt_on is None else i.next_attempt_on.isoformat(),
                "lastDecline": i.last_decline,
                "remindedFor": list(i.reminded_for),
            }
            for i in collection.installments
        ],
    }


def collection_from_doc(doc: dict[str, Any], version: int) -> PlanCollection:
    return PlanCollection(
        plan_id=str(doc["planId"]),
        customer_id=str(doc["customerId"]),
        installments=tuple(
            InstallmentCollection(
                sequence=int(i["sequence"]),
                attempts=int(i["attempts"]),
                next_attempt_on=None if i.get("nextAttemptOn") is None else date.fromisoformat(i["nextAttemptOn"]),
                last_decline=i.get("lastDecline"),
                reminded_for=tuple(str(d) for d in i.get("remindedFor") or ()),
            )
            for i in doc.get("installments") or ()
        ),
        version=version,
    )
