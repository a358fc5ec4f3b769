"""``python -m bnpl_user.profile_key``: print ``KEY_ID:PUBLIC_KEY`` of the profile-signing key in
``PROFILE_SIGNING_KEY`` / ``PROFILE_SIGNING_KEY_ID`` (the credit service's ``PROFILE_VERIFY_KEYS``).
In AWS: ``PROFILE_SIGNING_KEY=$(aws secretsmanager get-secret-value --secret-id <ProfileSigningKeySecret>
--query SecretString --output text) PROFILE_SIGNING_KEY_ID=aws-1 python -m bnpl_user.profile_key``."""

from __future__ import annotations

import os

from bnpl_common.profile_signature import (
    LOCAL_PROFILE_SIGNING_KEY_ID,
    LOCAL_PROFILE_SIGNING_SEED,
    private_key,
    public_key_text,
)


def verify_key_line(seed: str, key_id: str) -> str:
    return f"{key_id}:{public_key_text(private_key(seed))}"


def main() -> None:
    seed = os.environ.get("PROFILE_SIGNING_KEY", LOCAL_PROFILE_SIGNING_SEED)
    key_id = os.environ.get("PROFILE_SIGNING_KEY_ID", LOCAL_PROFILE_SIGNING_KEY_ID)
    print(verify_key_line(seed, key_id))


if __name__ == "__main__":
    main()
