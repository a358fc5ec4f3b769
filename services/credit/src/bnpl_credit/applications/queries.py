"""The customer's views of their applications."""

from __future__ import annotations

from bnpl_common.clock import Clock

from bnpl_credit.applications.cursor import decode_token, encode_token
from bnpl_credit.applications.ports import ApplicationStore, PageCursor
from bnpl_credit.applications.schemas import ApplicationPage, CreditApplication
from bnpl_credit.errors import ApplicationNotFound


async def get_application(
    store: ApplicationStore, clock: Clock, customer_id: str, *, application_id: str
) -> CreditApplication:
    application = await store.get_application(customer_id, application_id)
    if application is None:
        raise ApplicationNotFound("no such application", field="id")
    return CreditApplication.of(application, clock.now())


async def list_applications(
    store: ApplicationStore, clock: Clock, customer_id: str, *, limit: int, next_token: str | None
) -> ApplicationPage:
    """Newest first; one more than asked is read to know whether there is a next page."""
    after = decode_token(next_token) if next_token else None
    found = await store.list_applications(customer_id, limit=limit + 1, after=after)
    now = clock.now()
    page = found[:limit]
    token = encode_token(PageCursor(page[-1].created_at, page[-1].id)) if len(found) > limit else None
    return ApplicationPage(items=[CreditApplication.of(a, now) for a in page], next_token=token)
