"""Payment methods on file and charging installments through the PSP.

A shopper saves a method on the PSP's own page (``start_setup`` -> the PSP's page ->
``complete_setup``); we keep only the PSP's ids, brand, last four digits and expiry. Charges are
off-session with the installment's idempotency key, so a retried charge never charges twice.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from bnpl_common.clock import Clock
from bnpl_common.errors import ValidationFailed
from bnpl_common.money import Money

from bnpl_credit.collections.model import (
    PaymentMethodRequired,
    PaymentProfile,
    SavedMethod,
    SetupNotCompleted,
    SetupNotFound,
    installment_key,
)
from bnpl_credit.collections.ports import PaymentStore
from bnpl_credit.psp.port import PaymentServiceProvider
from bnpl_credit.psp.records import ChargeResult, PaymentMethodType, SetupSession, SetupStatus

log = logging.getLogger("bnpl.credit.collections")

MAX_SETUPS_KEPT = 10


@dataclass(frozen=True, slots=True)
class Collector:
    """What charging needs, built once per process (``app.state.collector``)."""

    psp: PaymentServiceProvider
    return_origins: tuple[str, ...]  # where the PSP's page may send the shopper back


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


async def _profile(store: PaymentStore, psp: PaymentServiceProvider, customer_id: str) -> PaymentProfile:
    profile = await store.get_payment_profile(customer_id)
    if profile is not None:
        return profile
    customer = await psp.create_customer(reference=customer_id, idempotency_key=f"customer-{customer_id}")
    profile = PaymentProfile(customer_id=customer_id, psp_customer_id=customer.id)
    await store.save_payment_profile(profile)
    return profile


async def start_setup(
    store: PaymentStore,
    collector: Collector,
    customer_id: str,
    *,
    return_url: str,
    method: PaymentMethodType = PaymentMethodType.CARD,
) -> SetupSession:
    """Begin saving a card (or a SEPA mandate): the shopper enters it on the PSP's page and comes
    back to ``return_url``."""
    parts = urlsplit(return_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or _origin(return_url) not in collector.return_origins:
        raise ValidationFailed("returnUrl must be an address of the checkout page", field="returnUrl")
    profile = await _profile(store, collector.psp, customer_id)
    session = await collector.psp.start_setup(
        customer_id=profile.psp_customer_id,
        method=method,
        return_url=return_url,
        idempotency_key=f"setup-{uuid.uuid4()}",
    )
    await store.save_setup_owner(session.setup_id, customer_id)  # the PSP's webhook names only the setup
    setups = (*profile.setups, session.setup_id)[-MAX_SETUPS_KEPT:]
    await store.save_payment_profile(replace(profile, setups=setups))
    log.info("payment method setup started", extra={"setup_id": session.setup_id})
    return session


async def complete_setup(
    store: PaymentStore, collector: Collector, clock: Clock, customer_id: str, *, setup_id: str
) -> SavedMethod:
    """The shopper came back from the PSP's page: keep the method the setup saved (it replaces
    the one on file)."""
    profile = await store.get_payment_profile(customer_id)
    if profile is None or setup_id not in profile.setups:
        raise SetupNotFound("no such payment method setup", field="setupId")
    state = await collector.psp.get_setup(setup_id)
    if state.customer_id not in (None, profile.psp_customer_id):
        raise SetupNotFound("no such payment method setup", field="setupId")
    if state.status is not SetupStatus.SUCCEEDED or not state.payment_method_id:
        raise SetupNotCompleted(
            "the payment method was not accepted; add it again or use another one",
            field="setupId",
            info={"status": str(state.status), **({"errorCode": state.error_code} if state.error_code else {})},
        )
    pm = await collector.psp.get_payment_method(state.payment_method_id)
    method = SavedMethod(
        payment_method_id=pm.id,
        type=str(pm.type),
        brand=pm.brand,
        last4=pm.last4,
        exp_month=pm.exp_month,
        exp_year=pm.exp_year,
        saved_at=clock.now(),
    )
    await store.save_payment_profile(replace(profile, method=method))
    log.info("payment method saved", extra={"setup_id": setup_id})
    return method


async def method_on_file(store: PaymentStore, customer_id: str) -> PaymentProfile:
    """The customer's profile with a method on file, else ``PaymentMethodRequired``."""
    profile = await store.get_payment_profile(customer_id)
    if profile is None or profile.method is None:
        raise PaymentMethodRequired("add a payment method before confirming", field="paymentMethod")
    return profile


async def charge_installment(
    collector: Collector,
    profile: PaymentProfile,
    *,
    plan_id: str,
    sequence: int,
    amount: Money,
    attempt: int = 1,
) -> ChargeResult:
    """Charge one installment off-session. The key is the installment's (a retry after a
    decline is a new attempt, so it gets its own), so charging again never charges twice."""
    if profile.method is None:
        raise PaymentMethodRequired("no payment method on file", field="paymentMethod")
    key = installment_key(plan_id, sequence)
    if attempt > 1:
        key = f"{key}-attempt-{attempt}"
    result = await collector.psp.charge(
        customer_id=profile.psp_customer_id,
        payment_method_id=profile.method.payment_method_id,
        amount=amount,
        idempotency_key=key,
        description=f"installment {sequence} of plan {plan_id}",
    )
    log.info(
        "installment charged",
        extra={"plan_id": plan_id, "sequence": sequence, "status": str(result.status), "attempt": attempt},
    )
    return result
