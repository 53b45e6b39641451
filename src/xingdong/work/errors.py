"""What can go wrong with a claim, a submission, a review or a dispute."""

from __future__ import annotations

from xingdong.core.errors import Conflict, Forbidden, NotFound, RateLimited, ValidationFailed
from xingdong.core.i18n import N_


class AssignmentNotFound(NotFound):
    code = "assignment_not_found"
    title = N_("No such task")


class NotEligible(Forbidden):
    code = "not_eligible"
    title = N_("You cannot take this task")


class CampaignNotOpen(Conflict):
    code = "campaign_not_open"
    title = N_("This campaign is not taking claims")


class SoldOut(Conflict):
    code = "sold_out"
    title = N_("All of this campaign's tasks are taken")


class ClaimLimitReached(Conflict):
    code = "claim_limit_reached"
    title = N_("You have taken this campaign's tasks as often as allowed")


class PacingLimitReached(RateLimited):
    code = "pacing_limit_reached"
    title = N_("This target has had enough actions this hour; try later")


class CampaignPaced(RateLimited):
    code = "campaign_paced"
    title = N_("This campaign's next task opens later")


class AssignmentStateConflict(Conflict):
    code = "assignment_state"
    title = N_("The task cannot do that in its current state")


class ClaimExpired(Conflict):
    code = "claim_expired"
    title = N_("Your claim has expired")


class EvidenceRequired(ValidationFailed):
    code = "evidence_required"
    title = N_("Evidence is missing")


class ReasonRequired(EvidenceRequired):
    """A decision, a dispute or its outcome without the reason it needs (the same code,
    which clients already branch on, with a title that says what is missing)."""

    title = N_("A reason is missing")


class OwnWork(Forbidden):
    code = "own_work"
    title = N_("You cannot decide on your own work")


class DisputeWindowClosed(Conflict):
    code = "dispute_window_closed"
    title = N_("The time to dispute this has passed")


class DisputeNotFound(NotFound):
    code = "dispute_not_found"
    title = N_("No such dispute")


class NoBudgetLeft(Conflict):
    code = "no_budget_left"
    title = N_("The campaign has no budget left for this")
