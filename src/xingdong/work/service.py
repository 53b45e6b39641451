"""The task lifecycle and its money.

::

    claimed ──submit──▶ submitted ──approve──▶ approved ──hold ends, still there──▶ released
       │                    │  (or auto-approved      │ └─hold ends, undone─▶ clawed_back
       └─ttl/close─▶ expired │   when verified)        └─brand contests─▶ disputed
                             └─reject─▶ rejected ──worker appeals──▶ disputed

Money (ledger accounts): a claim reserves the reward (escrow → the worker's pending) and
the fee (escrow → platform revenue) as two pending transfers; approval posts them,
rejection and expiry void them; release moves the reward from pending to available;
clawback moves it (and the fee) back to escrow. The campaign row is locked for every
change of its unit counts, so a campaign never has more units open and done than its
quantity (a CHECK constraint says so too) and escrow (no overdraft) never pays more.
"""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid5

from sqlalchemy import ColumnElement, and_, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.campaigns import service as campaigns
from xingdong.campaigns.errors import CampaignNotFound
from xingdong.campaigns.models import Campaign
from xingdong.campaigns.policy import IMPRESSIONS_PER_UNIT, TaskType
from xingdong.campaigns.targeting import (
    INELIGIBLE_REASONS,
    Targeted,
    WorkerProfile,
    why_not_eligible,
)
from xingdong.core.audit import record_audit
from xingdong.core.client_signals import ClientSignals
from xingdong.core.clock import local_time, utc_text, utcnow
from xingdong.core.errors import FieldError, ValidationFailed, XingdongError
from xingdong.core.i18n import N_, Phrase
from xingdong.core.ids import new_id
from xingdong.core.pagination import CursorPage, clamp_limit, next_cursor
from xingdong.core.policy import Action, Actor, require
from xingdong.core.settings import Settings
from xingdong.core.text import refuse_control_characters
from xingdong.creators import agencies
from xingdong.creators.tiers import tier_for_followers
from xingdong.dispatch.plan import paced_until
from xingdong.dispatch.tuning import weights_in_force
from xingdong.dispatch.weights import DispatchWeights
from xingdong.evidence import service as evidence
from xingdong.evidence.models import EvidenceFile
from xingdong.evidence.storage import EvidenceStorage
from xingdong.identity import service as identity
from xingdong.identity.models import Person
from xingdong.insights import service as insights
from xingdong.ledger import service as ledger
from xingdong.ledger import wallets
from xingdong.ledger.errors import IdempotencyKeyReused, InsufficientFunds
from xingdong.ledger.idempotency import claim_key
from xingdong.ledger.withdrawals import REVENUE_ACCOUNT
from xingdong.platforms.connector import (
    PlatformUnavailable,
    TargetInfo,
    Verification,
    answered_in_time,
    get_connector,
    tracked_link,
)
from xingdong.risk import service as risk
from xingdong.risk.errors import REFUSED, RiskRefused
from xingdong.work import gold, labels
from xingdong.work import repository as repo
from xingdong.work.errors import (
    AssignmentNotFound,
    AssignmentStateConflict,
    CampaignNotOpen,
    CampaignPaced,
    ClaimExpired,
    ClaimLimitReached,
    DisputeNotFound,
    DisputeWindowClosed,
    EvidenceRequired,
    NoBudgetLeft,
    NotEligible,
    OwnWork,
    PacingLimitReached,
    ReasonRequired,
    SoldOut,
)
from xingdong.work.models import (
    ASSIGNMENT_STATUSES,
    CLAIM_COUNTS,
    HOLDS_UNIT,
    Assignment,
    Dispute,
    GoldItem,
)
from xingdong.work.review_filter import EVERYTHING, ReviewFilter

REJECT_REASONS = {
    "evidence_unclear": N_("The evidence does not show the action clearly"),
    "wrong_target": N_("The action was done on another account or video"),
    "action_not_done": N_("The action is not there"),
    "duplicate_evidence": N_("The evidence was used before"),
    "not_own_words": N_("The comment is not in the worker's own words"),
    "requirements_not_met": N_("The task's requirements (time, content) are not met"),
    "other": N_("Other (see the note)"),
}
APPROVE_REASONS = {
    "meets_requirements": N_("Meets the requirements"),
    "platform_verified": N_("The platform confirmed the action"),
}
RETENTION_GRACE = timedelta(hours=24)
"""When the platform cannot say whether the action is still there, ask again for this
long after the hold ends; then release."""


def _reward_key(assignment_id: UUID, step: str) -> str:
    return f"assignment:{assignment_id}:{step}"


async def worker_profile(
    session: AsyncSession, *, person: Person, settings: Settings, now: datetime
) -> WorkerProfile:
    accounts, consented = await identity.accounts_and_consent(
        session, person=person, settings=settings
    )
    return WorkerProfile(
        age=identity.age_in(person, now.year),
        region=person.region,
        interests=frozenset(person.interests or ()),
        handles={a.platform: a.handle for a in accounts},
        tiers={a.platform: tier_for_followers(a.followers) for a in accounts},
        consented=consented,
    )


# --- claims ---------------------------------------------------------------------------


async def _units_taken(session: AsyncSession, campaign_id: UUID, person_id: UUID) -> int:
    taken = await session.scalar(
        select(func.count())
        .select_from(Assignment)
        .where(
            Assignment.campaign_id == campaign_id,
            Assignment.person_id == person_id,
            CLAIM_COUNTS,
        )
    )
    return int(taken or 0)


FEW_TARGETS = 20
"""Up to this many campaigns, :func:`capped_campaigns` reads only their targets' claims."""


async def capped_campaigns(
    session: AsyncSession, campaigns: Sequence[Campaign], now: datetime
) -> dict[UUID, datetime]:
    """Of these campaigns, those with an hourly cap whose target has had as many claims
    in the last hour as the cap allows (claims of every campaign on that target count, as
    :func:`claim` counts them), each with the moment it takes a claim again: when enough
    of those claims have left the hour. One query whatever their number."""
    capped = [c for c in campaigns if c.pacing_per_hour is not None]
    if not capped:
        return {}
    # Only targets busy enough to reach the lowest cap come back, with their claims'
    # times: a few rows whatever the number of campaigns (the feed's index asks this at
    # every sync).
    lowest = min(c.pacing_per_hour or 0 for c in capped)
    target = (Campaign.platform, Campaign.target_kind, Campaign.target_ref)
    query = (
        select(
            *target,
            func.array_agg(aggregate_order_by(Assignment.claimed_at, Assignment.claimed_at)),
        )
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .where(Assignment.claimed_at > now - timedelta(hours=1), CLAIM_COUNTS)
        .group_by(*target)
        .having(func.count() >= lowest)
    )
    if len(capped) <= FEW_TARGETS:
        # A claim or a task page asks about one campaign: only its target's claims.
        wanted = {(c.platform, c.target_kind, c.target_ref) for c in capped}
        query = query.where(tuple_(*target).in_(list(wanted)))
    rows = await session.execute(query)
    claimed: dict[tuple[str, str, str], list[datetime]] = {}
    for platform, kind, ref, times in rows:
        claimed[(platform, kind, ref)] = list(times)
    found: dict[UUID, datetime] = {}
    for campaign in capped:
        times = claimed.get((campaign.platform, campaign.target_kind, campaign.target_ref), [])
        cap = campaign.pacing_per_hour or 0
        if len(times) >= cap:
            # Under the cap again once all but cap - 1 of them are over an hour old.
            oldest_to_go = times[len(times) - cap] if cap > 0 else now
            found[campaign.id] = max(oldest_to_go + timedelta(hours=1), now)
    return found


async def claim(
    session: AsyncSession,
    *,
    person: Person,
    campaign_id: UUID,
    settings: Settings,
    now: datetime | None = None,
    assignment_id: UUID | None = None,
    signals: ClientSignals | None = None,
) -> Assignment:
    """Take one unit of a campaign: its budget is reserved for this person until the
    claim expires. Claims on one campaign queue on its row, so none oversells.
    ``assignment_id`` is given by :func:`claim_once` (an id derived from a client's key).
    A campaign ahead of its delivery plan takes no claim until the plan catches up (the
    feed's pacing guard, also for claims that did not come from the feed). The risk
    engine decides last: a block refuses the claim, a review marks it."""
    moment = now or utcnow()
    # Before the campaign's lock, so that an erasure of the account never waits for it.
    await identity.require_active(session, person_id=person.id)
    # Read before the campaign's row is locked: claims on it queue behind that lock.
    weights = await weights_in_force(session, settings)
    campaign = await campaigns.get_campaign(session, actor=None, campaign_id=campaign_id, lock=True)
    if campaign.status != "live" or not campaign.starts_at <= moment < campaign.ends_at:
        raise CampaignNotOpen(detail=N_("This campaign is not taking claims now."))
    who = await worker_profile(session, person=person, settings=settings, now=moment)
    reason = why_not_eligible(campaign, who, min_age=settings.min_age_for_paid_tasks)
    if reason is not None:
        raise NotEligible(detail=INELIGIBLE_REASONS[reason], extra={"reason": reason})
    if await _units_taken(session, campaign.id, person.id) >= campaign.per_person_limit:
        raise ClaimLimitReached(
            detail=N_("At most {limit} per person."), extra={"limit": campaign.per_person_limit}
        )
    if campaign.units_open + campaign.units_done >= campaign.quantity:
        raise SoldOut(detail=N_("All of this campaign's tasks are taken."))
    opens_at = paced_until(campaign, moment, weights)
    if opens_at is not None:
        raise CampaignPaced(
            detail=N_(
                "This campaign's tasks are spread over its window so that they do not all "
                "go at once; its next one opens at {time} (Beijing time)."
            ),
            extra={
                "retry_after": max(math.ceil((opens_at - moment).total_seconds()), 1),
                "opens_at": opens_at.isoformat(),
                "time": local_time(opens_at),
            },
        )
    if campaign.id in await capped_campaigns(session, [campaign], moment):
        raise PacingLimitReached(
            detail=N_("This target has had enough actions this hour; try later."),
            extra={"retry_after": 600},
        )
    verdict = await risk.decide(
        session,
        event=_risk_event("claim", person, campaign, moment, signals),
        settings=settings,
    )
    if verdict.blocks:
        raise RiskRefused(detail=REFUSED)
    assignment_id = assignment_id or new_id()
    await wallets.open_wallet(session, person.id)
    await ledger.open_account(session, ledger.AccountSpec(REVENUE_ACCOUNT))
    escrow = campaigns.escrow_account(campaign.id)
    reward = await ledger.transfer(
        session,
        ledger.TransferRequest(
            idempotency_key=_reward_key(assignment_id, "reserve-reward"),
            debit=escrow,
            credit=wallets.pending_account(person.id),
            amount=campaign.reward,
            code="task_reward",
            reference=f"assignment:{assignment_id}",
            pending=True,
        ),
    )
    fee_id = None
    if campaign.fee:
        fee = await ledger.transfer(
            session,
            ledger.TransferRequest(
                idempotency_key=_reward_key(assignment_id, "reserve-fee"),
                debit=escrow,
                credit=REVENUE_ACCOUNT,
                amount=campaign.fee,
                code="task_fee",
                reference=f"assignment:{assignment_id}",
                pending=True,
            ),
        )
        fee_id = fee.id
    campaign.units_open += 1
    assignment = Assignment(
        id=assignment_id,
        campaign_id=campaign.id,
        person_id=person.id,
        actor_handle=who.handles[campaign.platform],
        status="claimed",
        claimed_at=moment,
        expires_at=moment + claim_window(settings, campaign, moment),
        reward_reservation=reward.id,
        fee_reservation=fee_id,
        verification={},
        risk_score=round(verdict.score * 100) if verdict.needs_review else 0,
        risk_reasons=verdict.reasons if verdict.needs_review else [],
    )
    session.add(assignment)
    await session.flush()
    return assignment


