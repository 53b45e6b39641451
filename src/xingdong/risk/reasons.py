"""Stable reason codes. Each is documented in docs/risk.md; a test keeps the two in step.

Codes with a suffix (``signal_missing:<field>``, ``lockstep_group:<id>`` …) are listed by
their stem.
"""

from __future__ import annotations

from xingdong.core.i18n import N_, translate

REAL_TIME: dict[str, str] = {
    "device_shared": N_("this device was used by several accounts recently"),
    "device_farm": N_("this device was used by many accounts recently"),
    "ip_crowded": N_("many accounts on this IP with few devices between them (not carrier NAT)"),
    "ip_cotarget": N_(
        "several accounts from one IP or /24 acted on the same target within the hour"
    ),
    "ip_registration_burst": N_("many registrations from one IP or /24 within the hour"),
    "registration_burst": N_("many registrations with the same client in a few minutes"),
    "phone_virtual_operator": N_("the number is from a virtual operator (170/171/162/165/167)"),
    "phone_sequence": N_("the phone number is next to another recently registered one"),
    "platform_account_new": N_("the bound short-video account is days old and has no audience"),
    "velocity_claims": N_("too many claims by this account within the hour"),
    "velocity_submits": N_("too many submissions by this account within the hour"),
    "submit_too_fast": N_("submitted sooner after claiming than a person can do the task"),
    "submit_without_claim": N_("submitted a task this account had not claimed"),
    "trajectory_straight": N_("the gesture that submitted was a straight line"),
    "trajectory_regular": N_("the gesture was sampled at machine-even intervals"),
    "evidence_exact_reuse": N_("the same screenshot file was submitted by another account"),
    "evidence_resubmitted": N_("this account submitted the same screenshot for another task"),
    "evidence_near_duplicate": N_(
        "a near-copy of another account's screenshot, and its text does "
        "not show this submission (wrong clock, handle or state, or unreadable)"
    ),
    "ocr_target_missing": N_("the screenshot does not show the target's handle"),
    "ocr_done_state_missing": N_(
        "the screenshot does not show the done state (已关注/已点赞/已评论)"
    ),
    "ocr_clock_mismatch": N_("the status-bar clock does not match the submission time"),
    "platform_not_verified": N_("the platform connector said the action was not done"),
    "payout_shared": N_("the payout account receives money for other accounts too"),
    "new_device_for_account": N_("an established account appeared on a device it never used"),
    "account_previously_flagged": N_(
        "this account had an action blocked, or two sent to review, for its own behaviour"
    ),
    "ip_flagged_accounts": N_("other accounts on this IP were flagged for their behaviour today"),
    "account_registration_flagged": N_(
        "this account's registration scored as risky, even if it was let through"
    ),
    "signal_missing": N_(
        "the event lacked {detail}: the signals that need it were skipped and the decision was "
        "taken from the rest"
    ),
}

BATCH: dict[str, str] = {
    "lockstep_group": N_("acted on the same targets at the same times as group {detail}"),
    "dense_block": N_("part of an unusually dense block of accounts × targets (block {detail})"),
    "ring": N_("joined to other accounts by devices, IPs or payout accounts (ring {detail})"),
    "shared_payout_account": N_("shares a payout account with other accounts of a ring"),
    "shared_device": N_("shares a device with other accounts of a ring"),
    "blocked_in_real_time": N_("several of its actions were blocked as they happened"),
}

# Reasons about what an account did (not about gaps in the data or its history): the ones
# whose flags an account and its IP remember.
BEHAVIOURAL = frozenset(
    {
        "device_shared",
        "device_farm",
        "ip_cotarget",
        "registration_burst",
        "ip_registration_burst",
        "phone_sequence",
        "velocity_claims",
        "velocity_submits",
        "submit_too_fast",
        "trajectory_straight",
        "trajectory_regular",
        "evidence_exact_reuse",
        "evidence_near_duplicate",
        "evidence_resubmitted",
        "payout_shared",
    }
)

# Reasons that decide on their own: no honest person produces them.
HARD_BLOCK = frozenset({"evidence_exact_reuse"})


MISSING_FIELDS: dict[str, str] = {
    "ip": N_("the network address"),
    "device": N_("the device's id"),
    "ua": N_("the browser's description"),
    "phone_hash": N_("the phone number"),
    "phone_prefix": N_("the phone number's prefix"),
    "task": N_("the task"),
    "target": N_("the target"),
    "task_type": N_("the task type"),
    "evidence": N_("the evidence"),
    "evidence.sha256": N_("the file's fingerprint"),
    "evidence.phash": N_("the picture's likeness fingerprint"),
    "trajectory": N_("the path of the gesture that submitted"),
    "verified": N_("the platform's check of the action"),
    "amount_fen": N_("the amount"),
    "payout_account": N_("the payout account"),
}
"""What each field a risk event may lack is, as staff read it (``signal_missing:<field>``)."""

SAID_WHOLE: dict[str, str] = {
    "signal_missing:evidence.ocr_text": N_(
        "the screenshot's text was not read yet when it was handed in: the checks of its "
        "handle, done state and clock are added here once it is"
    ),
}
"""Reasons that read better said whole than with their field named."""


def reason_text(code: str, locale: str) -> str:
    """A reason as staff read it, in ``locale``, with what its suffix names (the missing
    field in words, the group, block or ring); an unknown code as it is."""
    if code in SAID_WHOLE:
        return translate(locale, SAID_WHOLE[code])
    head, _, detail = code.partition(":")
    message = REAL_TIME.get(head) or BATCH.get(head)
    if message is None:
        return code
    if head == "signal_missing" and detail in MISSING_FIELDS:
        detail = translate(locale, MISSING_FIELDS[detail])
    return translate(locale, message, detail=detail or "?")


def stem(code: str) -> str:
    return code.split(":", 1)[0]
