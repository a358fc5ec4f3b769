"""What review cases read from the environment (their own class, like the documents')."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from bnpl_common.clock import Clock
from bnpl_common.settings import CommonSettings
from pydantic import Field, model_validator

from bnpl_credit.reviews.notify import EndUserMessagingSms, OutboxSms, Sms


class ReviewSettings(CommonSettings):
    # how long a case may stay undecided before it expires and the shopper is told
    review_case_ttl_seconds: int = Field(default=3 * 24 * 3600, ge=1)
    # approving more than this (minor units of the case's currency) needs a second approver
    review_four_eyes_amount: int = Field(default=100_000, ge=0)
    sms_notifier: Literal["outbox", "end-user-messaging", "none"] = "outbox"
    sms_outbox_path: Path = Path(".data/sms-outbox.jsonl")
    sms_origination_identity: str | None = None

    @model_validator(mode="after")
    def _no_outbox_in_aws(self) -> ReviewSettings:
        if self.bnpl_env == "aws" and self.sms_notifier == "outbox":
            raise ValueError("SMS_NOTIFIER=outbox writes phone numbers to a local file; use end-user-messaging in AWS")
        return self

    @property
    def ttl(self) -> timedelta:
        return timedelta(seconds=self.review_case_ttl_seconds)

    def build_sms(self, clock: Clock) -> Sms | None:
        if self.sms_notifier == "none":
            return None
        if self.sms_notifier == "outbox":
            return OutboxSms(self.sms_outbox_path, clock)
        import boto3

        return EndUserMessagingSms(
            boto3.client("pinpoint-sms-voice-v2", region_name=self.aws_region), self.sms_origination_identity
        )
