"""Readable words for the work domain's codes (statuses, task types, reasons), shared by
the API (as ``message``) and the pages. Each is an English message id, translated where
the locale is known."""

from __future__ import annotations

from xingdong.campaigns.targeting import INELIGIBLE_REASONS
from xingdong.core.i18n import N_, translate

STATUS_LABELS = {
    "claimed": N_("To do"),
    "submitted": N_("Under review"),
    "approved": N_("Approved, in hold"),
    "released": N_("Paid"),
    "clawed_back": N_("Taken back"),
    "rejected": N_("Rejected"),
    "expired": N_("Expired"),
    "disputed": N_("In dispute"),
}
"""What an assignment's status means to the worker."""

TASK_TYPE_LABELS = {
    "follow": N_("Follow"),
    "like": N_("Like"),
    "comment": N_("Comment"),
    "share": N_("Share"),
    "shoot": N_("Shoot a video"),
    "live_visit": N_("Visit a live room"),
    "purchase": N_("Buy a product"),
    "profile_ad": N_("Profile ad"),
}

FEED_REASONS = {
    **INELIGIBLE_REASONS,
    "no_live_tasks": N_("No tasks are open right now; come back later."),
    "no_tasks_of_type": N_("No open tasks of this type; try another type."),
    "all_taken": N_("You have taken every task open to you; see My tasks."),
}
"""Why the task feed is empty, by reason code."""

TASK_REASONS = {
    **FEED_REASONS,
    "not_open": N_("This campaign is not taking claims now."),
    "sold_out": N_("All of this campaign's tasks are taken."),
    "limit_reached": N_("You have taken this campaign's tasks as often as allowed."),
    "paced": N_(
        "This campaign's tasks are spread over its window so that they do not all go at "
        "once; its next one opens at {time} (Beijing time)."
    ),
    "target_capped": N_(
        "The account this task is about has had as many actions this hour as look "
        "natural; the next one opens at {time} (Beijing time)."
    ),
}
"""Why one task cannot be claimed now, by reason code."""

PROFILE_REASONS = frozenset(
    {"no_consent", "age_unknown", "no_bound_account", "interests_missing", "region_missing"}
)
"""Reasons the person can fix on their profile page."""

VERIFICATION_LABELS = {
    "verified": N_("The platform confirmed the action"),
    "absent": N_("The platform did not find the action"),
    "unknown": N_("The platform could not tell"),
}

CHECK_FILTER_LABELS = {
    "verified": N_("Platform confirmed"),
    "absent": N_("Platform did not find it"),
    "unknown": N_("Platform could not tell"),
    "none": N_("Not checked by the platform"),
}
"""The review queue's filter on the platform's check (``ReviewFilter.check``)."""

RISK_FILTER_LABELS = {
    "high": N_("Flagged by the risk checks"),
    "low": N_("Not flagged"),
}
"""The review queue's filter on the risk score (``ReviewFilter.risk``)."""

DETAIL_LABELS = {
    "follow_found": N_("Follow found"),
    "like_found": N_("Like found"),
    "comment_found": N_("Comment found"),
    "share_found": N_("Share found"),
    "video_found": N_("Video found"),
    "visit_found": N_("Visit found"),
    "order_found": N_("Order found"),
    "impressions_reached": N_("The ad was seen a thousand times"),
    "no_follow": N_("No follow found"),
    "followed_before": N_("Followed before the claim"),
    "no_like": N_("No like found"),
    "liked_before": N_("Liked before the claim"),
    "watched_too_short": N_("Watched too briefly before liking"),
    "no_comment": N_("No comment found"),
    "comment_deleted": N_("The comment was deleted"),
    "no_share": N_("No share found"),
    "no_video": N_("No video mentioning the account found"),
    "video_deleted": N_("The video was deleted"),
    "no_visit": N_("No visit to the live room found"),
    "stayed_too_short": N_("Stayed too briefly in the live room"),
    "no_order": N_("No order of the product found"),
    "order_not_tracked": N_("Ordered, but not through the task's link"),
    "order_refunded": N_("The order was returned"),
    "no_ad": N_("No ad of the brand on the profile"),
    "ad_not_tracked": N_("The ad was put up, but not through the task's link"),
    "impressions_short": N_("The ad has not been seen a thousand times yet"),
    "ad_taken_down": N_("The ad was taken down before it was seen a thousand times"),
    "actor_not_found": N_("The worker's account is not on the platform"),
    "target_not_found": N_("The target is no longer on the platform"),
    "no_answer": N_("The platform did not answer in time"),
}
"""The platform connector's details (see docs/sandbox-platform.md)."""

