"""The DynamoDB adapter: every port of the service on one table (``USER_STORE=dynamodb``).

Items, all under ``PK = CUSTOMER#<sub>`` (the README has the access patterns):

- ``SK = PROFILE``: the profile (``profile``, its details as JSON), ``phoneNumber``,
  ``phoneVerified``, ``createdAt``, ``updatedAt`` and ``version`` (optimistic locking).
- ``SK = OTP``: the live phone challenge. The key makes it one per customer; ``attempts``
  counts the tries spent, ``maxAttempts`` is the allowance; ``ttl`` lets DynamoDB drop it a
  day after it expired.
- ``SK = IDEMPOTENCY#<key>``: the first answer to ``PUT /v1/profile`` with that key;
  ``ttl`` = creation + ``idempotency_retention`` (7 days by default).
- ``SK = OTP#USAGE``: the customer's codes sent and wrong codes (``challenges``,
  ``wrongCodes``: lists of epoch microseconds), ``version``, ``ttl``.

And one item per phone number that was sent a code, ``PK = DESTINATION#<HMAC of the
number>``, ``SK = OTP#USAGE`` (``challenges``, ``version``, ``ttl``): the per-number cap
across customers, without the number itself.

boto3 is synchronous, so every call runs through :func:`bnpl_common.aio.run_blocking`.
Every write is conditional on the items being as the service read them and raises
``ConcurrentUpdate`` when one moved; the service decides again (it owns the rules).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bnpl_common.aio import run_blocking
from bnpl_common.dynamodb import (
    TransactionCancelled,
    TransactOp,
    condition_check,
    delete,
    epoch_seconds,
    error_code,
    from_item,
    put,
    to_item,
    transact_write,
    update,
)
from bnpl_common.errors import ConcurrentUpdate
from bnpl_common.idempotency import StoredResponse
from bnpl_common.timefmt import epoch_micros, format_instant, from_epoch_micros, parse_instant

from bnpl_user.profiles.model import CreateOutcome, CreateResult, Profile
from bnpl_user.storage import profile_json
from bnpl_user.storage.dynamodb_numbers import DynamoNumberClaims
from bnpl_user.storage.dynamodb_staff import DynamoStaffReads
from bnpl_user.storage.table import ttl_attribute
from bnpl_user.verification.model import Challenge, ScopeKind, UsageLog, UsageScope, VerificationState

PROFILE_SK = "PROFILE"
OTP_SK = "OTP"
USAGE_SK = "OTP#USAGE"  # sorts between "OTP" and "PROFILE": read with both
IDEMPOTENCY_PREFIX = "IDEMPOTENCY#"
IDEMPOTENCY_RETENTION = timedelta(days=7)
# An expired challenge stays a day so a late try is told "expired" (and the resend throttle holds).
CHALLENGE_GRACE = timedelta(days=1)
# Usage logs outlive their newest event by two days: the caps look back one day at most.
USAGE_RETENTION = timedelta(days=2)


def customer_pk(sub: str) -> str:
    return f"CUSTOMER#{sub}"


def destination_pk(destination_key: str) -> str:
    return f"DESTINATION#{destination_key}"


def idempotency_sk(key: str) -> str:
    return f"{IDEMPOTENCY_PREFIX}{key}"


def _usage_pk(scope: UsageScope) -> str:
    return customer_pk(scope.key) if scope.kind is ScopeKind.CUSTOMER else destination_pk(scope.key)


def _profile(item: dict[str, Any]) -> Profile:
    return Profile(
        sub=item["sub"],
        details=profile_json.loads(item["profile"]),
        phone_verified=bool(item["phoneVerified"]),
        created_at=parse_instant(item["createdAt"]),
        updated_at=parse_instant(item["updatedAt"]),
        version=int(item["version"]),
        **profile_json.finances(item["profile"]),
    )


def _challenge(item: dict[str, Any]) -> Challenge:
    return Challenge(
        id=item["challengeId"],
        sub=item["sub"],
        code_hash=item["codeHash"],
        phone_number=item["phoneNumber"],
        created_at=parse_instant(item["createdAt"]),
        expires_at=parse_instant(item["expiresAt"]),
        max_attempts=int(item["maxAttempts"]),
        attempts=int(item["attempts"]),
    )


def _usage(scope: UsageScope, item: dict[str, Any] | None) -> UsageLog:
    if item is None:
        return UsageLog(scope)
    return UsageLog(
        scope=scope,
        sent=tuple(from_epoch_micros(m) for m in sorted(item.get("challenges", []))),
        wrong=tuple(from_epoch_micros(m) for m in sorted(item.get("wrongCodes", []))),
        version=int(item["version"]),
    )


def _response(item: dict[str, Any]) -> StoredResponse:
    return StoredResponse(item["fingerprint"], int(item["statusCode"]), json.loads(item["response"]))


class DynamoUserStore(DynamoNumberClaims, DynamoStaffReads):
    """``UserStore`` on one DynamoDB table (``table.json``), through a boto3 client."""

    def __init__(self, client: Any, table: str, *, idempotency_retention: timedelta = IDEMPOTENCY_RETENTION) -> None:
        if idempotency_retention < timedelta(hours=24):
            raise ValueError("idempotency records must be kept at least 24 hours")
        self._client = client
        self._table = table
        self._retention = idempotency_retention
        self._ttl = ttl_attribute()

    # -- plumbing ---------------------------------------------------------------------

    @staticmethod
    def _key(pk: str, sk: str) -> dict[str, str]:
        return {"PK": pk, "SK": sk}

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        out = self._client.get_item(TableName=self._table, Key=to_item(self._key(pk, sk)), ConsistentRead=True)
        return from_item(out["Item"]) if "Item" in out else None

    async def _read(self, pk: str, sk: str) -> dict[str, Any] | None:
        return await run_blocking(self._get, pk, sk)

    async def _write(self, operations: Sequence[TransactOp]) -> None:
        """One transaction; any failed condition means the service read stale data."""
        try:
            await run_blocking(transact_write, self._client, operations)
        except TransactionCancelled as cancelled:
            raise ConcurrentUpdate() from cancelled

    def _profile_put(self, profile: Profile, *, condition: str, **expression: Any) -> TransactOp:
        item = {
            **self._key(customer_pk(profile.sub), PROFILE_SK),
            "sub": profile.sub,
            "profile": profile_json.dumps_profile(profile),
            "phoneNumber": profile.details.phone_number,
            "phoneVerified": profile.phone_verified,
            "createdAt": format_instant(profile.created_at),
            "updatedAt": format_instant(profile.updated_at),
            "version": profile.version + 1,
        }
        return put("profile", self._table, item, condition=condition, **expression)

    def _versioned_profile_put(self, profile: Profile) -> TransactOp:
        return self._profile_put(
            profile,
            condition="#version = :version",
            names={"#version": "version"},
            values={":version": profile.version},
        )

    def _usage_put(self, log: UsageLog) -> TransactOp:
        item: dict[str, Any] = {
            **self._key(_usage_pk(log.scope), USAGE_SK),
            "challenges": [epoch_micros(m) for m in log.sent],
            "version": log.version + 1,
        }
        if log.scope.kind is ScopeKind.CUSTOMER:
            item["wrongCodes"] = [epoch_micros(m) for m in log.wrong]
        newest = max((*log.sent, *log.wrong), default=None)
        if newest is not None:
            item[self._ttl] = epoch_seconds(newest + USAGE_RETENTION)
        name = f"usage-{log.scope.kind.value}"
        if log.version == 0:
            return put(name, self._table, item, condition="attribute_not_exists(PK)")
        return put(
            name,
            self._table,
            item,
            condition="#version = :version",
            names={"#version": "version"},
            values={":version": log.version},
        )

    def _challenge_is(self, challenge: Challenge) -> dict[str, Any]:
        """Condition arguments: the stored challenge is ``challenge`` with as many tries spent."""
        return {
            "condition": "challengeId = :id AND attempts = :attempts",
            "values": {":id": challenge.id, ":attempts": challenge.attempts},
        }

    # -- start-up and health ------------------------------------------------------------

    async def prepare(self) -> None:
        return None  # the table is made by CloudFormation, the compose init container or the tests

    async def ping(self) -> bool:
        def check() -> bool:
            table = self._client.describe_table(TableName=self._table)["Table"]
            return table.get("TableStatus") in ("ACTIVE", "UPDATING")

        try:
            return await run_blocking(check)
        except Exception:  # readiness: any failure (missing table, no connection) is "not ready"
            return False

    # -- profiles -----------------------------------------------------------------------

    async def get_profile(self, sub: str) -> Profile | None:
        item = await self._read(customer_pk(sub), PROFILE_SK)
        return _profile(item) if item else None

    async def get_response(self, sub: str, key: str) -> StoredResponse | None:
        item = await self._read(customer_pk(sub), idempotency_sk(key))
        return _response(item) if item else None

    async def create_profile(self, profile: Profile, *, key: str, response: StoredResponse) -> CreateResult:
        record = {
            **self._key(customer_pk(profile.sub), idempotency_sk(key)),
            "sub": profile.sub,
            "fingerprint": response.fingerprint,
            "statusCode": response.status_code,
            "response": json.dumps(response.body),
            "createdAt": format_instant(profile.created_at),
            self._ttl: epoch_seconds(profile.created_at + self._retention),
        }
        absent = "attribute_not_exists(PK)"
        operations = [
            put("key", self._table, record, condition=absent, return_old_on_failure=True),
            self._profile_put(replace(profile, version=0), condition=absent),
        ]
        pointer = self.email_pointer_put(profile)
        if pointer is not None:
            operations.append(pointer)
        try:
            await run_blocking(transact_write, self._client, operations)
        except TransactionCancelled as cancelled:
            if cancelled.condition_failed("key"):
                stored = cancelled.old_item("key") or await self._read(customer_pk(profile.sub), idempotency_sk(key))
                if stored is not None:
                    return CreateResult(CreateOutcome.REPLAYED, _response(stored))
            if cancelled.condition_failed("profile"):
                return CreateResult(CreateOutcome.PROFILE_EXISTS)
            raise ConcurrentUpdate() from cancelled
        return CreateResult(CreateOutcome.CREATED, response)

    async def save_profile(self, profile: Profile, *, drop_challenge: bool = False) -> Profile:
        operations = [self._versioned_profile_put(profile)]
        pointer = self.email_pointer_put(profile)
        if pointer is not None:
            operations.append(pointer)
        if drop_challenge:
            operations.append(delete("challenge", self._table, self._key(customer_pk(profile.sub), OTP_SK)))
        await self._write(operations)
        return replace(profile, version=profile.version + 1)

    # -- phone verification ---------------------------------------------------------------

    async def get_challenge(self, sub: str) -> Challenge | None:
        item = await self._read(customer_pk(sub), OTP_SK)
        return _challenge(item) if item else None

    async def get_usage(self, scope: UsageScope) -> UsageLog:
        return _usage(scope, await self._read(_usage_pk(scope), USAGE_SK))

    async def verification_state(self, sub: str) -> VerificationState:
        def query() -> list[dict[str, Any]]:
            # "OTP" < "OTP#USAGE" < "PROFILE" and no other sort key falls between them: one consistent read.
            out = self._client.query(
                TableName=self._table,
                KeyConditionExpression="PK = :pk AND SK BETWEEN :otp AND :profile",
                ExpressionAttributeValues=to_item({":pk": customer_pk(sub), ":otp": OTP_SK, ":profile": PROFILE_SK}),
                ConsistentRead=True,
            )
            return [from_item(item) for item in out["Items"]]

        by_sk = {item["SK"]: item for item in await run_blocking(query)}
        profile, challenge = by_sk.get(PROFILE_SK), by_sk.get(OTP_SK)
        return VerificationState(
            profile=_profile(profile) if profile else None,
            challenge=_challenge(challenge) if challenge else None,
            usage=_usage(UsageScope(ScopeKind.CUSTOMER, sub), by_sk.get(USAGE_SK)),
        )

    async def save_challenge(
        self, challenge: Challenge, *, replacing: Challenge | None, profile: Profile, usage: Sequence[UsageLog]
    ) -> None:
        item = {
            **self._key(customer_pk(challenge.sub), OTP_SK),
            "sub": challenge.sub,
            "challengeId": challenge.id,
            "codeHash": challenge.code_hash,
            "phoneNumber": challenge.phone_number,
            "createdAt": format_instant(challenge.created_at),
            "expiresAt": format_instant(challenge.expires_at),
            "attempts": challenge.attempts,
            "maxAttempts": challenge.max_attempts,
            self._ttl: epoch_seconds(challenge.expires_at + CHALLENGE_GRACE),
        }
        if replacing is None:
            challenge_put = put("challenge", self._table, item, condition="attribute_not_exists(PK)")
        else:
            challenge_put = put("challenge", self._table, item, **self._challenge_is(replacing))
        profile_unchanged = condition_check(
            "profile",
            self._table,
            self._key(customer_pk(profile.sub), PROFILE_SK),
            condition="#version = :version",
            names={"#version": "version"},
            values={":version": profile.version},
        )
        await self._write([challenge_put, profile_unchanged, *(self._usage_put(log) for log in usage)])

    async def discard_challenge(self, sub: str, challenge_id: str) -> None:
        def discard() -> None:
            try:
                self._client.delete_item(
                    TableName=self._table,
                    Key=to_item(self._key(customer_pk(sub), OTP_SK)),
                    ConditionExpression="challengeId = :id",
                    ExpressionAttributeValues=to_item({":id": challenge_id}),
                )
            except Exception as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise  # already gone or replaced: nothing to discard

        await run_blocking(discard)

    async def spend_attempt(self, challenge: Challenge, *, usage: UsageLog) -> None:
        before = replace(challenge, attempts=challenge.attempts - 1)
        spend = update(
            "challenge",
            self._table,
            self._key(customer_pk(challenge.sub), OTP_SK),
            expression="SET attempts = :spent",
            condition="challengeId = :id AND attempts = :attempts",
            values={":spent": challenge.attempts, ":id": before.id, ":attempts": before.attempts},
        )
        await self._write([spend, self._usage_put(usage)])

    async def verify_phone(self, challenge: Challenge, profile: Profile) -> Profile:
        remove = delete(
            "challenge", self._table, self._key(customer_pk(challenge.sub), OTP_SK), **self._challenge_is(challenge)
        )
        await self._write([remove, self._versioned_profile_put(profile)])
        return replace(profile, version=profile.version + 1)
