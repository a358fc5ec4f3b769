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


def main() -> None:
    parser = argparse.ArgumentParser(description="print a local Cognito access token")
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--cognito", default=str(ROOT / ".data" / "local-cognito.json"))
    args = parser.parse_args()
    try:
        cfg = json.loads(Path(args.cognito).read_text())
    except FileNotFoundError:
        sys.exit(f"{args.cognito} not found: start the platform with `make run` first")
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
            Username=args.email,
            Password=args.password,
            UserAttributes=[{"Name": "email", "Value": args.email}],
        )
        idp.admin_confirm_sign_up(UserPoolId=cfg["userPoolId"], Username=args.email)
    except idp.exceptions.UsernameExistsException:
        pass
    result = idp.initiate_auth(
        ClientId=cfg["clientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": args.email, "PASSWORD": args.password},
    )
    print(result["AuthenticationResult"]["AccessToken"])


if __name__ == "__main__":
    main()
