"""Staff reads of profiles through the real service functions, on both adapters (SQLite file,
DynamoDB on the moto server): lookup by e-mail (a changed e-mail no longer matches), verified
phone number or id, masked; the full profile only with a reason; every read in the staff audit
log, which SQLite refuses to change."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import anyio
import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.idempotency import StoredResponse
from bnpl_common.jwt import Principal
from bnpl_user.profiles.model import Profile
from bnpl_user.profiles.schemas import ProfileInput
from bnpl_user.staff import service
from bnpl_user.staff.cursor import InvalidNextToken
from bnpl_user.staff.model import StaffAction, mask_email, mask_phone
from bnpl_user.storage.dynamodb import DynamoUserStore
from bnpl_user.storage.port import UserStore
from bnpl_user.storage.sqlite import SqliteUserStore
from bnpl_user.testing import profile_input
from bnpl_user.verification.model import NumberOwner
from bnpl_user.verification.service import destination_key

T = TypeVar("T")
NOW = datetime(2026, 3, 15, 12, 0, 0, tzinfo=UTC)
PEPPER = "test-pepper"
REVIEWER = Principal("rev-1", "rev-1", "c", "t", ("operations",))


def run(fn: Callable[[], Awaitable[T]]) -> T:
    return anyio.run(fn)


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UserStore]:
    adapter: UserStore
    if request.param == "sqlite":
        adapter = SqliteUserStore(tmp_path / "user.sqlite3")
    else:
        adapter = DynamoUserStore(request.getfixturevalue("dynamodb_client"), request.getfixturevalue("dynamodb_table"))
    run(adapter.prepare)
    yield adapter


async def _created(store: UserStore, sub: str, email: str, phone: str, *, verified: bool = True) -> Profile:
    details = ProfileInput.model_validate(profile_input(email=email, phoneNumber=phone)).to_details()
    profile = Profile(sub=sub, details=details, phone_verified=False, created_at=NOW, updated_at=NOW)
    await store.create_profile(profile, key=f"k-{sub}-0001", response=StoredResponse("fp", 201, {}))
    if verified:
        await store.claim_number(destination_key(PEPPER, phone), NumberOwner(sub, f"person-{sub}"))
        stored = await store.get_profile(sub)
        assert stored is not None
        await store.save_profile(replace(stored, phone_verified=True))
    stored = await store.get_profile(sub)
    assert stored is not None
    return stored


def test_lookup_by_email_phone_or_id_is_masked_and_audited(store: UserStore) -> None:
    async def scenario() -> None:
        clock = FixedClock(NOW)
        ada = await _created(store, "ada", "Ada@Example.com", "+447700900789")
        await _created(store, "bob", "bob@example.com", "+447700900111", verified=False)

        by_email = await service.lookup(store, clock, REVIEWER, pepper=PEPPER, email="ada@example.COM")
        assert [m.customer_id for m in by_email] == ["ada"]
        assert by_email[0].email == "A***@Example.com" and by_email[0].phone_number == "+44*******789"
        assert by_email[0].family_initial == "L"
        by_phone = await service.lookup(store, clock, REVIEWER, pepper=PEPPER, phone="+447700900789")
        assert [m.customer_id for m in by_phone] == ["ada"]
        # an unverified number finds nobody: numbers are looked up by who verified them
        assert await service.lookup(store, clock, REVIEWER, pepper=PEPPER, phone="+447700900111") == []
        assert [
            m.customer_id for m in await service.lookup(store, clock, REVIEWER, pepper=PEPPER, customer_id="bob")
        ] == ["bob"]

        # a changed e-mail no longer matches the old one
        await store.save_profile(replace(ada, details=replace(ada.details, email="ada@new.example")))
        assert await service.lookup(store, clock, REVIEWER, pepper=PEPPER, email="ada@example.com") == []
        moved = await service.lookup(store, clock, REVIEWER, pepper=PEPPER, email="ada@new.example")
        assert [m.customer_id for m in moved] == ["ada"]

        records = await store.list_staff_audit("ada", limit=10)
        assert [r.action for r in records] == [StaffAction.PROFILES_SEARCHED] * 3
        assert all(r.actor == "rev-1" and "ada@" not in str(r.details) for r in records)
        mine = await store.list_staff_audit("staff:rev-1", limit=20)
        assert len(mine) == 6  # every lookup, the ones that found nobody too

    run(scenario)


def test_the_full_profile_is_read_for_a_reason_and_recorded(store: UserStore) -> None:
    async def scenario() -> None:
        clock = FixedClock(NOW)
        await _created(store, "cy", "cy@example.com", "+447700900222")
        full = await service.view_profile(
            store, clock, REVIEWER, customer_id="cy", reason="income check", case_id="c-1"
        )
        assert full.family_name == "Lovelace" and full.phone_number == "+447700900222"
        [record] = await store.list_staff_audit("cy", limit=10)
        assert record.action is StaffAction.PROFILE_VIEWED
        assert (record.reason, record.case_id, record.actor_groups) == ("income check", "c-1", ("operations",))
        with pytest.raises(service.CustomerNotFound):
            await service.view_profile(store, clock, REVIEWER, customer_id="nobody", reason="income", case_id=None)

    run(scenario)


def test_sqlite_staff_audit_records_cannot_be_changed(tmp_path: Path) -> None:
    store = SqliteUserStore(tmp_path / "user.sqlite3")
    run(store.prepare)

    async def view() -> None:
        await _created(store, "dee", "dee@example.com", "+447700900333")
        await service.view_profile(store, FixedClock(NOW), REVIEWER, customer_id="dee", reason="a reason", case_id=None)

    run(view)
    conn = sqlite3.connect(tmp_path / "user.sqlite3")
    for statement in (
        "UPDATE staff_audit SET doc = '{}'",
        "DELETE FROM staff_audit",
        "UPDATE staff_audit_customers SET customer_id = 'x'",
        "DELETE FROM staff_audit_customers",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(statement)
    conn.close()


def test_masks() -> None:
    assert mask_email("ana@example.com") == "a***@example.com" and mask_email(None) is None
    assert mask_phone("+34600000001") == "+34******001"


def test_a_customers_profile_audit_is_read_a_page_at_a_time(store: UserStore) -> None:
    """Newest first, ``limit`` at a time, each record once; records of one instant are ordered
    by id; a token this service did not issue is refused naming ``nextToken``."""

    async def scenario() -> None:
        clock = FixedClock(NOW)
        await _created(store, "dee", "dee@example.com", "+447700900333")
        for n in range(5):
            await service.view_profile(store, clock, REVIEWER, customer_id="dee", reason=f"call {n}", case_id=None)
            if n != 2:  # two records at one instant: the page boundary falls between them below
                clock.advance(timedelta(minutes=1))
        seen: list[str | None] = []
        token: str | None = None
        pages = 0
        while True:
            page = await service.audit_of(store, customer_id="dee", limit=2, next_token=token)
            assert len(page.items) <= 2
            seen += [r.reason for r in page.items]
            pages += 1
            token = page.next_token
            if token is None:
                break
        assert pages == 3
        assert seen[0] == "call 4" and sorted(seen[1:3]) == ["call 2", "call 3"]  # one instant, split
        assert seen[3:] == ["call 1", "call 0"]
        with pytest.raises(InvalidNextToken) as refused:
            await service.audit_of(store, customer_id="dee", limit=2, next_token="not-a-token")
        assert refused.value.field == "nextToken" and refused.value.status_code == 422

    run(scenario)
