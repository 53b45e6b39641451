"""What each action in the audit log means, in words an operator reads.

The log keeps the code (``ledger.adjustment_applied``), which searches and exports use;
pages show these words beside it. A few codes are made from a status as the action
happens (``ledger.withdrawal_paid``, ``work.appeal_upheld``): every status such an
action can end in is listed here too, and a test checks that every code written in the
source has its words.
"""

from __future__ import annotations

from xingdong.core.i18n import N_

ACTION_LABELS: dict[str, str] = {
    # The job queue
    "core.job_run_again": N_("Failed background job run again"),
    # Campaigns
    "campaigns.submitted": N_("Campaign submitted for review"),
    "campaigns.approved": N_("Campaign approved"),
    "campaigns.rejected": N_("Campaign rejected"),
    "campaigns.closed": N_("Campaign closed"),
    "campaigns.draft_deleted": N_("Draft campaign deleted"),
    "campaigns.quality_plan_joined": N_("Campaign put in the quality-task plan"),
    "campaigns.quality_plan_left": N_("Campaign taken out of the quality-task plan"),
    # Work and review
    "work.approved": N_("Submission approved"),
    "work.rejected": N_("Submission rejected"),
    "work.appeal_upheld": N_("Appeal upheld: the worker is paid"),
    "work.appeal_dismissed": N_("Appeal dismissed"),
    "work.contest_upheld": N_("Brand's contest upheld: the payment is taken back"),
    "work.contest_dismissed": N_("Brand's contest dismissed"),
    "work.gold_item_set": N_("Gold review item set"),
    "work.gold_item_retired": N_("Gold review item retired"),
    # Money
    "ledger.adjustment_requested": N_("Ledger adjustment requested"),
    "ledger.adjustment_applied": N_("Ledger adjustment applied"),
    "ledger.adjustment_rejected": N_("Ledger adjustment rejected"),
    "ledger.withdrawal_requested": N_("Withdrawal requested"),
    "ledger.withdrawal_approved": N_("Withdrawal approved"),
    "ledger.withdrawal_rejected": N_("Withdrawal rejected"),
    "ledger.withdrawal_paid": N_("Withdrawal paid out"),
    "ledger.withdrawal_failed": N_("Withdrawal payout failed"),
    "ledger.refund_requested": N_("Refund of unspent money requested"),
    "ledger.refund_refunded": N_("Refund paid back to the payer"),
    "ledger.refund_failed": N_("Refund failed"),
    "ledger.deposit_expired": N_("Top-up expired unpaid"),
    "ledger.deposit_closed": N_("Top-up closed"),
    "ledger.org_payout_account_bound": N_("Organisation's payout account bound"),
    # People, organisations and access
    "identity.organisation_created": N_("Organisation created"),
    "identity.organisation_closed": N_("Organisation closed"),
    "identity.member_invited": N_("Member invited"),
    "identity.invitation_accepted": N_("Invitation accepted"),
    "identity.invitation_declined": N_("Invitation declined"),
    "identity.invitation_revoked": N_("Invitation revoked"),
    "identity.member_role_changed": N_("Member's role changed"),
    "identity.member_removed": N_("Member removed"),
    "identity.staff_granted": N_("Staff role granted"),
    "identity.staff_revoked": N_("Staff role revoked"),
    "identity.person_frozen": N_("Account frozen"),
    "identity.person_unfrozen": N_("Account unfrozen"),
    "identity.password_changed": N_("Password changed"),
    "identity.password_reset": N_("Password reset by code"),
    "identity.api_key_created": N_("API key created"),
    "identity.api_key_revoked": N_("API key revoked"),
    "identity.account_linked": N_("Platform account linked"),
    "identity.account_unlinked": N_("Platform account unlinked"),
    "identity.data_exported": N_("Personal data exported"),
    "identity.account_erased": N_("Account erased"),
    # Agencies and creators
    "creators.contract_offered": N_("Agency contract offered"),
    "creators.contract_accepted": N_("Agency contract accepted"),
    "creators.contract_declined": N_("Agency contract declined"),
    "creators.contract_withdrawn": N_("Agency contract offer withdrawn"),
    "creators.contract_ended": N_("Agency contract ended"),
    # Brands' systems
    "insights.webhook_created": N_("Webhook added"),
    "insights.webhook_changed": N_("Webhook changed"),
    "insights.webhook_deleted": N_("Webhook deleted"),
    "insights.webhook_tested": N_("Webhook test sent"),
    "insights.webhook_redelivered": N_("Webhook event sent again"),
    "insights.webhook_secret_rolled": N_("Webhook secret replaced"),
    # The task feed
    "dispatch.weights_changed": N_("Feed weights changed"),
    "dispatch.seeding_requested": N_("Pacing price seeding asked for"),
    "dispatch.seeding_failed": N_("Pacing price seeding failed"),
}
"""Words for each code (not yet translated). A code not listed (an entry written by an
older or newer version) is shown by its code alone."""
