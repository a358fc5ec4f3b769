"""Hold markers: what lets a decision read a customer's live approvals without reading every
application they ever made (DynamoDB filters a query after reading, and charges for the read).

Every approval that holds credit (a decision's, a review's) writes, in the same transaction as
the application, a marker ``CUST#<sub>``/``HOLD#<expiresAt>#<applicationId>``. A decision's
snapshot then reads the markers whose hold has not ended (a key range, strongly consistent) and
the applications they name (strongly consistent gets), and keeps those still APPROVED: how many
there are is bounded by the approvals of the last hold time, not by the customer's history.
Markers are never removed by a status change (the snapshot re-reads the application); the
table's TTL takes them a day after their hold ended.

Approvals stored before markers existed have none: an account records, at its first approval
with markers, ``holdMarkersSince``; its snapshot trusts the markers only from
``MARKERS_TRUSTED_AFTER`` later, when every hold made before then has ended (holds last
``approval_hold_minutes``, 30 in the policies), and reads every application until then. That
margin also covers a rolling deployment, when older tasks still write approvals without markers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bnpl_common.dynamodb import TransactOp, epoch_seconds, put
from bnpl_common.timefmt import format_instant, parse_instant

from bnpl_credit.applications.model import Application, ApplicationStatus

HOLD_PREFIX = "HOLD#"
MARKERS_SINCE = "holdMarkersSince"  # on the account item
MARKERS_TRUSTED_AFTER = timedelta(days=2)
_KEPT_AFTER_HOLD = timedelta(days=1)
# A referral holds credit while its review case is open, an end not known when it is written: its
# marker sorts after every dated one ("9" > any year's first digit, "~" above), so every snapshot
# reads it, and the snapshot keeps the application only while it is still REFERRED. Cases expire
# long before the marker's TTL.
_OPEN_ENDED = "9999-open"
_REFERRAL_MARKER_KEPT = timedelta(days=90)
HELD_STATUSES = frozenset({"APPROVED", "REFERRED"})


def holds_credit(application: Application) -> bool:
    if application.status is ApplicationStatus.REFERRED:
        return application.hold is not None
    return application.status is ApplicationStatus.APPROVED and application.expires_at is not None


def hold_marker(table: str, application: Application) -> TransactOp:
    """The marker of an approval or a referral that holds credit (written with the application)."""
    if application.status is ApplicationStatus.REFERRED:
        ends, ttl = _OPEN_ENDED, application.created_at + _REFERRAL_MARKER_KEPT
    else:
        assert application.expires_at is not None
        ends, ttl = format_instant(application.expires_at), application.expires_at + _KEPT_AFTER_HOLD
    return put(
        "hold",
        table,
        {
            "PK": f"CUST#{application.customer_id}",
            "SK": f"{HOLD_PREFIX}{ends}#{application.id}",
            "applicationId": application.id,
            "ttl": epoch_seconds(ttl),
        },
    )


def markers_trusted(account: dict[str, object] | None, now: datetime | None) -> bool:
    """Whether every approval of this account's customer that can hold credit at ``now`` has a marker."""
    if now is None or account is None or not account.get(MARKERS_SINCE):
        return False
    return parse_instant(str(account[MARKERS_SINCE])) + MARKERS_TRUSTED_AFTER <= now


def live_range(now: datetime) -> tuple[str, str]:
    """The sort-key range of the markers whose hold ends at or after ``now``."""
    return f"{HOLD_PREFIX}{format_instant(now)}", f"{HOLD_PREFIX}~"
