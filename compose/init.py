"""One-shot init of the docker compose stack: the local Cognito user pool and app client
(moto server) and the DynamoDB tables (DynamoDB Local). Idempotent: safe on every `up`.

Cognito ids are deterministic: the moto container runs with
MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY=HASH (and the client strategy), so the ids are a hash
of region, pool name and settings. docker-compose.yml passes the expected ids to every
service; this script creates the pool and client and fails loudly if moto gave other ids
(a different moto version, changed pool settings), instead of letting every sign-in fail.

The table definitions are the services' own `storage/table.json` (CreateTable shape plus
"TimeToLiveAttribute"), the same files the CloudFormation data stack is checked against,
made into tables by ``bnpl_common.dynamodb.create_table`` (this runs in the credit image). A
missing table.json fails the init.

It also writes /run/bnpl/local-cognito.json (endpoint, region, userPoolId, clientId), the
file `scripts/local_user.py --cognito` reads to print an access token.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from bnpl_common.dynamodb import create_table

POOL_NAME = "bnpl-local"
CLIENT_NAME = "bnpl-checkout"
# The one definition of the local pool and client: scripts/devstack.py (make run) calls
# ensure_pool from here too, and moto's HASH strategy derives the ids from these settings.
POOL_SETTINGS: dict[str, Any] = {
    "UsernameAttributes": ["email"],
    "AutoVerifiedAttributes": ["email"],
    "Policies": {
        "PasswordPolicy": {
            "MinimumLength": 8,
            "RequireUppercase": True,
            "RequireLowercase": True,
            "RequireNumbers": True,
            "RequireSymbols": False,
        }
    },
}
CLIENT_SETTINGS: dict[str, Any] = {
    "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    "GenerateSecret": False,
}
# service -> (table-name variable, table.json path under the mounted services/ tree)
TABLES = {
    "credit": ("CREDIT_TABLE", "credit/src/bnpl_credit/storage/table.json"),
    "user": ("USER_TABLE", "user/src/bnpl_user/storage/table.json"),
}


def log(message: str) -> None:
    print(f"init: {message}", flush=True)


def wait_for(name: str, probe: Callable[[], object], timeout: float = 120.0) -> None:
    """Call ``probe`` until it stops raising (the emulators take a few seconds to listen)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            probe()
            return
        except Exception as exc:
            if time.monotonic() > deadline:
                raise SystemExit(f"init: {name} did not answer within {timeout:.0f}s: {exc}") from exc
            time.sleep(1)


def ensure_pool(idp: Any) -> tuple[str, str]:
    """Create (or find) the pool and app client; return (pool id, client id)."""
    pools = idp.list_user_pools(MaxResults=60)["UserPools"]
    pool_id = next((p["Id"] for p in pools if p["Name"] == POOL_NAME), None)
    if pool_id is None:
        pool_id = idp.create_user_pool(PoolName=POOL_NAME, **POOL_SETTINGS)["UserPool"]["Id"]
    clients = idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    client_id = next((c["ClientId"] for c in clients if c["ClientName"] == CLIENT_NAME), None)
    if client_id is None:
        client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName=CLIENT_NAME, **CLIENT_SETTINGS)[
            "UserPoolClient"
        ]["ClientId"]
    return str(pool_id), str(client_id)


def ensure_table(ddb: Any, definition: Path | dict[str, Any], table_name: str) -> None:
    """Create the table of a table.json (or its content) unless it exists, and switch its TTL on."""
    create_table(ddb, table_name, definition)
    log(f"table {table_name} ready")


def main() -> None:
    region = os.environ.get("AWS_REGION", "us-east-1")
    cognito_endpoint = os.environ["COGNITO_ENDPOINT"]
    idp = boto3.client("cognito-idp", endpoint_url=cognito_endpoint, region_name=region)
    wait_for("local Cognito (moto)", lambda: idp.list_user_pools(MaxResults=1))
    pool_id, client_id = ensure_pool(idp)
    expected_pool, expected_client = os.environ["COGNITO_USER_POOL_ID"], os.environ["COGNITO_CLIENT_IDS"]
    if (pool_id, client_id) != (expected_pool, expected_client):
        sys.exit(
            f"init: moto created pool {pool_id} / client {client_id}, but docker-compose.yml expects "
            f"{expected_pool} / {expected_client}: update COGNITO_USER_POOL_ID and COGNITO_CLIENT_IDS "
            "(x-cognito in docker-compose.yml) or pin the moto image to the version in constraints.txt"
        )
    log(f"Cognito pool {pool_id}, app client {client_id}")
    out = Path(os.environ.get("LOCAL_COGNITO_FILE", "/run/bnpl/local-cognito.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"endpoint": cognito_endpoint, "region": region, "userPoolId": pool_id, "clientId": client_id})
    )

    ddb = boto3.client("dynamodb", endpoint_url=os.environ["DYNAMODB_ENDPOINT"], region_name=region)
    wait_for("DynamoDB Local", lambda: ddb.list_tables(Limit=1))
    services_dir = Path(os.environ.get("SERVICES_DIR", "/workspace/services"))
    for service, (variable, relative) in TABLES.items():
        path = services_dir / relative
        if not path.exists():
            sys.exit(f"init: {path} not found: the {service} table cannot be created (is services/ mounted?)")
        ensure_table(ddb, path, os.environ[variable])
    log("done")


if __name__ == "__main__":
    main()
