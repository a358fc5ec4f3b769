"""The DynamoDB adapter of ``ProfileRepository``: one table, one partition per customer.

Items, all under ``PK = CUSTOMER#<sub>`` (the README has the access patterns):

- ``SK = PROFILE``: the profile (``profile``, JSON of ``ProfileInput``), ``phoneNumber``
  (copied out of it for condition expressions), ``phoneVerified``, ``createdAt``,
  ``updatedAt`` and ``version`` (optimistic locking of read-modify-write updates).
- ``SK = OTP``: the live phone challenge. The key makes it one per customer; ``attempts``
  counts the tries spent, ``maxAttempts`` is the allowance; ``ttl`` lets DynamoDB drop it a
  day after it expired.
- ``SK = IDEMPOTENCY#<key>``: the first answer to ``PUT /v1/profile`` with that key;
  ``ttl`` = creation + ``idempotency_retention`` (7 days by default).
- ``SK = OTP#USAGE``: the customer's challenges and wrong codes of the last window
  (``challenges``, ``wrongCodes``: lists of epoch microseconds), ``version``, ``ttl``.

And one item per phone number that was sent a code, ``PK = DESTINATION#<HMAC of the
number>``, ``SK = OTP#USAGE`` (``challenges``, ``version``, ``ttl``): the per-number cap
across customers, without the number itself.

boto3 is synchronous, so every method runs in a worker thread. Every check-then-write is
a conditional write (``TransactWriteItems`` where two items change together), never a
read followed by a blind write; a write that loses a race re-reads and decides again.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread
from bnpl_common.errors import Conflict
from botocore.exceptions import BotoCoreError, ClientError

from bnpl_user.profiles.repository import (
    DEFAULT_CAPS,
    AttemptResult,
    AttemptStatus,
    Challenge,
    CreateOutcome,
    CreateResult,
    DailyCaps,
    OtpLimitReached,
    ProfileRecord,
    StoredResponse,
    from_micros,
    retry_at,
)
from bnpl_user.profiles.schemas import ProfileInput
from bnpl_user.storage.table import ttl_attribute

T = TypeVar("T")

PROFILE_SK = "PROFILE"
OTP_SK = "OTP"
USAGE_SK = "OTP#USAGE"  # sorts between "OTP" and "PROFILE": read with both
IDEMPOTENCY_PREFIX = "IDEMPOTENCY#"
IDEMPOTENCY_RETENTION = timedelta(days=7)
# An expired challenge stays a day so a late try is told "expired" (and the resend throttle holds).
CHALLENGE_GRACE = timedelta(days=1)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_TRIES = 10
# Lost races: another request changed the item between our read and our conditional write.
_RETRYABLE_CODES = frozenset({"TransactionConflictException", "TransactionInProgressException"})
_RETRYABLE_REASONS = frozenset({"TransactionConflict"})


class StorageContention(Conflict):
    error_type = "ConcurrentUpdate"

    def __init__(self) -> None:
        super().__init__("the profile is being changed by another request; try again")


def customer_pk(sub: str) -> str:
    return f"CUSTOMER#{sub}"


def destination_pk(destination_key: str) -> str:
    return f"DESTINATION#{destination_key}"


def idempotency_sk(key: str) -> str:
    return f"{IDEMPOTENCY_PREFIX}{key}"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _ts(value: datetime) -> str:
    return value.isoformat()


def _dt(value: dict[str, str]) -> datetime:
    return datetime.fromisoformat(value["S"])


def _micros(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


def _epoch_seconds(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(seconds=1)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _reasons(exc: ClientError) -> list[dict[str, Any]]:
    """The per-item reasons of a cancelled transaction (raises ``exc`` when it is something else)."""
    if _code(exc) != "TransactionCanceledException":
        raise exc
    return list(exc.response.get("CancellationReasons") or [])


def _reason_code(reasons: list[dict[str, Any]], index: int) -> str:
    return str(reasons[index].get("Code", "None")) if index < len(reasons) else "None"


def _backoff(attempt: int) -> None:
    if attempt:
        time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))  # jitter, not a secret


def _tries() -> Iterator[int]:
    for attempt in range(_MAX_TRIES):
        _backoff(attempt)
        yield attempt


def _profile(item: dict[str, Any]) -> ProfileRecord:
    return ProfileRecord(
        sub=item["sub"]["S"],
        data=ProfileInput.model_validate_json(item["profile"]["S"]),
        phone_verified=bool(item["phoneVerified"]["BOOL"]),
        created_at=_dt(item["createdAt"]),
        updated_at=_dt(item["updatedAt"]),
    )


def _challenge(item: dict[str, Any]) -> Challenge:
    return Challenge(
        id=item["challengeId"]["S"],
        sub=item["sub"]["S"],
        code_hash=item["codeHash"]["S"],
        phone_number=item["phoneNumber"]["S"],
        created_at=_dt(item["createdAt"]),
        expires_at=_dt(item["expiresAt"]),
        attempts_remaining=max(0, int(item["maxAttempts"]["N"]) - int(item["attempts"]["N"])),
    )


def _moments(item: dict[str, Any] | None, name: str, since: datetime) -> list[int]:
    """The epoch microseconds in list ``name`` of a usage item that are after ``since``."""
    if item is None or name not in item:
        return []
    bound = _micros(since)
    return [m for m in (int(v["N"]) for v in item[name]["L"]) if m > bound]


def _response(item: dict[str, Any]) -> StoredResponse:
    return StoredResponse(item["fingerprint"]["S"], int(item["statusCode"]["N"]), json.loads(item["response"]["S"]))


class DynamoProfileRepository:
    """``ProfileRepository`` on one DynamoDB table (``table.json``), through a boto3 client."""

    def __init__(self, client: Any, table: str, *, idempotency_retention: timedelta = IDEMPOTENCY_RETENTION) -> None:
        if idempotency_retention < timedelta(hours=24):
            raise ValueError("idempotency records must be kept at least 24 hours")
        self._client = client
        self._table = table
        self._retention = idempotency_retention
        self._ttl = ttl_attribute()

    # -- plumbing ---------------------------------------------------------------------

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs))

    def _key(self, sub: str, sk: str) -> dict[str, Any]:
        return {"PK": _s(customer_pk(sub)), "SK": _s(sk)}

    def _get(self, sub: str, sk: str) -> dict[str, Any] | None:
        return self._client.get_item(TableName=self._table, Key=self._key(sub, sk), ConsistentRead=True).get("Item")

    def _profile_and_challenge(
        self, sub: str
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, dict[str, Any] | None]:
        # "OTP" < "OTP#USAGE" < "PROFILE" and no other sort key falls between them: one consistent read.
        items = self._client.query(
            TableName=self._table,
            KeyConditionExpression="PK = :pk AND SK BETWEEN :otp AND :profile",
            ExpressionAttributeValues={":pk": _s(customer_pk(sub)), ":otp": _s(OTP_SK), ":profile": _s(PROFILE_SK)},
            ConsistentRead=True,
        )["Items"]
        by_sk = {item["SK"]["S"]: item for item in items}
        return by_sk.get(PROFILE_SK), by_sk.get(OTP_SK), by_sk.get(USAGE_SK)

    def _profile_item(self, profile: ProfileRecord, version: int) -> dict[str, Any]:
        return {
            **self._key(profile.sub, PROFILE_SK),
            "sub": _s(profile.sub),
            "profile": _s(profile.data.model_dump_json()),
            "phoneNumber": _s(profile.data.phone_number),
            "phoneVerified": {"BOOL": profile.phone_verified},
            "createdAt": _s(_ts(profile.created_at)),
            "updatedAt": _s(_ts(profile.updated_at)),
            "version": _n(version),
        }

    def _usage_put(
        self, pk: str, current: dict[str, Any] | None, lists: dict[str, list[int]], window: timedelta
    ) -> dict[str, Any]:
        """Put a usage item (``lists`` of epoch microseconds) if it is still as read (``current``)."""
        version = int(current["version"]["N"]) if current else 0
        latest = max((m for values in lists.values() for m in values), default=0)
        item: dict[str, Any] = {
            "PK": _s(pk),
            "SK": _s(USAGE_SK),
            "version": _n(version + 1),
            self._ttl: _n(_epoch_seconds(from_micros(latest) + window + CHALLENGE_GRACE)),
        }
        for name, values in lists.items():
            item[name] = {"L": [_n(v) for v in sorted(values)]}
        put: dict[str, Any] = {"TableName": self._table, "Item": item}
        if current is None:
            put["ConditionExpression"] = "attribute_not_exists(PK)"
        else:
            put["ConditionExpression"] = "#version = :version"
            put["ExpressionAttributeNames"] = {"#version": "version"}
            put["ExpressionAttributeValues"] = {":version": _n(version)}
        return {"Put": put}

    def _get_pk(self, pk: str, sk: str) -> dict[str, Any] | None:
        return self._client.get_item(TableName=self._table, Key={"PK": _s(pk), "SK": _s(sk)}, ConsistentRead=True).get(
            "Item"
        )

    def _delete_challenge(self, sub: str, challenge_id: str) -> None:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=self._key(sub, OTP_SK),
                ConditionExpression="challengeId = :id",
                ExpressionAttributeValues={":id": _s(challenge_id)},
            )
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise  # already gone or replaced: nothing to discard

    # -- the port ---------------------------------------------------------------------

    async def ping(self) -> bool:
        def check() -> bool:
            table = self._client.describe_table(TableName=self._table)["Table"]
            return table.get("TableStatus") in ("ACTIVE", "UPDATING")

        try:
            return await self._run(check)
        except (ClientError, BotoCoreError):
            return False

    async def get(self, sub: str) -> ProfileRecord | None:
        item = await self._run(self._get, sub, PROFILE_SK)
        return _profile(item) if item else None

    async def get_response(self, sub: str, key: str) -> StoredResponse | None:
        item = await self._run(self._get, sub, idempotency_sk(key))
        return _response(item) if item else None

    async def create(self, profile: ProfileRecord, *, key: str, response: StoredResponse) -> CreateResult:
        return await self._run(self._create, profile, key, response)

    def _create(self, profile: ProfileRecord, key: str, response: StoredResponse) -> CreateResult:
        record = {
            **self._key(profile.sub, idempotency_sk(key)),
            "sub": _s(profile.sub),
            "fingerprint": _s(response.fingerprint),
            "statusCode": _n(response.status_code),
            "response": _s(json.dumps(response.body)),
            "createdAt": _s(_ts(profile.created_at)),
            self._ttl: _n(_epoch_seconds(profile.created_at + self._retention)),
        }
        absent = "attribute_not_exists(PK)"
        items = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": record,
                    "ConditionExpression": absent,
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {"Put": {"TableName": self._table, "Item": self._profile_item(profile, 1), "ConditionExpression": absent}},
        ]
        for _ in _tries():
            try:
                self._client.transact_write_items(TransactItems=items)
                return CreateResult(CreateOutcome.CREATED, response)
            except ClientError as exc:
                if _code(exc) in _RETRYABLE_CODES:
                    continue
                reasons = _reasons(exc)
            if "ConditionalCheckFailed" in (_reason_code(reasons, 0), _reason_code(reasons, 1)):
                # As the SQLite adapter: a used key answers first, then an existing profile.
                old = reasons[0].get("Item") if reasons else None
                stored = old or self._get(profile.sub, idempotency_sk(key))
                if stored:
                    return CreateResult(CreateOutcome.REPLAYED, _response(stored))
                if _reason_code(reasons, 1) == "ConditionalCheckFailed":
                    return CreateResult(CreateOutcome.PROFILE_EXISTS)
        raise StorageContention()

    async def update(self, sub: str, change: Callable[[ProfileRecord], ProfileRecord]) -> ProfileRecord | None:
        return await self._run(self._update, sub, change)

    def _update(self, sub: str, change: Callable[[ProfileRecord], ProfileRecord]) -> ProfileRecord | None:
        for _ in _tries():
            item = self._get(sub, PROFILE_SK)
            if item is None:
                return None
            current = _profile(item)
            version = int(item["version"]["N"])
            updated = change(current)  # may raise: nothing is written
            items: list[dict[str, Any]] = [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": self._profile_item(updated, version + 1),
                        "ConditionExpression": "#version = :version",
                        "ExpressionAttributeNames": {"#version": "version"},
                        "ExpressionAttributeValues": {":version": _n(version)},
                    }
                }
            ]
            if updated.data.phone_number != current.data.phone_number:
                # The challenge was for the old number: it goes in the same transaction.
                items.append({"Delete": {"TableName": self._table, "Key": self._key(sub, OTP_SK)}})
            try:
                self._client.transact_write_items(TransactItems=items)
                return updated
            except ClientError as exc:
                if _code(exc) in _RETRYABLE_CODES:
                    continue
                _reasons(exc)  # a cancelled transaction: someone else wrote first; read again
        raise StorageContention()

    async def start_challenge(
        self, challenge: Challenge, *, throttle_since: datetime, destination_key: str, caps: DailyCaps = DEFAULT_CAPS
    ) -> Challenge | None:
        return await self._run(self._start_challenge, challenge, throttle_since, destination_key, caps)

    def _start_challenge(
        self, challenge: Challenge, throttle_since: datetime, destination_key: str, caps: DailyCaps
    ) -> Challenge | None:
        item = {
            **self._key(challenge.sub, OTP_SK),
            "sub": _s(challenge.sub),
            "challengeId": _s(challenge.id),
            "codeHash": _s(challenge.code_hash),
            "phoneNumber": _s(challenge.phone_number),
            "createdAt": _s(_ts(challenge.created_at)),
            "createdAtMicros": _n(_micros(challenge.created_at)),
            "expiresAt": _s(_ts(challenge.expires_at)),
            "attempts": _n(0),
            "maxAttempts": _n(challenge.attempts_remaining),
            self._ttl: _n(_epoch_seconds(challenge.expires_at + CHALLENGE_GRACE)),
        }
        since = challenge.created_at - caps.window
        now_micros = _micros(challenge.created_at)
        customer, destination = customer_pk(challenge.sub), destination_pk(destination_key)
        for _ in _tries():
            old = self._get(challenge.sub, OTP_SK)
            if old is not None and int(old["createdAtMicros"]["N"]) > _micros(throttle_since):
                return _challenge(old)
            mine = self._get_pk(customer, USAGE_SK)
            theirs = self._get_pk(destination, USAGE_SK)
            mine_sent, mine_wrong = _moments(mine, "challenges", since), _moments(mine, "wrongCodes", since)
            theirs_sent = _moments(theirs, "challenges", since)
            for moments, cap, name in (
                (mine_sent, caps.challenges_per_customer, "customer"),
                (theirs_sent, caps.challenges_per_destination, "destination"),
            ):
                free_at = retry_at([from_micros(m) for m in moments], cap=cap, window=caps.window, since=since)
                if free_at is not None:
                    raise OtpLimitReached(free_at, name)
            items = [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": item,
                        # Replace the old challenge unless it is younger than the resend interval.
                        "ConditionExpression": "attribute_not_exists(PK) OR createdAtMicros <= :since",
                        "ExpressionAttributeValues": {":since": _n(_micros(throttle_since))},
                    }
                },
                self._usage_put(
                    customer, mine, {"challenges": [*mine_sent, now_micros], "wrongCodes": mine_wrong}, caps.window
                ),
                self._usage_put(destination, theirs, {"challenges": [*theirs_sent, now_micros]}, caps.window),
            ]
            try:
                self._client.transact_write_items(TransactItems=items)
                return None
            except ClientError as exc:
                if _code(exc) in _RETRYABLE_CODES:
                    continue
                _reasons(exc)  # cancelled: a challenge or a count moved since the read; look again
        raise StorageContention()

    async def discard_challenge(self, sub: str, challenge_id: str) -> None:
        await self._run(self._delete_challenge, sub, challenge_id)

    async def attempt(
        self, sub: str, *, now: datetime, matches: Callable[[Challenge], bool], caps: DailyCaps = DEFAULT_CAPS
    ) -> AttemptResult:
        return await self._run(self._attempt, sub, now, matches, caps)

    def _attempt(self, sub: str, now: datetime, matches: Callable[[Challenge], bool], caps: DailyCaps) -> AttemptResult:
        since = now - caps.window
        for _ in _tries():
            profile_item, item, usage = self._profile_and_challenge(sub)
            if item is None:
                return AttemptResult(AttemptStatus.NO_CHALLENGE)
            challenge = _challenge(item)
            if challenge.attempts_remaining <= 0:
                return AttemptResult(AttemptStatus.EXHAUSTED)
            if now >= challenge.expires_at:
                return AttemptResult(AttemptStatus.EXPIRED)
            if profile_item is None or profile_item["phoneNumber"]["S"] != challenge.phone_number:
                self._delete_challenge(sub, challenge.id)
                return AttemptResult(AttemptStatus.NO_CHALLENGE)
            wrong = _moments(usage, "wrongCodes", since)
            free_at = retry_at(
                [from_micros(m) for m in wrong], cap=caps.wrong_codes_per_customer, window=caps.window, since=since
            )
            if free_at is not None:
                return AttemptResult(AttemptStatus.LIMITED, challenge.attempts_remaining, retry_at=free_at)
            seen = item["attempts"]
            remaining = challenge.attempts_remaining - 1
            if matches(challenge):
                verified = self._verify(sub, challenge, now, seen)
                if verified is not None:
                    return AttemptResult(AttemptStatus.VERIFIED, remaining, verified)
                continue  # the challenge moved (a parallel try, a new number): look again
            # A wrong code: the try is spent and counted in one transaction, conditional on the
            # challenge and the count being as read, before the answer is given; parallel tries
            # cannot share one.
            items = [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": self._key(sub, OTP_SK),
                        "UpdateExpression": "SET attempts = attempts + :one",
                        "ConditionExpression": "challengeId = :id AND attempts = :seen",
                        "ExpressionAttributeValues": {":one": _n(1), ":id": _s(challenge.id), ":seen": seen},
                    }
                },
                self._usage_put(
                    customer_pk(sub),
                    usage,
                    {"challenges": _moments(usage, "challenges", since), "wrongCodes": [*wrong, _micros(now)]},
                    caps.window,
                ),
            ]
            try:
                self._client.transact_write_items(TransactItems=items)
            except ClientError as exc:
                if _code(exc) not in _RETRYABLE_CODES:
                    _reasons(exc)  # cancelled: someone else spent a try or replaced the challenge
                continue
            return AttemptResult(AttemptStatus.MISMATCH, remaining)
        raise StorageContention()

    def _verify(self, sub: str, challenge: Challenge, now: datetime, seen: dict[str, str]) -> ProfileRecord | None:
        """Remove the challenge (if no try was spent since ``seen``) and mark the phone verified
        together; None when the challenge is gone or moved."""
        items = [
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": self._key(sub, OTP_SK),
                    "ConditionExpression": "challengeId = :id AND attempts = :seen",
                    "ExpressionAttributeValues": {":id": _s(challenge.id), ":seen": seen},
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": self._key(sub, PROFILE_SK),
                    "UpdateExpression": "SET phoneVerified = :true, updatedAt = :now, #version = #version + :one",
                    "ConditionExpression": "attribute_exists(PK) AND phoneNumber = :phone",
                    "ExpressionAttributeNames": {"#version": "version"},
                    "ExpressionAttributeValues": {
                        ":true": {"BOOL": True},
                        ":now": _s(_ts(now)),
                        ":one": _n(1),
                        ":phone": _s(challenge.phone_number),
                    },
                }
            },
        ]
        for _ in _tries():
            try:
                self._client.transact_write_items(TransactItems=items)
            except ClientError as exc:
                if _code(exc) in _RETRYABLE_CODES:
                    continue
                reasons = _reasons(exc)
                if any(_reason_code(reasons, i) in _RETRYABLE_REASONS for i in range(len(reasons))) and not any(
                    _reason_code(reasons, i) == "ConditionalCheckFailed" for i in range(len(reasons))
                ):
                    continue
                return None
            item = self._get(sub, PROFILE_SK)
            return _profile(item) if item else None
        raise StorageContention()