async def _void_reservations(session: AsyncSession, assignment: Assignment, step: str) -> None:
    await ledger.void_pending(
        session,
        idempotency_key=_reward_key(assignment.id, f"{step}-reward"),
        pending_id=assignment.reward_reservation,
    )
    if assignment.fee_reservation is not None:
        await ledger.void_pending(
            session,
            idempotency_key=_reward_key(assignment.id, f"{step}-fee"),
            pending_id=assignment.fee_reservation,
        )


async def _post_reservations(session: AsyncSession, assignment: Assignment) -> None:
    await ledger.post_pending(
        session,
        idempotency_key=_reward_key(assignment.id, "post-reward"),
        pending_id=assignment.reward_reservation,
    )
    if assignment.fee_reservation is not None:
        await ledger.post_pending(
            session,
            idempotency_key=_reward_key(assignment.id, "post-fee"),
            pending_id=assignment.fee_reservation,
        )


async def _after_budget_returned(session: AsyncSession, campaign: Campaign) -> None:
    """Budget that comes back to a closed campaign goes on to the organisation."""
    if campaign.status in ("closed", "rejected"):
        await campaigns.return_unused_escrow(session, campaign)


async def _expire(session: AsyncSession, assignment: Assignment, campaign: Campaign) -> None:
    await _void_reservations(session, assignment, "expire")
    assignment.status = "expired"
    campaign.units_open -= 1


async def expire_claims(session: AsyncSession, *, now: datetime | None = None) -> int:
    """Release claims whose time ran out (a periodic job; safe to run twice at once)."""
    moment = now or utcnow()
    due = (
        await session.execute(
            select(Assignment.id, Assignment.campaign_id)
            .where(Assignment.status == "claimed", Assignment.expires_at <= moment)
            .order_by(Assignment.expires_at)
            .limit(500)
        )
    ).all()
    expired = 0
    for assignment_id, campaign_id in due:
        # The campaign first, then the assignment: the order claims and reviews use.
        campaign = await campaigns.get_campaign(
            session, actor=None, campaign_id=campaign_id, lock=True
        )
        assignment = await session.get(
            Assignment, assignment_id, with_for_update=True, populate_existing=True
        )
        if assignment is None or assignment.status != "claimed":
            continue
        await _expire(session, assignment, campaign)
        await _after_budget_returned(session, campaign)
        expired += 1
    await session.flush()
    return expired


GIVEN_UP = "given_up"
"""The settle reason of a claim its worker gave back before its time ran out."""


async def give_up(
    session: AsyncSession, *, person: Person, assignment_id: UUID, now: datetime | None = None
) -> Assignment:
    """The worker gives a claim back before it expires: its unit returns to the pool at
    once (the claim no longer counts against the per-person limit), as an expiry would."""
    moment = now or utcnow()
    assignment = await _locked_assignment(session, assignment_id)
    if assignment.person_id != person.id:
        raise AssignmentNotFound(detail=N_("No such task."))
    _state(assignment, "claimed")
    campaign = await campaigns.get_campaign(session, actor=None, campaign_id=assignment.campaign_id)
    await _expire(session, assignment, campaign)
    assignment.settled_at = moment
    assignment.settle_reason = GIVEN_UP
    await _after_budget_returned(session, campaign)
    await session.flush()
    return assignment