RISK_LABELS = {
    "submitted_too_fast": N_("Submitted faster than a person can act"),
}


def risk_label(code: str, locale: str) -> str:
    """A risk engine reason (docs/risk.md), ``submitted_too_fast``, or
    ``platform_<detail>`` when the platform found nothing, as reviewers read it."""
    from xingdong.risk.reasons import REAL_TIME, reason_text

    if code.split(":", 1)[0] in REAL_TIME:
        return reason_text(code, locale)
    if code in RISK_LABELS:
        return translate(locale, RISK_LABELS[code])
    detail = code.removeprefix("platform_")
    return translate(locale, DETAIL_LABELS.get(detail, code))


SETTLE_LABELS = {
    "retained": N_("Still there after the hold"),
    "retention_unknown": N_("Released; the platform could not tell"),
    "platform_overruled": N_("Released as a person decided; the platform still does not see it"),
    "contest_upheld": N_("The brand's complaint was upheld"),
    "given_up": N_("You gave the task up"),
    "fraud_confirmed": N_("Taken back: an operator confirmed this account as fraud"),
}


AD_SHORT_SETTLES = frozenset(
    "undone_" + detail
    for detail in ("impressions_short", "ad_taken_down", "no_ad", "ad_not_tracked")
)
"""A profile ad approved by a reviewer but still short of its thousand when the hold
ends: nothing was undone, the count never got there."""


def settle_label(code: str | None) -> str | None:
    if code is None:
        return None
    if code == "undone_order_refunded":
        return N_("The order was returned during the hold")
    if code in AD_SHORT_SETTLES:
        return N_("The platform did not count the ad's thousand impressions by the hold's end")
    if code.startswith("undone_"):
        return N_("The action was undone during the hold")
    return SETTLE_LABELS.get(code, code)


BULK_LABELS = {
    "not_verified": N_("The platform did not confirm it; look at it yourself."),
    "has_risk_reasons": N_("It has risk signals; look at it yourself."),
    "assignment_not_found": N_("No such task."),
    "assignment_state": N_("It was already decided."),
    "own_work": N_("You cannot review your own work."),
}
"""Why bulk approval left a submission alone, by code."""

EVIDENCE_HINTS = {
    "follow": N_("Follow the account, then take a screenshot that shows “Following”."),
    "like": N_("Watch the video, like it, then take a screenshot that shows the like."),
    "comment": N_("Comment in your own words, then take a screenshot of your comment."),
    "share": N_("Share the video, then take a screenshot of the share."),
    "shoot": N_("Post your own video that mentions the account; upload it or give its link."),
    "live_visit": N_("Stay in the live room, then take a screenshot of the room."),
    "profile_ad": N_(
        "Open the link on your task's page and put the brand's ad card on your profile "
        "(your claim's code goes with it; an ad put up otherwise is not counted). Hand in "
        "your profile's link once the task page shows it was seen 1,000 times."
    ),
    "purchase": N_(
        "Claim the task first, then buy the product through the link on your task's page "
        "(it carries your claim's code; an order placed otherwise is not counted) and keep "
        "it. Take a screenshot of the order. The reward is paid once the return period is "
        "over; a returned order is not paid."
    ),
}
"""What to do and what to hand in, by task type."""
