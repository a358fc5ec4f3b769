"""Hardening items of the credit service on both storage adapters: one person, one credit line
(item 3), review after a decline on changed finances (item 4), and the signed profile snapshot
(item 10, over HTTP)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.profile_signature import ProfileSigner, private_key
from bnpl_common.timefmt import format_instant
from bnpl_credit.applications import deciding
from bnpl_credit.applications.finance_review import FinanceReviewPolicy, material_change
from bnpl_credit.applications.schemas import ApplicationInput
from bnpl_credit.credit_line import service as credit_lines
from bnpl_credit.decision.engine import DecisionEngine
from bnpl_credit.decision.policy import load_policy
from bnpl_credit.markets.catalog import load_catalog
from bnpl_credit.settings import PACKAGED_POLICY
from bnpl_credit.storage.port import CreditStore
from bnpl_credit.testing import (
    NOW,
    Api,
    FakeScorer,
    application_body,
    make_order,
    make_profile,
    new_key,
    score_result,
    sign_profile,
)

POLICY = load_policy(PACKAGED_POLICY)
MARKETS = load_catalog()
PERSON = "a" * 64
OTHER_PERSON = "b" * 64


class Harness:
    def __init__(self, store: CreditStore) -> None:
        self.store = store
        self.clock = FixedClock(NOW)
        self.scorer = FakeScorer(result=score_result(pd=0.05, grade="B"))
        self.engine = DecisionEngine(policy=POLICY, markets=MARKETS, scorer=self.scorer, timeout_seconds=1.0)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _apply(h: Harness, sub: str, *, review: FinanceReviewPolicy | None = None, **profile: Any) -> dict[str, Any]:
    order = make_order(amount={"amount": 100_000, "currency": "EUR"})
    # income enough that pay in 4's first 30 days (750.00) pass affordability: the line is what is tested
    profile = {"monthlyIncome": {"amount": 500_000, "currency": "EUR"}, **profile}
    body = ApplicationInput.model_validate({"order": order, "profile": make_profile(sub, **profile)})
    stored = await deciding.apply_for_credit(
        h.store, h.engine, h.clock, sub, body=body, idempotency_key=new_key(), finance_review=review
    )
    return stored.body


async def _line(h: Harness, sub: str) -> dict[str, Any]:
    return (await credit_lines.credit_line(h.store, MARKETS, sub, now=h.clock.now())).to_json()


# -- item 3: one person, one credit line ---------------------------------------------------------


def test_three_accounts_of_one_person_get_one_line_between_them(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)
        first = await _apply(h, "acct-1", personKey=PERSON)
        assert first["status"] == "APPROVED"
        assert "SHARED_CREDIT_LINE" not in [r["code"] for r in first["reasons"]]
        limit = (await _line(h, "acct-1"))["creditLimit"]["amount"]
        assert limit == 200_000
        second = await _apply(h, "acct-2", personKey=PERSON)
        # the second account is told plainly that it uses the existing line, and can use it
        assert second["status"] == "APPROVED"
        shared = [r for r in second["reasons"] if r["code"] == "SHARED_CREDIT_LINE"]
        assert shared and "another account" in shared[0]["description"]
        third = await _apply(h, "acct-3", personKey=PERSON)
        assert third["status"] == "DECLINED"  # the line is used up: 2 x 100,000 of 200,000
        lines = [await _line(h, sub) for sub in ("acct-1", "acct-2", "acct-3")]
        assert {line["creditLimit"]["amount"] for line in lines} == {limit}
        assert {line["exposure"]["amount"] for line in lines} == {200_000}
        assert {line["availableCredit"]["amount"] for line in lines} == {0}
        assert [line["sharedAccounts"] for line in lines] == [2, 2, 2]
        # another person with the same money is not affected
        assert (await _apply(h, "acct-9", personKey=OTHER_PERSON))["status"] == "APPROVED"

    run(scenario())


def test_concurrent_applications_of_one_person_stay_within_one_limit(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)
        assert (await _apply(h, "acct-1", personKey=PERSON))["status"] == "APPROVED"  # the line: 200,000
        results = await asyncio.gather(*(_apply(h, f"acct-{n % 3 + 1}", personKey=PERSON) for n in range(6)))
        approved = sum(1 for r in results if r["status"] == "APPROVED")
        assert approved == 1  # 100,000 was left
        assert (await _line(h, "acct-2"))["exposure"]["amount"] == 200_000

    run(scenario())


def test_membership_does_not_move(store: CreditStore) -> None:
    async def scenario() -> None:
        now = datetime(2026, 3, 1, tzinfo=UTC)
        line = await store.link_person(PERSON, "acct-1", now=now)
        assert line.members == ("acct-1",) and line.holder == "acct-1"
        await store.link_person(PERSON, "acct-2", now=now + timedelta(seconds=1))
        # a later, different key (a changed phone number) leaves the account where it was
        moved = await store.link_person(OTHER_PERSON, "acct-2", now=now + timedelta(seconds=2))
        assert moved.person_key == PERSON and moved.members == ("acct-1", "acct-2")
        assert await store.person_of("acct-3") is None

    run(scenario())


# -- item 4: declared-finance shopping -------------------------------------------------------------


def test_a_material_change_soon_after_a_decline_is_referred(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)
        h.scorer.result = score_result(pd=0.6, grade="E")
        low = {"monthlyIncome": {"amount": 120_000, "currency": "EUR"}, "financeVersion": 1}
        declined = await _apply(h, "ana", **low)
        assert declined["status"] == "DECLINED"
        h.scorer.result = score_result(pd=0.02, grade="A")  # what 4,000 a month would score
        h.clock.advance(timedelta(seconds=30))
        high = {"monthlyIncome": {"amount": 400_000, "currency": "EUR"}, "financeVersion": 2}
        again = await _apply(h, "ana", **high)
        assert again["status"] == "REFERRED", again
        assert [r["code"] for r in again["reasons"]] == ["FINANCES_CHANGED_AFTER_DECLINE"]
        assert again["offer"] is None and (await _line(h, "ana"))["creditLimit"] is None  # nothing lent
        record = await store.get_decision_record("ana", again["id"])
        assert record is not None and record.profile["financeVersion"] == 2  # the version it used
        # another account of the same person cannot go around it
        h2 = Harness(store)
        h2.scorer.result = score_result(pd=0.6, grade="E")
        await _apply(h2, "bea-1", personKey=PERSON, **low)
        h2.scorer.result = score_result(pd=0.02, grade="A")
        assert (await _apply(h2, "bea-2", personKey=PERSON, **high))["status"] == "REFERRED"

    run(scenario())


def test_unchanged_finances_or_an_old_decline_are_decided_as_usual(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)
        review = FinanceReviewPolicy(window=timedelta(days=30), threshold_percent=10)
        h.scorer.result = score_result(pd=0.6, grade="E")
        assert (await _apply(h, "ana", review=review, financeVersion=1))["status"] == "DECLINED"
        h.scorer.result = score_result(pd=0.02, grade="A")
        assert (await _apply(h, "ana", review=review, financeVersion=1))["status"] == "APPROVED"
        h.scorer.result = score_result(pd=0.6, grade="E")
        assert (await _apply(h, "cy", review=review, financeVersion=1))["status"] == "DECLINED"
        h.clock.advance(timedelta(days=31))
        h.scorer.result = score_result(pd=0.02, grade="A")
        changed = {"monthlyIncome": {"amount": 400_000, "currency": "EUR"}, "financeVersion": 2}
        assert (await _apply(h, "cy", review=review, **changed))["status"] == "APPROVED"

    run(scenario())


@pytest.mark.parametrize(
    "change,material",
    [
        ({}, False),
        ({"monthlyIncome": {"amount": 105_000, "currency": "EUR"}}, False),  # 5 %
        ({"monthlyIncome": {"amount": 110_000, "currency": "EUR"}}, True),  # 10 %
        ({"monthlyExpenses": {"amount": 1, "currency": "EUR"}}, True),
        ({"debt": {"amount": 1, "currency": "EUR"}}, True),  # from nothing
        ({"housing": "RENT"}, True),
        ({"employment": "FREELANCE"}, True),
    ],
)
def test_what_counts_as_material(change: dict[str, Any], material: bool) -> None:
    before = make_profile("x", monthlyIncome={"amount": 100_000, "currency": "EUR"})
    assert material_change(before, {**before, **change}, threshold_percent=10) is material


# -- item 10: the credit service decides only on a profile the user service signed ---------------


def test_unsigned_altered_stale_or_foreign_profiles_are_refused(api: Api) -> None:
    profile = make_profile(api.sub)
    good = application_body(make_order(), profile)
    cases: dict[str, dict[str, Any]] = {
        "unsigned": {"order": make_order(), "profile": profile},
        "altered": {**good, "profile": {**profile, "monthlyIncome": {"amount": 9_000_000, "currency": "EUR"}}},
        "extra field": {**good, "profile": {**profile, "note": "x"}},
        "stale": {
            **good,
            "profileSignature": _signed(profile, datetime.now(UTC) - timedelta(minutes=6)),
        },
        "foreign key": {**good, "profileSignature": _signed(profile, datetime.now(UTC), seed="Z" * 43)},
        "bad form": {**good, "profileSignature": {"signedAt": "yesterday", "signature": "local.!!"}},
    }
    for name, body in cases.items():
        r = api.request("POST", "/v1/applications", key=new_key(), json=body)
        assert r.status_code == 403, (name, r.text)
        assert r.json()["error"]["type"] == "ProfileNotTrusted" and r.json()["error"]["field"] == "profileSignature"
    assert api.request("GET", "/v1/applications").json()["items"] == []  # nothing was decided
    r = api.request("POST", "/v1/applications", key=new_key(), json=good)
    assert r.status_code == 201 and r.json()["status"] == "APPROVED"


def test_a_retry_with_a_fresh_signature_is_the_same_request(api: Api) -> None:
    order, profile, key = make_order(), make_profile(api.sub), new_key()
    first = api.request("POST", "/v1/applications", key=key, json=application_body(order, profile))
    body = {"order": order, "profile": profile, "profileSignature": sign_profile(profile)}
    again = api.request("POST", "/v1/applications", key=key, json=body)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()


def test_a_lone_surrogate_in_a_signed_profile_is_a_422_not_a_500(api: Api) -> None:
    profile = make_profile(api.sub, givenName="Ana\ud800")
    content = json.dumps(application_body(make_order(), profile)).encode("ascii")  # "\ud800" escaped, valid JSON
    headers = {"Content-Type": "application/json"}
    r = api.request("POST", "/v1/applications", key=new_key(), content=content, headers=headers)
    assert r.status_code == 422, r.text
    assert "surrogate" in r.text
    assert api.request("GET", "/v1/applications").json()["items"] == []


def _signed(profile: dict[str, Any], at: datetime, *, seed: str | None = None) -> dict[str, str]:
    from bnpl_common.profile_signature import LOCAL_PROFILE_SIGNING_SEED

    signer = ProfileSigner("local", private_key(seed or LOCAL_PROFILE_SIGNING_SEED))
    signed_at = format_instant(at)
    return {"signedAt": signed_at, "signature": signer.sign(profile, signed_at)}


def test_the_local_verify_key_is_refused_in_aws_and_no_key_refuses_every_profile() -> None:
    from bnpl_common.profile_signature import LOCAL_PROFILE_VERIFY_KEY, ProfileSignatureError
    from bnpl_credit.applications.profile_trust import profile_verifier
    from bnpl_credit.settings import Settings

    real = {"service_auth_keys": {"AKIAX": "real-secret"}, "merchant_auth_keys": "AKIAM:real-merchant-secret:shop"}
    with pytest.raises(ValueError, match="PROFILE_VERIFY_KEYS holds the local key"):
        Settings(bnpl_env="aws", profile_verify_keys=f"local:{LOCAL_PROFILE_VERIFY_KEY}", **real)
    assert Settings(bnpl_env="aws", profile_verify_keys="", **real).profile_verify_keys == ""
    verifier = profile_verifier("", max_age_seconds=300)
    profile = make_profile("x")
    signature = sign_profile(profile)
    with pytest.raises(ProfileSignatureError):
        verifier.verify(
            profile, signed_at=signature["signedAt"], signature=signature["signature"], now=datetime.now(UTC)
        )


def test_a_linked_account_is_read_not_linked_again(tmp_path: Path) -> None:
    """SQLite: every decision asks for the person's line; once linked, that is a read. It used to
    be a write transaction each time, which waited for the file's write lock (held here by
    another connection) and queued every decision behind the other writers."""
    import sqlite3

    from bnpl_credit.storage.sqlite import SqliteStore

    sqlite_store = SqliteStore(tmp_path / "store.sqlite3")
    now = datetime(2026, 3, 1, tzinfo=UTC)

    async def scenario() -> None:
        await sqlite_store.link_person(PERSON, "acct-1", now=now)
        writer = sqlite3.connect(sqlite_store.path, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")  # another writer holds the lock
            line = await asyncio.wait_for(sqlite_store.link_person(PERSON, "acct-1", now=now), timeout=2)
            assert line.members == ("acct-1",)
        finally:
            writer.close()

    run(scenario())