async def release_open_claims(session: AsyncSession, *, campaign: Campaign) -> int:
    """Expire a closing campaign's claims that have not been submitted (campaign locked)."""
    open_claims = (
        await session.scalars(
            select(Assignment)
            .where(Assignment.campaign_id == campaign.id, Assignment.status == "claimed")
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).all()
    for assignment in open_claims:
        await _expire(session, assignment, campaign)
    await session.flush()
    return len(open_claims)


# --- submissions ----------------------------------------------------------------------


async def _locked_assignment(session: AsyncSession, assignment_id: UUID) -> Assignment:
    assignment = await session.get(Assignment, assignment_id)
    if assignment is None:
        raise AssignmentNotFound(detail=N_("No such task."))
    # Lock in the order everything else uses: campaign, then assignment.
    await campaigns.get_campaign(session, actor=None, campaign_id=assignment.campaign_id, lock=True)
    await session.refresh(assignment, with_for_update=True)
    return assignment


def _state(assignment: Assignment, *allowed: str) -> None:
    if assignment.status not in allowed:
        raise AssignmentStateConflict(
            detail=N_("The task is “{status_label}”."),
            extra={
                "status": assignment.status,
                "status_label": Phrase(labels.STATUS_LABELS[assignment.status]),
            },
        )


@dataclass(frozen=True)
class Evidence:
    file_id: UUID | None = None
    link: str | None = None
    note: str | None = None


def _target_of(campaign: Campaign) -> TargetInfo:
    return TargetInfo(
        platform=campaign.platform,
        kind=campaign.target_kind,
        ref=campaign.target_ref,
        title=campaign.target_title,
        owner_handle=campaign.target_ref if campaign.target_kind == "account" else "",
        url=campaign.target_url,
    )


def _verification_json(verification: Verification) -> dict[str, Any]:
    return {
        "status": verification.status,
        "detail": verification.detail,
        "observed_at": verification.observed_at.isoformat() if verification.observed_at else None,
        "watched_seconds": verification.watched_seconds,
        "stayed_seconds": verification.stayed_seconds,
        "impressions": verification.impressions,
        # What the worker's comment says on the platform: the reviewer judges whether it is
        # in their own words (a screenshot may not show it whole).
        "comment_text": verification.comment_text,
    }


NO_ANSWER = "no_answer"
"""The detail of an ``unknown`` verification when the platform did not answer in
``platform_timeout_seconds``."""


async def _answer_in_time(platform: str, question: Awaitable[Verification]) -> Verification:
    """The platform's answer, or "cannot tell" when none comes in time: a hand-in then
    waits for a reviewer, and a hold's end for the next try, instead of for the platform."""
    try:
        return await answered_in_time(platform, question)
    except PlatformUnavailable:
        return Verification(status="unknown", observed_at=None, detail=NO_ANSWER)


async def _platform_sees(campaign: Campaign, assignment: Assignment) -> Verification:
    """What the platform says now of the claimed action, asked as a hand-in asks."""
    return await _answer_in_time(
        campaign.platform,
        get_connector(campaign.platform).verify_action(
            campaign.task_type,
            actor_handle=assignment.actor_handle,
            target=_target_of(campaign),
            since=assignment.claimed_at,
            min_watch_seconds=campaign.min_watch_seconds,
            min_stay_seconds=campaign.min_stay_seconds,
            tracking_code=_tracking_code_of(campaign, assignment),
            min_impressions=_impressions_asked(campaign),
        ),
    )


async def ad_impressions(campaign: Campaign, assignment: Assignment) -> int | None:
    """How often a claimed profile ad has been seen so far, as the platform counts (0
    before it is up); None for other tasks, or when the platform cannot tell."""
    if campaign.task_type != "profile_ad" or assignment.status != "claimed":
        return None
    seen = await _platform_sees(campaign, assignment)
    if seen.status == "unknown":
        return None
    return seen.impressions or 0


@dataclass(frozen=True)
class PlatformCheck:
    """What the platform sees of one of a person's tasks now."""

    seen: Verification
    at_hold_end: str | None = None
    """For a task in hold, what the hold's end would do if it came now: ``released``,
    ``clawed_back`` or ``waiting`` (the platform cannot tell; it is asked again)."""
    settle_reason: str | None = None
    """The reason the hold's end would settle with (``retained``, ``undone_no_follow`` …)."""
    checked_at: datetime | None = None
    """When a check in the hold was made (None before the hand-in)."""

    def stored(self) -> dict[str, Any]:
        return {
            "status": self.seen.status,
            "detail": self.seen.detail,
            "at_hold_end": self.at_hold_end,
            "settle_reason": self.settle_reason,
        }


def stored_hold_check(assignment: Assignment) -> PlatformCheck | None:
    """The latest check of a task still in hold, as it was kept (None if none was made)."""
    found = assignment.hold_check
    if assignment.status != "approved" or not found or assignment.hold_checked_at is None:
        return None
    seen = Verification(status=found["status"], observed_at=None, detail=found["detail"])
    return PlatformCheck(
        seen,
        at_hold_end=found["at_hold_end"],
        settle_reason=found.get("settle_reason"),
        checked_at=assignment.hold_checked_at,
    )


async def check_now(
    session: AsyncSession, *, person: Person, assignment_id: UUID, now: datetime | None = None
) -> PlatformCheck:
    """What the platform sees of a task now. Before the hand-in (claimed): a hand-in is
    final, so the worker may look first (a stay too short, a follow not yet shown) and
    finish the action; nothing is written. In the hold (approved): whether the action is
    still there, as the hold's end will ask, so that an action undone by mistake can be
    done again in time; the answer is kept as the task's latest check."""
    moment = now or utcnow()
    found = await repo.assignment_with_campaign(session, assignment_id)
    if found is None or found[0].person_id != person.id:
        raise AssignmentNotFound(detail=N_("No such task."))
    assignment, campaign = found
    _state(assignment, "claimed", "approved")
    if assignment.status == "approved":
        return await _check_hold(session, assignment, campaign, now=moment)
    if assignment.expires_at <= moment:
        raise ClaimExpired(detail=N_("Your claim has expired; the task went back to the pool."))
    return PlatformCheck(await _platform_sees(campaign, assignment))


def _still_to_hand_in(assignment: Assignment, person: Person, moment: datetime) -> None:
    if assignment.person_id != person.id:
        raise AssignmentNotFound(detail=N_("No such task."))
    _state(assignment, "claimed")
    if assignment.expires_at <= moment:
        raise ClaimExpired(detail=N_("Your claim has expired; the task went back to the pool."))


async def submit(
    session: AsyncSession,
    *,
    person: Person,
    assignment_id: UUID,
    evidence: Evidence,
    settings: Settings,
    now: datetime | None = None,
    signals: ClientSignals | None = None,
) -> Assignment:
    """Hand in the proof. The platform is asked at once; a verified action on a campaign
    that allows it is approved without a reviewer, anything else joins the queue. The
    risk engine decides too: a block refuses the hand-in, a review sends it to a
    reviewer with the reasons."""
    moment = now or utcnow()
    # The platform is asked before the locks are taken: its answer can take seconds, and
    # every claim, hand-in and review of the campaign waits for the campaign's lock.
    found = await repo.assignment_with_campaign(session, assignment_id)
    if found is None:
        raise AssignmentNotFound(detail=N_("No such task."))
    _still_to_hand_in(found[0], person, moment)
    campaign = found[1]
    if evidence.file_id is None and not (evidence.link or "").strip():
        raise EvidenceRequired(
            detail=(
                N_("Upload your video or a screenshot of it, or give the video's link.")
                if campaign.task_type == TaskType.SHOOT
                else N_("Upload a screenshot, or give a link.")
            ),
            fields=[FieldError("evidence", N_("Evidence is required."))],
        )
    verification = await _platform_sees(campaign, found[0])
    assignment = await _locked_assignment(session, assignment_id)
    # Again under the locks: the claim may have been handed in, given up or expired
    # while the platform answered.
    _still_to_hand_in(assignment, person, moment)
    campaign = await campaigns.get_campaign(session, actor=None, campaign_id=assignment.campaign_id)
    verdict = await risk.decide(
        session,
        event=await _submission_event(
            session, person, campaign, moment, signals, evidence, verification
        ),
        settings=settings,
    )
    if verdict.blocks:
        raise RiskRefused(detail=REFUSED)
    # Speed, reuse of evidence, gestures and the rest are the risk engine's to judge.
    reasons: list[str] = []
    if verification.status == "absent":
        reasons.append("platform_" + verification.detail)
    if verdict.needs_review:
        reasons += [r for r in verdict.reasons if r not in reasons]
    assignment.submitted_at = moment
    assignment.evidence_file_id = evidence.file_id
    assignment.evidence_link = (evidence.link or "").strip()[:300] or None
    assignment.evidence_note = (evidence.note or "").strip()[:500] or None
    assignment.verification = _verification_json(verification)
    assignment.risk_reasons = reasons
    assignment.risk_score = risk_score(reasons, verdict.score)
    assignment.status = "submitted"
    if (
        campaign.review_policy == "auto_when_verified"
        and verification.status == "verified"
        and not reasons
    ):
        await _approve(
            session, assignment, campaign, reviewer=None, reason="platform_verified", note=None,
            settings=settings, now=moment,
        )  # fmt: skip
    await session.flush()
    return assignment


# --- review ---------------------------------------------------------------------------


async def _approve(
    session: AsyncSession,
    assignment: Assignment,
    campaign: Campaign,
    *,
    reviewer: UUID | None,
    reason: str,
    note: str | None,
    settings: Settings,
    now: datetime,
) -> None:
    await _post_reservations(session, assignment)
    assignment.status = "approved"
    assignment.reviewed_by = reviewer
    assignment.reviewed_at = now
    assignment.review_reason = reason
    assignment.review_note = note
    assignment.hold_until = now + hold_period(settings, campaign.task_type)
    campaign.units_open -= 1
    campaign.units_done += 1
    await _tell_brand(session, assignment, campaign, "completion.approved")


async def _tell_brand(
    session: AsyncSession, assignment: Assignment, campaign: Campaign, event: str
) -> None:
    """An event for the brand's systems about one completion of its campaign (never who
    did it)."""
    reason = (
        assignment.settle_reason
        if assignment.status in ("released", "clawed_back")
        else assignment.review_reason
        if assignment.status == "rejected"
        else None
    )
    await insights.emit(
        session,
        org_id=campaign.org_id,
        type=event,
        data={
            "assignment_id": str(assignment.id),
            "campaign_id": str(campaign.id),
            "campaign_title": campaign.title,
            "status": assignment.status,
            "unit_price_fen": campaign.unit_price,
            "claimed_at": utc_text(assignment.claimed_at),
            "submitted_at": utc_text(assignment.submitted_at),
            "reviewed_at": utc_text(assignment.reviewed_at),
            "hold_until": utc_text(assignment.hold_until),
            "reason": reason,
        },
    )


REVIEW_NOTE_MAX = 500


def _check_review_reason(
    *, approve: bool, reason: str, note: str | None, verified: bool = True
) -> None:
    reasons = APPROVE_REASONS if approve else REJECT_REASONS
    if reason not in reasons:
        # Nothing chosen is the usual case (the workbench's radio buttons start empty);
        # a code we do not know comes only from a stale page or a program.
        problem = N_("Unknown reason.") if reason.strip() else N_("Choose a reason.")
        raise ReasonRequired(detail=N_("Choose a reason."), fields=[FieldError("reason", problem)])
    if reason == "platform_verified" and not verified:
        # The brand, the statements and the completion model read it as the platform's
        # word: a person's approval says so in its own reason.
        raise ValidationFailed(
            detail=N_("The platform did not confirm this action; choose another reason."),
            fields=[FieldError("reason", N_("The platform did not confirm it."))],
        )
    if reason == "other" and not (note or "").strip():
        raise ReasonRequired(
            detail=N_("Say why in the note."), fields=[FieldError("note", N_("Required."))]
        )
    if len((note or "").strip()) > REVIEW_NOTE_MAX:
        # The worker reads it: refused rather than cut mid-sentence.
        raise ValidationFailed(
            detail=N_("Use at most {high} characters."),
            fields=[FieldError("note", N_("Use at most {high} characters."))],
            extra={"high": REVIEW_NOTE_MAX},
        )
    refuse_control_characters(note or "", field="note", lines=True)


async def review(
    session: AsyncSession,
    *,
    actor: Actor,
    assignment_id: UUID,
    approve: bool,
    reason: str,
    note: str | None,
    settings: Settings,
    now: datetime | None = None,
) -> Assignment:
    """A reviewer's decision on a submission; each submission is decided once."""
    require(actor, Action.REVIEW_QUEUE)
    moment = now or utcnow()
    assignment = await _locked_assignment(session, assignment_id)
    if assignment.person_id == actor.person_id:
        raise OwnWork(detail=N_("You cannot review your own work."))
    _state(assignment, "submitted")
    verified = assignment.verification.get("status") == "verified"
    _check_review_reason(approve=approve, reason=reason, note=note, verified=verified)
    campaign = await campaigns.get_campaign(session, actor=None, campaign_id=assignment.campaign_id)
    clean_note = (note or "").strip()[:500] or None
    if approve:
        await _approve(
            session, assignment, campaign, reviewer=actor.person_id, reason=reason,
            note=clean_note, settings=settings, now=moment,
        )  # fmt: skip
    else:
        await _void_reservations(session, assignment, "reject")
        assignment.status = "rejected"
        assignment.reviewed_by = actor.person_id
        assignment.reviewed_at = moment
        assignment.review_reason = reason
        assignment.review_note = clean_note
        campaign.units_open -= 1
        await _after_budget_returned(session, campaign)
        await _tell_brand(session, assignment, campaign, "completion.rejected")
    await record_audit(
        session,
        actor_id=actor.person_id,
        action="work.approved" if approve else "work.rejected",
        object_type="assignment",
        object_id=assignment.id,
        data={"reason": reason},
    )
    await session.flush()
    return assignment


def _waiting_for(actor: Actor) -> ColumnElement[bool]:
    """Submissions waiting for this reviewer: all but their own."""
    return and_(Assignment.status == "submitted", Assignment.person_id != actor.person_id)


async def review_queue(
    session: AsyncSession,
    *,
    actor: Actor,
    limit: int = 50,
    narrowed: ReviewFilter = EVERYTHING,
) -> list[tuple[Assignment, Campaign]]:
    """Submissions waiting (those ``narrowed`` keeps), riskiest and oldest first; never
    the reviewer's own."""
    require(actor, Action.REVIEW_QUEUE)
    rows = await session.execute(
        select(Assignment, Campaign)
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .where(_waiting_for(actor), *narrowed.conditions())
        .order_by(Assignment.risk_score.desc(), Assignment.submitted_at)
        .limit(limit)
    )
    return [(a, c) for a, c in rows.all()]


async def review_waiting(
    session: AsyncSession, *, actor: Actor, narrowed: ReviewFilter = EVERYTHING
) -> int:
    """How many submissions wait for this reviewer (all but their own; those ``narrowed``
    keeps)."""
    require(actor, Action.REVIEW_QUEUE)
    count = await session.scalar(
        select(func.count())
        .select_from(Assignment)
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .where(_waiting_for(actor), *narrowed.conditions())
    )
    return int(count or 0)


@dataclass(frozen=True)
class QueueEntry:
    """One item of the reviewers' queue. ``item_id`` is what a decision names: the
    submission itself, or a gold item, which looks exactly like a submission."""

    item_id: UUID
    assignment: Assignment
    campaign: Campaign


async def review_queue_with_gold(
    session: AsyncSession,
    *,
    actor: Actor,
    settings: Settings,
    rng: random.Random,
    limit: int = 50,
    gold_first: bool = False,
    narrowed: ReviewFilter = EVERYTHING,
) -> list[QueueEntry]:
    """The queue with, at the rate ``review_gold_rate`` says, one gold item mixed in.
    Reviewers are not told which one it is, and its place does not tell them either: it
    stands where its risk score and hand-in time put it, as any submission does, and it
    fits the queue's filter (``narrowed``) as they do. With ``gold_first`` (the workbench
    opens on the first item) a gold item whose score can lead the queue is chosen when
    there is one."""
    waiting = await review_queue(session, actor=actor, limit=limit, narrowed=narrowed)
    entries = [QueueEntry(a.id, a, c) for a, c in waiting]
    top = entries[0].assignment.risk_score if gold_first and entries else None
    picked = await gold.pick_gold_item(
        session,
        actor=actor,
        rate=settings.review_gold_rate,
        rng=rng,
        at_least=top,
        narrowed=narrowed,
    )
    if picked is not None:
        item, source, campaign = picked
        place = queue_place(entries, source)
        # Past the last of a full page it would be the one entry beyond the limit; within
        # it, the page keeps its length: either way a page holds what a page of real work
        # would.
        if place < limit:
            entries.insert(place, QueueEntry(item.id, source, campaign))
            del entries[limit:]
    return entries


def queue_place(entries: list[QueueEntry], shown: Assignment) -> int:
    """Where ``shown`` falls in a queue ordered riskiest and oldest first."""

    def key(a: Assignment) -> tuple[int, datetime]:
        return (-a.risk_score, a.submitted_at or a.claimed_at)

    return next(
        (n for n, entry in enumerate(entries) if key(shown) < key(entry.assignment)),
        len(entries),
    )


async def queue_entry(
    session: AsyncSession, *, actor: Actor, item_id: UUID, narrowed: ReviewFilter = EVERYTHING
) -> QueueEntry | None:
    """An item of this reviewer's queue asked for by id that the queue's first page does
    not show (further down the queue, or a gold item shown again after a form error):
    a submission waiting or a gold item still to answer, either only if it fits
    ``narrowed``, so that asking tells a gold item from real work in no way."""
    require(actor, Action.REVIEW_QUEUE)
    row = (
        await session.execute(
            select(Assignment, Campaign)
            .join(Campaign, Campaign.id == Assignment.campaign_id)
            .where(Assignment.id == item_id, _waiting_for(actor), *narrowed.conditions())
        )
    ).first()
    if row is not None:
        return QueueEntry(row[0].id, row[0], row[1])
    picked = await gold.unanswered_gold_item(
        session, actor=actor, gold_item_id=item_id, narrowed=narrowed
    )
    return None if picked is None else QueueEntry(picked[0].id, picked[1], picked[2])


@dataclass(frozen=True)
class ReviewOutcome:
    item_id: UUID
    status: str
    review_reason: str
    hold_until: datetime | None


async def decide_review_item(
    session: AsyncSession,
    *,
    actor: Actor,
    item_id: UUID,
    approve: bool,
    reason: str,
    note: str | None,
    settings: Settings,
    now: datetime | None = None,
) -> ReviewOutcome:
    """A reviewer's decision on a queue item. A gold item records whether the answer
    was right and is answered like a submission (so it cannot be told apart); a
    submission goes through :func:`review`."""
    require(actor, Action.REVIEW_QUEUE)
    moment = now or utcnow()
    if await gold.is_gold_item(session, item_id):
        _check_review_reason(approve=approve, reason=reason, note=note)
        await gold.answer_gold_item(
            session, actor=actor, gold_item_id=item_id, approve=approve, reason=reason
        )
        return ReviewOutcome(
            item_id=item_id,
            status="approved" if approve else "rejected",
            review_reason=reason,
            hold_until=moment + hold_period(settings, await gold.source_task_type(session, item_id))
            if approve
            else None,
        )
    assignment = await review(
        session, actor=actor, assignment_id=item_id, approve=approve, reason=reason,
        note=note, settings=settings, now=moment,
    )  # fmt: skip
    return ReviewOutcome(
        item_id=assignment.id,
        status=assignment.status,
        review_reason=assignment.review_reason or reason,
        hold_until=assignment.hold_until,
    )


OCR_TEXT_MISSING = "signal_missing:evidence.ocr_text"
"""The risk engine's note that a hand-in came before its screenshot's text was read."""


def risk_score(reasons: Sequence[str], engine_score: float) -> int:
    """A submission's place in the review queue (0 to 100, riskiest first): 50 for each
    thing the platform found missing (``platform_<detail>``) on top of the risk engine's
    own score. Its other reasons are already in that score; counting each as 50 again put
    every item at 100 once a signal or two were missing, and the order meant nothing."""
    platform = sum(1 for reason in reasons if reason.startswith("platform_"))
    return min(100, 50 * platform + round(engine_score * 100))


async def screenshot_read(
    session: AsyncSession, *, file_id: UUID, text: str, settings: Settings
) -> list[str]:
    """OCR has read a hand-in's screenshot (after the hand-in, in a job): a submission
    still waiting for a reviewer gets the risk reasons its text gives (the target's handle
    missing, the done state missing, a status-bar clock that disagrees with the hand-in),
    so the reviewer sees them. Returns the reasons added."""
    from xingdong.risk import ocr
    from xingdong.risk.service import rules_from

    assignment = await session.scalar(
        select(Assignment)
        .where(Assignment.evidence_file_id == file_id, Assignment.status == "submitted")
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if assignment is None or assignment.submitted_at is None:
        return []
    campaign = await campaigns.get_campaign(session, actor=None, campaign_id=assignment.campaign_id)
    rules = rules_from(settings.risk_rules_file)
    target = "@" + campaign.target_ref if campaign.target_kind == "account" else None
    found = ocr.inspect(
        text, target=target, task_type=campaign.task_type,
        submitted_at=assignment.submitted_at.timestamp(),
        utc_offset_hours=rules.clock_utc_offset_hours,
        before_minutes=rules.clock_before_minutes, after_minutes=rules.clock_after_minutes,
    )  # fmt: skip
    added = [
        code
        for code, failed in (
            ("ocr_target_missing", found.has_target is False),
            ("ocr_done_state_missing", found.has_done_state is False),
            ("ocr_clock_mismatch", found.clock_agrees is False),
        )
        if failed and code not in assignment.risk_reasons
    ]
    # The text is read now: the hand-in's "no text read" signal no longer holds.
    kept = [r for r in assignment.risk_reasons if r != OCR_TEXT_MISSING]
    if added or len(kept) != len(assignment.risk_reasons):
        assignment.risk_reasons = [*kept, *added]
        assignment.risk_score = min(100, assignment.risk_score + 20 * len(added))
        await session.flush()
    return added


FRAUD_NOTE = "Confirmed fraud (risk case)"


async def undo_unsettled_work(
    session: AsyncSession, *, person_id: UUID, actor: Actor, now: datetime | None = None
) -> dict[str, int]:
    """An operator confirmed this person as fraud: open claims give their unit back,
    waiting hand-ins are rejected, rewards still in hold go back to the campaigns'
    escrow (marked for the brands). Released money is not touched: it has left the
    platform's hands or waits in the wallet, where the frozen account cannot reach it."""
    require(actor, Action.STAFF_CONSOLE)
    moment = now or utcnow()
    rows = (
        await session.scalars(
            select(Assignment.campaign_id)
            .where(
                Assignment.person_id == person_id,
                Assignment.status.in_(("claimed", "submitted", "approved")),
            )
            .distinct()
        )
    ).all()
    outcome = {"expired": 0, "rejected": 0, "clawed_back": 0}
    for campaign_id in sorted(rows):
        campaign = await campaigns.get_campaign(
            session, actor=None, campaign_id=campaign_id, lock=True
        )
        assignments = (
            await session.scalars(
                select(Assignment)
                .where(
                    Assignment.person_id == person_id,
                    Assignment.campaign_id == campaign_id,
                    Assignment.status.in_(("claimed", "submitted", "approved")),
                )
                .order_by(Assignment.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).all()
        for assignment in assignments:
            if assignment.status == "claimed":
                await _expire(session, assignment, campaign)
                outcome["expired"] += 1
            elif assignment.status == "submitted":
                await _void_reservations(session, assignment, "reject")
                assignment.status = "rejected"
                assignment.reviewed_by = actor.person_id
                assignment.reviewed_at = moment
                assignment.review_reason = "other"
                assignment.review_note = FRAUD_NOTE
                campaign.units_open -= 1
                outcome["rejected"] += 1
                await _tell_brand(session, assignment, campaign, "completion.rejected")
            else:
                await _clawback(session, assignment, campaign, reason="fraud_confirmed", now=moment)
                outcome["clawed_back"] += 1
        await _after_budget_returned(session, campaign)
    await session.flush()
    return outcome


# --- hold, retention, release, clawback -----------------------------------------------


async def _clawback(
    session: AsyncSession, assignment: Assignment, campaign: Campaign, *, reason: str, now: datetime
) -> None:
    escrow = campaigns.escrow_account(campaign.id)
    movements = [
        ledger.TransferRequest(
            idempotency_key=_reward_key(assignment.id, "clawback-reward"),
            debit=wallets.pending_account(assignment.person_id),
            credit=escrow,
            amount=campaign.reward,
            code="task_clawback",
            reference=f"assignment:{assignment.id}",
        )
    ]
    if campaign.fee:
        movements.append(
            ledger.TransferRequest(
                idempotency_key=_reward_key(assignment.id, "clawback-fee"),
                debit=REVENUE_ACCOUNT,
                credit=escrow,
                amount=campaign.fee,
                code="task_fee_refund",
                reference=f"assignment:{assignment.id}",
            )
        )
    await ledger.transfer_linked(session, movements)
    assignment.status = "clawed_back"
    assignment.settled_at = now
    assignment.settle_reason = reason
    campaign.units_done -= 1
    await _after_budget_returned(session, campaign)
    await _tell_brand(session, assignment, campaign, "completion.clawed_back")


async def _release(
    session: AsyncSession, assignment: Assignment, campaign: Campaign, *, reason: str, now: datetime
) -> None:
    reference = f"assignment:{assignment.id}"
    share = await agencies.share_of_release(
        session,
        person_id=assignment.person_id,
        claimed_at=assignment.claimed_at,
        reward=campaign.reward,
    )
    movements = [
        ledger.TransferRequest(
            idempotency_key=_reward_key(assignment.id, "release"),
            debit=wallets.pending_account(assignment.person_id),
            credit=wallets.available_account(assignment.person_id),
            amount=campaign.reward - (share.amount if share else 0),
            code="task_release",
            reference=reference,
        )
    ]
    if share is not None:
        movements.append(
            ledger.TransferRequest(
                idempotency_key=_reward_key(assignment.id, "agency-share"),
                debit=wallets.pending_account(assignment.person_id),
                credit=agencies.agency_account(share.org_id),
                amount=share.amount,
                code=agencies.SHARE_CODE,
                reference=reference,
                meta={"contract": str(share.contract_id), "person": str(assignment.person_id)},
            )
        )
    await ledger.transfer_linked(session, [m for m in movements if m.amount > 0])
    assignment.status = "released"
    assignment.settled_at = now
    assignment.settle_reason = reason
    await _tell_brand(session, assignment, campaign, "completion.released")


def tracking_code(assignment_id: UUID) -> str:
    """The code a purchase task's link carries, so the shop knows which claim brought the
    order."""
    return "xd-" + assignment_id.hex


TRACKED_TASK_TYPES = frozenset({"purchase", "profile_ad"})
"""Task types done through a link that carries the claim's tracking code."""


def _tracking_code_of(campaign: Campaign, assignment: Assignment) -> str | None:
    """The code the platform must find on a purchase's order or a profile ad: it was
    placed for this claim, not before it nor for another one."""
    return tracking_code(assignment.id) if campaign.task_type in TRACKED_TASK_TYPES else None


def _impressions_asked(campaign: Campaign) -> int:
    return IMPRESSIONS_PER_UNIT if campaign.task_type == "profile_ad" else 0


def claim_window(settings: Settings, campaign: Campaign, now: datetime) -> timedelta:
    """How long a claim taken ``now`` lasts: a profile ad's long enough to be seen a
    thousand times and a shoot task's to film, post and hand in a video, but no longer
    than the campaign's window, which closes open claims; others an hour or so."""
    hours = {
        "profile_ad": settings.profile_ad_claim_hours,
        "shoot": settings.shoot_claim_hours,
    }.get(campaign.task_type)
    if hours is not None:
        return max(min(timedelta(hours=hours), campaign.ends_at - now), timedelta(0))
    return timedelta(minutes=settings.claim_ttl_minutes)


def task_link(campaign: Campaign, assignment: Assignment) -> str:
    """Where the worker goes to do the task: for a purchase or a profile ad, the target's
    link with the claim's tracking code."""
    code = _tracking_code_of(campaign, assignment)
    return campaign.target_url if code is None else tracked_link(campaign.target_url, code)


def hold_hours(settings: Settings, task_type: str) -> int:
    """How long an approved reward stays pending: a purchase's at least as long as the
    shop lets the buyer return it, so that a returned order is seen before money moves."""
    if task_type == "purchase":
        return max(settings.hold_hours, settings.purchase_hold_hours)
    return settings.hold_hours


def hold_period(settings: Settings, task_type: str) -> timedelta:
    return timedelta(hours=hold_hours(settings, task_type))


HOLDS_PER_RUN = 200


async def due_holds(session: AsyncSession, *, now: datetime) -> list[UUID]:
    """Approved work whose hold has ended, oldest first (at most a run's worth)."""
    due = await session.execute(
        select(Assignment.id)
        .where(Assignment.status == "approved", Assignment.hold_until <= now)
        .order_by(Assignment.hold_until)
        .limit(HOLDS_PER_RUN)
    )
    return list(due.scalars())


async def settle_hold(session: AsyncSession, assignment_id: UUID, *, now: datetime) -> str:
    """After one hold: ask the platform whether the action is still there; release the
    reward to available if it is, claw it back to escrow if it was undone. Answers
    ``released``, ``clawed_back``, ``waiting`` (no answer yet, within the grace) or
    ``skipped`` (settled meanwhile)."""
    # Asked before the locks are taken, as a hand-in asks (see :func:`submit`).
    found = await repo.assignment_with_campaign(session, assignment_id)
    if found is None or found[0].status != "approved" or found[0].hold_until is None:
        return "skipped"
    kept = await _still_there(found[1], found[0])
    assignment = await _locked_assignment(session, assignment_id)
    if assignment.status != "approved" or assignment.hold_until is None:
        return "skipped"
    campaign = await campaigns.get_campaign(session, actor=None, campaign_id=assignment.campaign_id)
    outcome, reason = _hold_outcome(assignment, campaign, kept)
    if reason is None:  # the platform cannot tell: asked again, until the grace runs out
        if now < assignment.hold_until + RETENTION_GRACE:
            return outcome
        outcome, reason = "released", "retention_unknown"
    settle = _release if outcome == "released" else _clawback
    await settle(session, assignment, campaign, reason=reason, now=now)
    return outcome


async def holds_to_check(
    session: AsyncSession, *, now: datetime, every: timedelta, limit: int = 200
) -> list[UUID]:
    """Tasks in hold not looked at for ``every`` (since their hand-in, or their latest
    check), whose hold has not ended yet: the longest unchecked first."""
    last = func.coalesce(Assignment.hold_checked_at, Assignment.submitted_at)
    found = await session.scalars(
        select(Assignment.id)
        .where(Assignment.status == "approved", Assignment.hold_until > now, last <= now - every)
        .order_by(last)
        .limit(limit)
    )
    return list(found)


async def check_hold(session: AsyncSession, assignment_id: UUID, *, now: datetime) -> str | None:
    """One periodic check in the hold: ask the platform and keep the answer for the worker
    to see. Answers what the hold's end would do now, or None (settled meanwhile)."""
    found = await repo.assignment_with_campaign(session, assignment_id)
    if found is None or found[0].status != "approved":
        return None
    assignment, campaign = found
    return (await _check_hold(session, assignment, campaign, now=now)).at_hold_end


async def _check_hold(
    session: AsyncSession, assignment: Assignment, campaign: Campaign, *, now: datetime
) -> PlatformCheck:
    kept = await _still_there(campaign, assignment)
    outcome, reason = _hold_outcome(assignment, campaign, kept)
    check = PlatformCheck(kept, at_hold_end=outcome, settle_reason=reason, checked_at=now)
    # Not locked: the platform's answer is only kept, and only while the hold lasts (a
    # hold settled meanwhile keeps none).
    await session.execute(
        update(Assignment)
        .where(Assignment.id == assignment.id, Assignment.status == "approved")
        .values(hold_check=check.stored(), hold_checked_at=now)
    )
    return check


async def _still_there(campaign: Campaign, assignment: Assignment) -> Verification:
    """The approved action as it stands now, asked as the hold's end asks."""
    return await _answer_in_time(
        campaign.platform,
        get_connector(campaign.platform).check_retention(
            campaign.task_type,
            actor_handle=assignment.actor_handle,
            target=_target_of(campaign),
            tracking_code=_tracking_code_of(campaign, assignment),
            # The order the work was verified by, not one bought again near the hold's end.
            until=assignment.submitted_at if campaign.task_type == "purchase" else None,
            min_impressions=_impressions_asked(campaign),
        ),
    )


def _hold_outcome(
    assignment: Assignment, campaign: Campaign, kept: Verification
) -> tuple[str, str | None]:
    """What the hold's end does on this answer of the platform, and its settle reason:
    ``released``, ``clawed_back`` or ``waiting`` (no answer: asked again)."""
    if kept.status == "verified":
        return "released", "retained"
    if kept.status == "absent" and _platform_overruled(assignment, campaign, kept):
        return "released", OVERRULED
    if kept.status == "absent":
        return "clawed_back", "undone_" + kept.detail
    return "waiting", None


OVERRULED = "platform_overruled"
"""The settle reason of work a person approved though the platform did not see it."""


def _platform_overruled(assignment: Assignment, campaign: Campaign, kept: Verification) -> bool:
    """Whether the platform says at the hold's end only what it said at the hand-in, when a
    reviewer or an operator (on appeal) looked at the evidence and approved the work
    anyway. That is nothing new, and clawing the reward back on it would undo their
    decision without anyone deciding. A profile ad is the exception: a reviewer may
    approve it short of its thousand impressions, which the hold's end still asks for."""
    seen = assignment.verification
    return (
        campaign.task_type != "profile_ad"
        and seen.get("status") == "absent"
        and seen.get("detail") == kept.detail
    )


async def settle_holds(session: AsyncSession, *, now: datetime | None = None) -> dict[str, int]:
    """Every due hold in this one transaction (:func:`settle_hold` each). The periodic job
    gives each hold a transaction of its own instead, so that the ledger accounts one
    release locks (a worker's, their agency's, the platform's) are not held while the
    platform is asked about the next ones."""
    moment = now or utcnow()
    outcome = {"released": 0, "clawed_back": 0, "waiting": 0}
    for assignment_id in await due_holds(session, now=moment):
        settled = await settle_hold(session, assignment_id, now=moment)
        if settled in outcome:
            outcome[settled] += 1
    await session.flush()
    return outcome


# --- disputes -------------------------------------------------------------------------


async def appeal(
    session: AsyncSession,
    *,
    person: Person,
    assignment_id: UUID,
    reason: str,
    settings: Settings,
    now: datetime | None = None,
) -> Dispute:
    """The worker asks an operator to look at a rejection again."""
    moment = now or utcnow()
    await identity.require_active(session, person_id=person.id)
    assignment = await _locked_assignment(session, assignment_id)
    if assignment.person_id != person.id:
        raise AssignmentNotFound(detail=N_("No such task."))
    _state(assignment, "rejected")
    assert assignment.reviewed_at is not None
    if moment > assignment.reviewed_at + timedelta(days=settings.appeal_days):
        raise DisputeWindowClosed(
            detail=N_("Appeals are possible for {days} days after the decision."),
            extra={"days": settings.appeal_days},
        )
    return await _open_dispute(session, assignment, "appeal", person.id, reason)


async def contest(
    session: AsyncSession,
    *,
    actor: Actor,
    assignment_id: UUID,
    reason: str,
    now: datetime | None = None,
) -> Dispute:
    """The brand says an approved completion is not genuine, while its reward is held."""
    moment = now or utcnow()
    assignment = await _locked_assignment(session, assignment_id)
    campaign = await campaigns.get_campaign(
        session, actor=actor, campaign_id=assignment.campaign_id
    )
    require(actor, Action.ORG_MANAGE_FUNDS, org_id=campaign.org_id)
    _state(assignment, "approved")
    if assignment.hold_until is None or moment >= assignment.hold_until:
        raise DisputeWindowClosed(detail=N_("Completions can be contested until the hold ends."))
    return await _open_dispute(session, assignment, "contest", actor.person_id, reason)


DISPUTE_REASON_MIN, DISPUTE_REASON_MAX = 2, 500
"""Characters of an appeal's or a contest's reason."""


async def _open_dispute(
    session: AsyncSession, assignment: Assignment, kind: str, raised_by: UUID, reason: str
) -> Dispute:
    reason = reason.strip()
    decided = await session.scalar(
        select(Dispute.id).where(Dispute.assignment_id == assignment.id, Dispute.kind == kind)
    )
    if decided is not None:
        # One appeal per rejection and one contest per approval: an operator's decision
        # stands, or the same work could be sent back to them without end.
        raise AssignmentStateConflict(
            detail=N_("This was already appealed once, and the decision stands.")
            if kind == "appeal"
            else N_("This was already contested once, and the decision stands."),
        )
    if not reason:
        raise ReasonRequired(
            detail=N_("Say why."), fields=[FieldError("reason", N_("A reason is required."))]
        )
    if not DISPUTE_REASON_MIN <= len(reason) <= DISPUTE_REASON_MAX:
        # Too short tells the operator nothing; too long is refused rather than cut.
        raise ValidationFailed(
            detail=N_("Say why in {low} to {high} characters."),
            fields=[FieldError("reason", N_("Use {low} to {high} characters."))],
            extra={"low": DISPUTE_REASON_MIN, "high": DISPUTE_REASON_MAX},
        )
    refuse_control_characters(reason, field="reason", lines=True)
    dispute = Dispute(
        id=new_id(),
        assignment_id=assignment.id,
        kind=kind,
        raised_by=raised_by,
        reason=reason,
        status="open",
    )
    assignment.disputed_from = assignment.status
    assignment.status = "disputed"
    session.add(dispute)
    await session.flush()
    return dispute


async def decide_dispute(
    session: AsyncSession,
    *,
    actor: Actor,
    dispute_id: UUID,
    uphold: bool,
    note: str,
    settings: Settings,
    now: datetime | None = None,
) -> Dispute:
    """An operator's decision; the ledger follows it. Upholding an appeal pays the worker
    from the campaign's escrow; upholding a contest claws the reward back."""
    require(actor, Action.STAFF_CONSOLE)
    moment = now or utcnow()
    dispute = await session.get(Dispute, dispute_id, with_for_update=True, populate_existing=True)
    if dispute is None:
        raise DisputeNotFound(detail=N_("No such dispute."))
    if dispute.status != "open":
        raise AssignmentStateConflict(
            detail=N_("The dispute was already decided."), extra={"status": dispute.status}
        )
    if not note.strip():
        raise ReasonRequired(
            detail=N_("Say why."), fields=[FieldError("note", N_("A reason is required."))]
        )
    if len(note.strip()) > DISPUTE_REASON_MAX:
        raise ValidationFailed(
            detail=N_("Keep the note to {most} characters."),
            fields=[FieldError("note", N_("Too long."))],
            extra={"most": DISPUTE_REASON_MAX},
        )
    assignment = await _locked_assignment(session, dispute.assignment_id)
    # Part of it: who raised it, whose work it is, and who made the decision it is about.
    if actor.person_id in (dispute.raised_by, assignment.person_id, assignment.reviewed_by):
        raise OwnWork(detail=N_("You cannot decide a dispute you are part of."))
    campaign = await campaigns.get_campaign(
        session, actor=None, campaign_id=assignment.campaign_id, lock=True
    )
    if dispute.kind == "appeal" and uphold:
        await _pay_after_appeal(session, assignment, campaign, settings=settings, now=moment)
    elif dispute.kind == "appeal":
        assignment.status = "rejected"
    elif uphold:
        await _clawback(session, assignment, campaign, reason="contest_upheld", now=moment)
    else:
        assignment.status = "approved"
    assignment.disputed_from = None
    dispute.status = "upheld" if uphold else "dismissed"
    dispute.decided_by = actor.person_id
    dispute.decision_note = note.strip()[:500]
    dispute.decided_at = moment
    await record_audit(
        session,
        actor_id=actor.person_id,
        action=f"work.{dispute.kind}_{dispute.status}",
        object_type="assignment",
        object_id=assignment.id,
        data={"dispute": str(dispute.id), "note": dispute.decision_note},
    )
    await session.flush()
    return dispute


async def _pay_after_appeal(
    session: AsyncSession,
    assignment: Assignment,
    campaign: Campaign,
    *,
    settings: Settings,
    now: datetime,
) -> None:
    if campaign.units_open + campaign.units_done >= campaign.quantity:
        raise NoBudgetLeft(
            detail=N_("Every unit of the campaign is taken or paid; it cannot pay for more.")
        )
    escrow = campaigns.escrow_account(campaign.id)
    movements = [
        ledger.TransferRequest(
            idempotency_key=_reward_key(assignment.id, "appeal-reward"),
            debit=escrow,
            credit=wallets.pending_account(assignment.person_id),
            amount=campaign.reward,
            code="task_reward",
            reference=f"assignment:{assignment.id}",
        )
    ]
    if campaign.fee:
        movements.append(
            ledger.TransferRequest(
                idempotency_key=_reward_key(assignment.id, "appeal-fee"),
                debit=escrow,
                credit=REVENUE_ACCOUNT,
                amount=campaign.fee,
                code="task_fee",
                reference=f"assignment:{assignment.id}",
            )
        )
    try:
        await ledger.transfer_linked(session, movements)
    except InsufficientFunds:
        raise NoBudgetLeft(
            detail=N_("The campaign's escrow no longer holds enough to pay for this.")
        ) from None
    assignment.status = "approved"
    assignment.hold_until = now + hold_period(settings, campaign.task_type)
    campaign.units_done += 1
    await _tell_brand(session, assignment, campaign, "completion.approved")


# --- the worker's task feed and claims made through the API and pages ------------------


@dataclass(slots=True)
class OpenTask:
    """A live campaign the person may claim a unit of now. (Not frozen: a feed builds
    twenty of them a request, and a frozen dataclass sets each field the slow way.)"""

    campaign: Campaign
    units_left: int
    taken_by_me: int
    reason: str = "recommended"
    """Why it is in this person's feed (a code of ``dispatch.reasons.ITEM_REASONS``)."""
    reason_params: dict[str, str | int] = field(default_factory=dict)
    task_id: str = ""
    """The campaign's id as text (made here when the caller does not have it)."""

    def __post_init__(self) -> None:
        if not self.task_id:
            self.task_id = str(self.campaign.id)


@dataclass(frozen=True)
class TaskFeed:
    tasks: list[OpenTask]
    reasons: list[str]
    """Why there is nothing to take (codes of ``labels.FEED_REASONS``, the profile's gaps
    first); empty when there are tasks."""
    params: dict[str, str] = field(default_factory=dict)
    """What the reasons' texts name (``paced_until``: the ``time``)."""


def _risk_event(
    kind: str,
    person: Person,
    campaign: Campaign,
    moment: datetime,
    signals: ClientSignals | None,
) -> dict[str, Any]:
    """A claim or hand-in in the risk engine's event format (docs/risk.md)."""
    event: dict[str, Any] = {
        "type": kind,
        "ts": moment.timestamp(),
        "account": str(person.id),
        "task": str(campaign.id),
        "campaign": str(campaign.id),
        "target": f"{campaign.platform}:{campaign.target_ref}",
        "task_type": campaign.task_type,
    }
    return {**event, **risk.client_fields(signals)}


async def _submission_event(
    session: AsyncSession,
    person: Person,
    campaign: Campaign,
    moment: datetime,
    signals: ClientSignals | None,
    proof: Evidence,
    verification: Verification,
) -> dict[str, Any]:
    event = _risk_event("submit", person, campaign, moment, signals)
    if proof.file_id is not None:
        file = await evidence.get_file(session, proof.file_id)
        event["evidence"] = {
            "sha256": file.sha256,
            "phash": None if file.phash is None else f"{file.phash & (2**64 - 1):016x}",
            "width": file.width,
            "height": file.height,
            "ocr_text": None,  # read later, in a job
        }
    event["trajectory"] = (
        [list(sample) for sample in signals.trajectory]
        if signals is not None and signals.trajectory
        else None
    )
    event["verified"] = {"verified": True, "absent": False}.get(verification.status)
    return event


def _units_left(campaign: Campaign) -> int:
    return max(campaign.quantity - campaign.units_open - campaign.units_done, 0)


def profile_gaps(who: WorkerProfile, min_age: int) -> list[str]:
    """What keeps the person from every task, whatever the campaigns are."""
    gaps = []
    if not who.consented:
        gaps.append("no_consent")
    if who.age is None:
        gaps.append("age_unknown")
    elif who.age < min_age:
        gaps.append("minor")
    if not who.handles:
        gaps.append("no_bound_account")
    return gaps


def why_not_open_to(campaign: Targeted, who: WorkerProfile, settings: Settings) -> str | None:
    """Why this person may not take this live campaign (a code of
    ``labels.FEED_REASONS``), or None."""
    return why_not_eligible(campaign, who, min_age=settings.min_age_for_paid_tasks)


async def units_taken_by_person(session: AsyncSession, *, person_id: UUID) -> dict[UUID, int]:
    """How many units of each campaign the person holds or has done."""
    return await repo.units_taken_by(session, person_id=person_id, campaign_ids=None)


ONBOARDING_TIERS = ["novice"]
"""A campaign open to novices only is an onboarding task (as dispatch reads it)."""


async def has_onboarded(session: AsyncSession, *, person_id: UUID) -> bool:
    """Whether the person holds or has done a unit of an onboarding campaign, ended or
    not (:data:`ONBOARDING_TIERS`)."""
    found = await session.scalar(
        select(Assignment.id)
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .where(
            Assignment.person_id == person_id,
            CLAIM_COUNTS,
            Campaign.tiers == ONBOARDING_TIERS,
        )
        .limit(1)
    )
    return found is not None


async def claim_times(session: AsyncSession, *, campaign_id: UUID) -> list[datetime]:
    """When each unit the campaign's claims hold or have done was claimed (not those given
    back: expired, rejected or clawed back), oldest first: its delivery over time."""
    rows = await session.scalars(
        select(Assignment.claimed_at)
        .where(Assignment.campaign_id == campaign_id, HOLDS_UNIT)
        .order_by(Assignment.claimed_at)
    )
    return list(rows.all())


@dataclass(frozen=True)
class ClaimSeen:
    person_id: UUID
    campaign_id: UUID
    claimed_at: datetime


async def claims_since(
    session: AsyncSession, *, since: datetime, limit: int = 5_000
) -> list[ClaimSeen]:
    """Claims made after ``since``, oldest first (what dispatch learns from)."""
    rows = await session.execute(
        select(Assignment.person_id, Assignment.campaign_id, Assignment.claimed_at)
        .where(Assignment.claimed_at > since)
        .order_by(Assignment.claimed_at)
        .limit(limit)
    )
    return [ClaimSeen(p, c, at) for p, c, at in rows.all()]


@dataclass(frozen=True)
class TaskView:
    campaign: Campaign
    units_left: int
    taken_by_me: int
    reason: str | None
    """Why the person cannot claim it now (a code of ``labels.TASK_REASONS``), or None."""
    open_claim: Assignment | None
    """The person's claim on it that still waits for evidence."""
    opens_at: datetime | None = None
    """When a campaign held back by pacing (reason ``paced``) takes claims again."""
    latest_mine: Assignment | None = None
    """Once the person has taken it as often as allowed: their latest task of it, to go
    to from the campaign."""

    @property
    def reason_params(self) -> dict[str, str]:
        return opening_params(self.opens_at)


def opening_params(opens_at: datetime | None) -> dict[str, str]:
    """What the text of a reason names (``labels.TASK_REASONS``: ``paced`` names when)."""
    return {"time": local_time(opens_at)} if opens_at else {}


VISIBLE_TO_WORKERS = ("live", "paused", "closed")
"""Campaigns in other states (drafts, waiting for approval, rejected) are the brand's."""


async def task_view(
    session: AsyncSession,
    *,
    person: Person,
    campaign_id: UUID,
    settings: Settings,
    now: datetime | None = None,
) -> TaskView:
    """One campaign as a worker sees it, with whether they can claim it now."""
    moment = now or utcnow()
    campaign = await campaigns.get_campaign(session, actor=None, campaign_id=campaign_id)
    if campaign.status not in VISIBLE_TO_WORKERS:
        raise CampaignNotFound(detail=N_("No such campaign."))
    who = await worker_profile(session, person=person, settings=settings, now=moment)
    taken = (
        await repo.units_taken_by(session, person_id=person.id, campaign_ids=[campaign.id])
    ).get(campaign.id, 0)
    reason, opens_at = why_not_claimable(
        campaign, taken=taken, now=moment, settings=settings, who=who,
        weights=await weights_in_force(session, settings),
    )  # fmt: skip
    if reason is None:
        reason, opens_at = _capped(await capped_campaigns(session, [campaign], moment), campaign)
    open_claim = await repo.open_claim_on(session, person_id=person.id, campaign_id=campaign.id)
    latest = None
    if reason == "limit_reached" and open_claim is None:
        latest = await repo.latest_taken_on(session, person_id=person.id, campaign_id=campaign.id)
    return TaskView(campaign, _units_left(campaign), taken, reason, open_claim, opens_at, latest)


def why_not_claimable(
    campaign: Campaign,
    *,
    taken: int,
    now: datetime,
    settings: Settings,
    weights: DispatchWeights,
    who: WorkerProfile | None = None,
) -> tuple[str | None, datetime | None]:
    """Why the person (who has taken ``taken`` units of it) cannot claim the campaign
    now, as a code of ``labels.TASK_REASONS`` (eligibility only when ``who`` is given),
    and for ``paced`` when it takes claims again; ``(None, None)`` when they can."""
    if campaign.status != "live" or not campaign.starts_at <= now < campaign.ends_at:
        return "not_open", None
    if who is not None:
        ineligible = why_not_eligible(campaign, who, min_age=settings.min_age_for_paid_tasks)
        if ineligible is not None:
            return ineligible, None
    if taken >= campaign.per_person_limit:
        return "limit_reached", None
    if _units_left(campaign) == 0:
        return "sold_out", None
    opens_at = paced_until(campaign, now, weights)
    return (None, None) if opens_at is None else ("paced", opens_at)


def _capped(capped: dict[UUID, datetime], campaign: Campaign) -> tuple[str | None, datetime | None]:
    """``target_capped`` and when it lifts, for a campaign of ``capped``."""
    lifts_at = capped.get(campaign.id)
    return (None, None) if lifts_at is None else ("target_capped", _next_minute(lifts_at))


def _next_minute(moment: datetime) -> datetime:
    """Up to the next whole minute, the time people are told."""
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + timedelta(minutes=1)


@dataclass(frozen=True)
class CardState:
    """A task of the task center as it is now (the page refreshes its cards with it)."""

    units_left: int
    quantity: int
    reason: str | None
    """Why it can no longer be claimed (a code of ``labels.TASK_REASONS``), or None."""
    opens_at: datetime | None = None

    @property
    def reason_params(self) -> dict[str, str]:
        return opening_params(self.opens_at)


MAX_CARDS = 100
"""The most tasks one refresh of the task center asks about (the largest feed
``dispatch_feed_size`` allows)."""


async def card_states(
    session: AsyncSession,
    *,
    person: Person,
    campaign_ids: Sequence[UUID],
    settings: Settings,
    now: datetime | None = None,
) -> dict[UUID, CardState]:
    """The task center's tasks as they are now: units left and whether the person can
    still claim each, in two queries whatever their number (at most ``MAX_CARDS``). A
    campaign workers may not see reads as not open."""
    moment = now or utcnow()
    wanted = list(dict.fromkeys(campaign_ids))[:MAX_CARDS]
    rows = await session.scalars(
        select(Campaign).where(Campaign.id.in_(wanted), Campaign.status.in_(VISIBLE_TO_WORKERS))
    )
    found = {campaign.id: campaign for campaign in rows}
    taken = await repo.units_taken_by(session, person_id=person.id, campaign_ids=list(found))
    weights = await weights_in_force(session, settings)
    capped = await capped_campaigns(session, list(found.values()), moment)
    states: dict[UUID, CardState] = {}
    for campaign_id in wanted:
        campaign = found.get(campaign_id)
        if campaign is None:
            states[campaign_id] = CardState(0, 0, "not_open")
            continue
        reason, opens_at = why_not_claimable(
            campaign, taken=taken.get(campaign_id, 0), now=moment, settings=settings,
            weights=weights,
        )  # fmt: skip
        if reason is None:
            reason, opens_at = _capped(capped, campaign)
        states[campaign_id] = CardState(_units_left(campaign), campaign.quantity, reason, opens_at)
    return states


CLAIM_KEY_NAMESPACE = UUID("0b6f3f0e-7c1a-4d8e-9a52-6d1f2e3c4b5a")
MAX_KEY_LENGTH = 160


def claim_id_for_key(person_id: UUID, idempotency_key: str) -> UUID:
    """The id of the claim a person makes with a client's ``Idempotency-Key``: a retry
    computes the same id and finds the first claim. It is a name-based UUID, not a
    time-ordered one; lists order assignments by ``created_at``."""
    return uuid5(CLAIM_KEY_NAMESPACE, f"{person_id}:{idempotency_key}")


async def claim_once(
    session: AsyncSession,
    *,
    person: Person,
    campaign_id: UUID,
    idempotency_key: str | None,
    settings: Settings,
    now: datetime | None = None,
    signals: ClientSignals | None = None,
) -> Assignment:
    """:func:`claim`, safe to retry: with a key, a retry (even one racing the first
    attempt) answers with the first attempt's assignment instead of taking another unit.
    The same key for another campaign is refused."""
    if idempotency_key is None:
        return await claim(
            session, person=person, campaign_id=campaign_id, settings=settings, now=now,
            signals=signals,
        )  # fmt: skip
    key = idempotency_key.strip()
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValidationFailed(
            detail=N_("Send an Idempotency-Key header of 1 to 160 characters."),
            fields=[FieldError("Idempotency-Key", N_("Required."))],
        )
    assignment_id = claim_id_for_key(person.id, key)
    # Attempts with one key wait here for each other; the later one finds the first's row.
    lock_number = int.from_bytes(assignment_id.bytes[:8], "big", signed=True)
    await session.execute(select(func.pg_advisory_xact_lock(lock_number)))
    await claim_key(session, person_id=person.id, key=key, kind="claim")
    existing = await session.get(Assignment, assignment_id)
    if existing is not None:
        if existing.campaign_id != campaign_id:
            raise IdempotencyKeyReused(
                detail=N_("This idempotency key was used for a different request.")
            )
        return existing
    return await claim(
        session,
        person=person,
        campaign_id=campaign_id,
        settings=settings,
        now=now,
        assignment_id=assignment_id,
        signals=signals,
    )


# --- the worker's assignments -----------------------------------------------------------


@dataclass(frozen=True)
class AssignmentView:
    assignment: Assignment
    campaign: Campaign
    dispute: Dispute | None
    """The latest appeal or contest about it, if any."""
    appeal_until: datetime | None
    """Until when the worker may appeal (rejected assignments only)."""


def appeal_deadline(
    assignment: Assignment, settings: Settings, *, appealed: bool
) -> datetime | None:
    """Until when the worker may appeal: a rejection, once (``appealed`` says whether
    they did already)."""
    if assignment.status != "rejected" or assignment.reviewed_at is None or appealed:
        return None
    return assignment.reviewed_at + timedelta(days=settings.appeal_days)


async def my_assignment(
    session: AsyncSession, *, person: Person, assignment_id: UUID, settings: Settings
) -> AssignmentView:
    """One of the person's own assignments; anyone else's answers "not found"."""
    found = await repo.assignment_with_campaign(session, assignment_id)
    if found is None or found[0].person_id != person.id:
        raise AssignmentNotFound(detail=N_("No such task."))
    assignment, campaign = found
    dispute = await repo.latest_dispute(session, assignment.id)
    appealed = dispute is not None and dispute.kind == "appeal"
    deadline = appeal_deadline(assignment, settings, appealed=appealed)
    return AssignmentView(assignment, campaign, dispute, deadline)


@dataclass(frozen=True)
class AssignmentPage(CursorPage[tuple[Assignment, Campaign]]):
    appealed: frozenset[UUID] = frozenset()
    """Which of them the worker has appealed already (rejected ones only)."""


async def my_assignments(
    session: AsyncSession,
    *,
    person: Person,
    cursor: str | None = None,
    limit: int | None = None,
    status: str | None = None,
) -> AssignmentPage:
    """The person's assignments, newest first, a page at a time."""
    if status is not None and status not in ASSIGNMENT_STATUSES:
        raise ValidationFailed(
            detail=N_("Please correct the marked fields."),
            fields=[FieldError("status", N_("Unknown status."))],
        )
    size = clamp_limit(limit)
    rows = await repo.assignments_page(
        session, person_id=person.id, cursor=cursor, limit=size, status=status
    )
    items = rows[:size]
    rejected = [a.id for a, _ in items if a.status == "rejected"]
    return AssignmentPage(
        items=items,
        next_cursor=next_cursor([a for a, _ in rows], size),
        appealed=await repo.appealed(session, rejected) if rejected else frozenset(),
    )


@dataclass(frozen=True)
class PersonalWork:
    """All the work records of one person, for their copy of their data."""

    assignments: list[tuple[Assignment, Campaign]]
    """Every assignment, oldest first, with its campaign."""
    disputes: list[Dispute]
    """Disputes they raised (appeals, or contests for a brand) and those about their work."""


async def personal_work(session: AsyncSession, *, person_id: UUID) -> PersonalWork:
    return PersonalWork(
        assignments=await repo.assignments_of(session, person_id),
        disputes=await repo.disputes_raised_by_or_about(session, person_id),
    )


OPEN_WORK = ("claimed", "submitted", "approved", "disputed")
"""Assignments whose outcome, or whose money, is not settled yet."""


async def open_work_count(session: AsyncSession, *, person_id: UUID) -> int:
    """Tasks the person holds, handed in, has in hold or in a dispute."""
    count = await session.scalar(
        select(func.count())
        .select_from(Assignment)
        .where(Assignment.person_id == person_id, Assignment.status.in_(OPEN_WORK))
    )
    return count or 0


async def open_work_on_campaigns_of(session: AsyncSession, *, org_id: UUID) -> int:
    """Tasks on the organisation's campaigns held, handed in, in hold or in a dispute."""
    count = await session.scalar(
        select(func.count())
        .select_from(Assignment)
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .where(Campaign.org_id == org_id, Assignment.status.in_(OPEN_WORK))
    )
    return count or 0


def details_forgotten(assignment: Assignment) -> bool:
    """Whether :func:`forget_worker_details` cleared the assignment (its worker erased
    their account, and their proof's bytes went with it): the account used is the one
    thing every claim records."""
    return assignment.actor_handle == ""


async def forget_worker_details(session: AsyncSession, *, person_id: UUID) -> int:
    """Clear what the person wrote and which account they used on their settled tasks, and
    the words of the appeals they raised (an erased account's): the assignments and
    disputes stay, as the completions brands paid for and the money records point to
    them. The number of assignments cleared."""
    result = await session.execute(
        update(Assignment)
        .where(Assignment.person_id == person_id)
        .values(
            actor_handle="",
            evidence_link=None,
            evidence_note=None,
            verification=Assignment.verification.op("-")("comment_text"),
        )
    )
    await session.execute(update(Dispute).where(Dispute.raised_by == person_id).values(reason=""))
    # Their proof is deleted: a gold item made of one can no longer be judged.
    await session.execute(
        update(GoldItem)
        .where(
            GoldItem.source_assignment_id.in_(
                select(Assignment.id).where(Assignment.person_id == person_id)
            )
        )
        .values(active=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Upload:
    """A file as it arrived in a request."""

    data: bytes
    filename: str | None
    content_type: str | None


MAX_LINK_LENGTH = 300
MAX_NOTE_LENGTH = 500
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".webm")


def _checked_link(link: str | None) -> str | None:
    """A web address (``http``/``https``) or a path on this site, or None when empty."""
    text = (link or "").strip()
    if not text:
        return None
    parts = urlsplit(text)
    is_web = parts.scheme in ("http", "https") and bool(parts.netloc)
    is_site_path = not parts.scheme and not parts.netloc and text.startswith("/")
    if len(text) > MAX_LINK_LENGTH or not (is_web or is_site_path):
        raise ValidationFailed(
            detail=N_("The link must be a web address of at most 300 characters."),
            fields=[FieldError("link", N_("Give an address starting with https:// or http://."))],
        )
    return text


def _is_video(upload: Upload) -> bool:
    declared = (upload.content_type or "").lower()
    return declared.startswith("video/") or (upload.filename or "").lower().endswith(VIDEO_SUFFIXES)


async def submit_evidence(
    session: AsyncSession,
    *,
    person: Person,
    assignment_id: UUID,
    upload: Upload | None,
    link: str | None,
    note: str | None,
    settings: Settings,
    storage: EvidenceStorage,
    now: datetime | None = None,
    signals: ClientSignals | None = None,
) -> Assignment:
    """A submission as the API and pages receive it: a file (a screenshot; a video too
    for shoot tasks), a link, a note. The claim is checked before the file is stored, so
    a late or misdirected submission stores nothing; :func:`submit` checks again under
    the locks and asks the platform."""
    moment = now or utcnow()
    view = await my_assignment(
        session, person=person, assignment_id=assignment_id, settings=settings
    )
    _state(view.assignment, "claimed")
    if view.assignment.expires_at <= moment:
        raise ClaimExpired(detail=N_("Your claim has expired; the task went back to the pool."))
    clean_link = _checked_link(link)
    if note is not None and len(note.strip()) > MAX_NOTE_LENGTH:
        raise ValidationFailed(
            detail=N_("Please correct the marked fields."),
            fields=[FieldError("note", N_("At most 500 characters."))],
        )
    file_id = None
    if upload is not None:
        keep = (
            evidence.store_video
            if view.campaign.task_type == "shoot" and _is_video(upload)
            else evidence.store_image
        )
        stored = await keep(
            session,
            storage,
            owner_id=person.id,
            data=upload.data,
            filename=upload.filename,
            settings=settings,
        )
        file_id = stored.id
    return await submit(
        session,
        person=person,
        assignment_id=assignment_id,
        evidence=Evidence(file_id=file_id, link=clean_link, note=note),
        settings=settings,
        now=moment,
        signals=signals,
    )


# --- reviewers: bulk approval -----------------------------------------------------------


@dataclass(frozen=True)
class BulkResult:
    assignment_id: UUID
    approved: bool
    code: str | None = None
    """Why it was left for a reviewer's own look: ``not_verified``, ``has_risk_reasons``
    or an error code (``assignment_not_found``, ``assignment_state``, ``own_work``)."""


MAX_BULK = 100


def _why_not_in_bulk(assignment: Assignment, actor: Actor) -> str | None:
    if assignment.person_id == actor.person_id:
        return OwnWork.code
    if assignment.status != "submitted":
        return AssignmentStateConflict.code
    return _why_not_verified(assignment)


STILL_IN_QUEUE = frozenset({"not_verified", "has_risk_reasons"})
"""What bulk approval says of a submission it leaves in the queue for a reviewer's look."""


def _why_not_verified(assignment: Assignment) -> str | None:
    if assignment.verification.get("status") != "verified":
        return "not_verified"
    if assignment.risk_reasons:
        return "has_risk_reasons"
    return None


async def _gold_in_bulk(session: AsyncSession, actor: Actor, item_id: UUID) -> BulkResult:
    """A gold item among the ids of a bulk approval: answered "approve" when its source
    was one bulk approval takes, and reported as a submission would be either way."""
    shown = await gold.unanswered_gold_item(session, actor=actor, gold_item_id=item_id)
    if shown is None:
        closed = await gold.why_closed(session, actor=actor, gold_item_id=item_id)
        return BulkResult(item_id, approved=False, code=closed)
    code = _why_not_verified(shown[1])
    if code is None:
        try:
            async with session.begin_nested():
                await gold.answer_gold_item(
                    session, actor=actor, gold_item_id=item_id, approve=True,
                    reason="platform_verified",
                )  # fmt: skip
        except XingdongError as exc:
            code = exc.code
    return BulkResult(item_id, approved=code is None, code=code)


async def approve_verified(
    session: AsyncSession,
    *,
    actor: Actor,
    assignment_ids: list[UUID],
    settings: Settings,
    now: datetime | None = None,
) -> list[BulkResult]:
    """Approve at once the submissions the platform verified and nothing flagged; every
    other id is left alone and reported with the reason, in the order given."""
    require(actor, Action.REVIEW_QUEUE)
    moment = now or utcnow()
    wanted = list(dict.fromkeys(assignment_ids))[:MAX_BULK]
    campaign_of = await repo.campaigns_of_assignments(session, wanted)
    results: dict[UUID, BulkResult] = {}
    for item_id in wanted:
        if item_id not in campaign_of:
            results[item_id] = await _gold_in_bulk(session, actor, item_id)
    # Campaign rows are locked in id order, so two bulk approvals cannot deadlock.
    for assignment_id in sorted(campaign_of, key=lambda a: (campaign_of[a], a)):
        savepoint = await session.begin_nested()
        try:
            assignment = await _locked_assignment(session, assignment_id)
            code = _why_not_in_bulk(assignment, actor)
            if code is None:
                await review(
                    session, actor=actor, assignment_id=assignment_id, approve=True,
                    reason="platform_verified", note=None, settings=settings, now=moment,
                )  # fmt: skip
        except XingdongError as exc:
            await savepoint.rollback()
            results[assignment_id] = BulkResult(assignment_id, approved=False, code=exc.code)
            continue
        await savepoint.commit()
        results[assignment_id] = BulkResult(assignment_id, approved=code is None, code=code)
    return [results[assignment_id] for assignment_id in wanted]


# --- who else may see evidence -----------------------------------------------------------


async def brand_may_view_evidence(session: AsyncSession, actor: Actor, file: EvidenceFile) -> bool:
    """Members of an organisation may see the evidence submitted for its campaigns (a
    rule added to the evidence pages' viewers)."""
    if not actor.memberships:
        return False
    organisations = await repo.organisations_proved_by(session, file.id)
    return any(org_id in actor.memberships for org_id in organisations)
