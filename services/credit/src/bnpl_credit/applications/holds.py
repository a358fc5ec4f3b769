"""The hold of an approval after the decision: cancelled by the shopper, or expired by the
sweeper once ``expiresAt`` passed (confirming it into a plan is ``plans.confirm``).

Reads show EXPIRED from ``expiresAt`` on anyway (:meth:`Application.status_at`); the sweeper
makes it stored and announced. The store moves an approval only if it is still APPROVED, so of
a cancel, a confirm and an expiry exactly one wins.
"""

from __future__ import annotations

import logging

from bnpl_common.clock import Clock
from bnpl_common.retry import retry_on_contention
from bnpl_common.timefmt import format_instant

from bnpl_credit.applications.model import Application, ApplicationStatus
from bnpl_credit.applications.ports import ApplicationStore
from bnpl_credit.applications.schemas import CreditApplication
from bnpl_credit.errors import ApplicationNotFound, ConcurrentUpdate, InvalidApplicationState
from bnpl_credit.events.model import Event, EventType

log = logging.getLogger("bnpl.credit.applications")

EXPIRY_BATCH = 100


def _released(application: Application) -> dict[str, object] | None:
    """The hold an event says was released (None for applications stored before holds were)."""
    if application.hold is None:
        return None
    return {"amount": application.hold, "currency": application.order.currency}


async def cancel_application(
    store: ApplicationStore, clock: Clock, customer_id: str, *, application_id: str
) -> CreditApplication:
    """Withdraw an approval that is not yet confirmed (its hold is released); twice is harmless."""

    async def attempt() -> CreditApplication:
        now = clock.now()
        application = await store.get_application(customer_id, application_id)
        if application is None:
            raise ApplicationNotFound("no such application", field="id")
        if application.status is ApplicationStatus.CANCELLED:
            return CreditApplication.of(application, now)
        cancelled = application.cancel(now)  # InvalidApplicationState unless it still holds
        event = Event.new(
            EventType.APPLICATION_CANCELLED,
            now=now,
            customer_id=customer_id,
            data={"applicationId": application_id, "released": _released(application)},
        )
        if await store.save_cancellation(cancelled, events=[event]):
            log.info("application cancelled", extra={"application_id": application_id})
            return CreditApplication.of(cancelled, now)
        # moved meanwhile: a cancel that raced this one is fine, anything else is not
        current = await store.get_application(customer_id, application_id) or application
        status = current.status_at(now)
        if status is ApplicationStatus.CANCELLED:
            return CreditApplication.of(current, now)
        raise InvalidApplicationState(
            f"an application that is {status} cannot be cancelled", field="id", info={"status": status}
        )

    return await retry_on_contention(attempt)


async def expire_approvals(store: ApplicationStore, clock: Clock, *, batch: int = EXPIRY_BATCH) -> int:
    """Write back approvals whose hold ended: status EXPIRED (the hold is released) and an
    ``application.expired`` event, in one transaction each; how many were expired."""
    now = clock.now()
    expired = 0
    seen: set[str] = set()
    while True:
        due = await store.list_expired_approvals(now=now, limit=batch)
        fresh = [application for application in due if application.id not in seen]
        for application in fresh:
            seen.add(application.id)
            event = Event.new(
                EventType.APPLICATION_EXPIRED,
                now=now,
                customer_id=application.customer_id,
                data={
                    "applicationId": application.id,
                    "expiresAt": format_instant(application.expires_at) if application.expires_at else None,
                    "released": _released(application),
                },
            )
            try:
                if not await store.save_expiry(application.expire(now), events=[event]):
                    continue  # confirmed, cancelled or expired meanwhile
            except ConcurrentUpdate:
                continue  # another write got in the way; the next sweep finds it again
            expired += 1
            log.info("application expired", extra={"application_id": application.id})
        # a short page is the last; a page of ones already tried (an index lagging behind the
        # table) ends this sweep too: the next one finds what is left
        if len(due) < batch or not fresh:
            return expired
