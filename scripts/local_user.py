"""Sign a user up in the local Cognito of ``make run`` (if new) and print an access token.

    .venv/bin/python scripts/local_user.py --email you@example.com --password 'Passw0rd!'

Uses only Cognito's public API (SignUp, InitiateAuth with USER_PASSWORD_AUTH) plus the
admin confirmation that a real pool would do by e-mail. Local use only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_COGNITO_FILE = ROOT / ".data" / "local-cognito.json"


def load_cognito(path: str | Path = DEFAULT_COGNITO_FILE) -> dict[str, str]:
    """The local Cognito's endpoint, region, userPoolId and clientId (written by `make run` / compose init)."""
    try:
        return dict(json.loads(Path(path).read_text()))
    except FileNotFoundError:
        sys.exit(f"{path} not found: start the platform with `make run` first")


def access_token(cfg: dict[str, str], email: str, password: str) -> str:
    """Sign ``email`` up and confirm it (unless it exists), sign in with USER_PASSWORD_AUTH and
    return the access token."""
    idp = boto3.client(
        "cognito-idp",
        endpoint_url=cfg["endpoint"],
        region_name=cfg["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    try:
        idp.sign_up(
            ClientId=cfg["clientId"],
            Username=email,
            Password=password,
            UserAttributes=[{"Name": "email", "Value": email}],
        )
        idp.admin_confirm_sign_up(UserPoolId=cfg["userPoolId"], Username=email)
    except idp.exceptions.UsernameExistsException:
        pass
    result = idp.initiate_auth(
        ClientId=cfg["clientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    return str(result["AuthenticationResult"]["AccessToken"])


def main() -> None:
    parser = argparse.ArgumentParser(description="print a local Cognito access token")
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--cognito", default=str(DEFAULT_COGNITO_FILE))
    args = parser.parse_args()
    print(access_token(load_cognito(args.cognito), args.email, args.password))


if __name__ == "__main__":
    main()
