"""The user service's business metrics (``bnpl_common.metrics``: Prometheus and EMF).

One-time codes: *sent* is a code handed to the SMS provider; *failed* a code the provider
refused or did not take in time (the customer got nothing, the code was discarded); *capped* a
request refused by a rolling 24 h cap (``cap``: ``customer`` or ``destination`` for codes sent,
``wrong_codes`` for guesses). Confirmations are counted by outcome (``verified``, ``mismatch``,
``expired``, ``exhausted``, ``no_challenge``, ``limited``).
"""

from __future__ import annotations

from bnpl_common.metrics import Counter

OTP_SENT = Counter("bnpl_otp_codes_sent", "One-time codes handed to the SMS provider.", emf_name="OtpCodesSent")
OTP_FAILED = Counter(
    "bnpl_otp_codes_failed", "One-time codes the SMS provider did not take (discarded).", emf_name="OtpCodesFailed"
)
OTP_CAPPED = Counter(
    "bnpl_otp_codes_capped",
    "Code requests or guesses refused by a rolling 24 h cap, by cap.",
    ("cap",),
    emf_name="OtpCodesCapped",
    emf_sets=[[], ["cap"]],
)
OTP_CONFIRMATIONS = Counter(
    "bnpl_otp_confirmations",
    "Code confirmations by outcome.",
    ("outcome",),
    emf_name="OtpConfirmations",
    emf_sets=[["outcome"]],
)
