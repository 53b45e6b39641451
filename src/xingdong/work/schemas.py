"""Request and response bodies of the work API: the worker's tasks and assignments, and
the reviewers' queue and decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from xingdong.campaigns.models import Campaign
from xingdong.core.i18n import translate
from xingdong.work import labels
from xingdong.work.models import Assignment, Dispute
from xingdong.work.service import (
    APPROVE_REASONS,
    MAX_BULK,
    REJECT_REASONS,
    AssignmentView,
    BulkResult,
    OpenTask,
    PlatformCheck,
    stored_hold_check,
    task_link,
)

REVIEW_REASONS = {**APPROVE_REASONS, **REJECT_REASONS}

AssignmentStatus = Literal[
    "claimed", "submitted", "approved", "released", "clawed_back", "rejected", "expired",
    "disputed",
]  # fmt: skip


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ReasonOut(Output):
    code: str
    message: str
    """The reason in the request's language."""

    @classmethod
    def of(cls, code: str, texts: dict[str, str], locale: str, **params: str) -> ReasonOut:
        return cls(code=code, message=translate(locale, texts.get(code, code), **params))


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(int((moment - now).total_seconds()), 0)


class TaskOut(Output):
    campaign_id: UUID
    title: str
    task_type: str
    task_type_label: str
    platform: str
    target_kind: str
    target_title: str
    target_url: str
    """Where the action is done (on the sandbox platform: a path on this site)."""
    reward_fen: int
    """What the worker earns for one approved unit, in fen."""
    product_price_fen: int | None = None
    """For a purchase task: what the product cost at the shop when the campaign was made,
    in fen. The worker pays it (and keeps the product); the reward is on top."""
    ends_at: datetime
    seconds_left: int
    """Until the campaign stops taking claims."""
    units_left: int
    per_person_limit: int
    taken_by_me: int
    review_policy: str
    why: ReasonOut | None = None
    """In the feed: why this task is there for you (a code of docs/dispatch.md and its
    text in your language)."""

    @classmethod
    def of(
        cls, campaign: Campaign, *, units_left: int, taken_by_me: int, now: datetime, locale: str
    ) -> TaskOut:
        return cls(
            campaign_id=campaign.id,
            title=campaign.title,
            task_type=campaign.task_type,
            task_type_label=translate(
                locale, labels.TASK_TYPE_LABELS.get(campaign.task_type, campaign.task_type)
            ),
            platform=campaign.platform,
            target_kind=campaign.target_kind,
            target_title=campaign.target_title,
            target_url=campaign.target_url,
            reward_fen=campaign.reward,
            product_price_fen=campaign.target_price_fen,
            ends_at=campaign.ends_at,
            seconds_left=_seconds_until(campaign.ends_at, now),
            units_left=units_left,
            per_person_limit=campaign.per_person_limit,
            taken_by_me=taken_by_me,
            review_policy=campaign.review_policy,
        )

    @classmethod
    def of_open(cls, task: OpenTask, *, now: datetime, locale: str, why: str) -> TaskOut:
        out = cls.of(
            task.campaign,
            units_left=task.units_left,
            taken_by_me=task.taken_by_me,
            now=now,
            locale=locale,
        )
        out.why = ReasonOut(code=task.reason, message=why)
        return out


class TaskFeedOut(Output):
    items: list[TaskOut]
    reasons: list[ReasonOut]
    """Why there are no tasks (empty when there are): fix what the profile lacks first."""


class TaskDetailOut(TaskOut):
    brief: str
    disclosure: str
    comment_guidance: str | None
    min_watch_seconds: int
    min_stay_seconds: int
    claim_minutes: int
    """How long a claim stays reserved for the worker."""
    hold_hours: int
    """How long an approved reward stays pending before it can be withdrawn."""
    can_claim: bool
    reason: ReasonOut | None
    """Why it cannot be claimed now."""
    opens_at: datetime | None = None
    """When a campaign held back by its delivery plan (reason ``paced``) or by its
    account's hourly cap (``target_capped``) takes claims again."""
    open_assignment_id: UUID | None


class VerificationOut(BaseModel):
    status: str | None = None
    """``verified``, ``absent`` or ``unknown``; empty before submission."""
    detail: str | None = None
    message: str | None = None


class CheckOut(VerificationOut):
    at_hold_end: str | None = None
    """For a task in hold: ``released``, ``clawed_back`` or ``waiting`` (the platform cannot
    tell; asked again), what the hold's end would do now. None before the hand-in."""
    settle_reason: str | None = None
    """The settle reason it would have (``retained``, ``undone_no_follow`` …)."""
    checked_at: datetime | None = None
    """When it was asked, for a task in hold."""

    @classmethod
    def of(cls, check: PlatformCheck, locale: str) -> CheckOut:
        said = verification_said(check.seen.status, check.seen.detail, locale)
        return cls(
            **said.model_dump(),
            at_hold_end=check.at_hold_end,
            settle_reason=check.settle_reason,
            checked_at=check.checked_at,
        )


def verification_out(assignment: Assignment, locale: str) -> VerificationOut:
    found = assignment.verification or {}
    return verification_said(found.get("status"), found.get("detail"), locale)


def verification_said(status: str | None, detail: str | None, locale: str) -> VerificationOut:
    """A platform's answer with its words in ``locale``."""
    if status is None:
        return VerificationOut()
    text = labels.DETAIL_LABELS.get(detail or "") or labels.VERIFICATION_LABELS.get(status, status)
    return VerificationOut(status=status, detail=detail, message=translate(locale, text))


class DisputeOut(Output):
    id: UUID
    assignment_id: UUID
    kind: str
    """``appeal`` (the worker's) or ``contest`` (the brand's)."""
    status: str
    """``open``, ``upheld`` or ``dismissed``."""
    reason: str
    decision_note: str | None
    created_at: datetime
    decided_at: datetime | None


class AssignmentOut(Output):
    id: UUID
    campaign_id: UUID
    campaign_title: str
    task_type: str
    target_title: str
    target_url: str
    reward_fen: int
    status: AssignmentStatus
    status_label: str
    claimed_at: datetime
    expires_at: datetime
    """Evidence must be submitted before this."""
    submitted_at: datetime | None
    evidence_file_id: UUID | None
    evidence_url: str | None
    evidence_link: str | None
    evidence_note: str | None
    verification: VerificationOut
    reviewed_at: datetime | None
    review_reason: ReasonOut | None
    review_note: str | None
    hold_until: datetime | None
    """When an approved reward is checked again and released."""
    hold_check: CheckOut | None = None
    """The latest check in the hold (periodic, or the worker's own): whether the action is
    still there and what the hold's end would do. None outside the hold or before one."""
    settled_at: datetime | None
    settle_reason: ReasonOut | None
    appeal_until: datetime | None
    """Until when a rejection can be appealed."""
    dispute: DisputeOut | None = None
    impressions: int | None = None
    """For a claimed profile ad, how often it was seen so far (one assignment's answer
    only; lists leave it out)."""

    @classmethod
    def of(
        cls,
        assignment: Assignment,
        campaign: Campaign,
        *,
        locale: str,
        appeal_until: datetime | None,
        dispute: Dispute | None = None,
    ) -> AssignmentOut:
        review_reason = None
        if assignment.review_reason:
            review_reason = ReasonOut.of(assignment.review_reason, REVIEW_REASONS, locale)
        settle = labels.settle_label(assignment.settle_reason)
        stored = stored_hold_check(assignment)
        return cls(
            id=assignment.id,
            campaign_id=campaign.id,
            campaign_title=campaign.title,
            task_type=campaign.task_type,
            target_title=campaign.target_title,
            target_url=task_link(campaign, assignment),
            reward_fen=campaign.reward,
            status=assignment.status,
            status_label=translate(locale, labels.STATUS_LABELS[assignment.status]),
            claimed_at=assignment.claimed_at,
            expires_at=assignment.expires_at,
            submitted_at=assignment.submitted_at,
            evidence_file_id=assignment.evidence_file_id,
            evidence_url=evidence_url(assignment),
            evidence_link=assignment.evidence_link,
            evidence_note=assignment.evidence_note,
            verification=verification_out(assignment, locale),
            reviewed_at=assignment.reviewed_at,
            review_reason=review_reason,
            review_note=assignment.review_note,
            hold_until=assignment.hold_until,
            hold_check=None if stored is None else CheckOut.of(stored, locale),
            settled_at=assignment.settled_at,
            settle_reason=(
                None
                if assignment.settle_reason is None or settle is None
                else ReasonOut(code=assignment.settle_reason, message=translate(locale, settle))
            ),
            appeal_until=appeal_until,
            dispute=DisputeOut.model_validate(dispute) if dispute else None,
        )

    @classmethod
    def of_view(
        cls, view: AssignmentView, *, locale: str, impressions: int | None = None
    ) -> AssignmentOut:
        out = cls.of(
            view.assignment,
            view.campaign,
            locale=locale,
            appeal_until=view.appeal_until,
            dispute=view.dispute,
        )
        return out.model_copy(update={"impressions": impressions})


def evidence_url(assignment: Assignment) -> str | None:
    if assignment.evidence_file_id is None:
        return None
    return f"/evidence/{assignment.evidence_file_id}"


class AppealIn(Input):
    reason: str = Field(min_length=1, max_length=500)


class ReviewItemOut(Output):
    assignment_id: UUID
    campaign_id: UUID
    campaign_title: str
    task_type: str
    brief: str
    comment_guidance: str | None
    min_watch_seconds: int
    min_stay_seconds: int
    target_title: str
    target_url: str
    actor_handle: str
    """The worker's account on the platform, as bound when they claimed."""
    claimed_at: datetime
    submitted_at: datetime | None
    evidence_file_id: UUID | None
    evidence_url: str | None
    evidence_link: str | None
    evidence_note: str | None
    verification: VerificationOut
    risk_score: int
    risk_reasons: list[ReasonOut]

    @classmethod
    def of(
        cls, assignment: Assignment, campaign: Campaign, *, locale: str, item_id: UUID | None = None
    ) -> ReviewItemOut:
        return cls(
            assignment_id=item_id or assignment.id,
            campaign_id=campaign.id,
            campaign_title=campaign.title,
            task_type=campaign.task_type,
            brief=campaign.brief,
            comment_guidance=campaign.comment_guidance,
            min_watch_seconds=campaign.min_watch_seconds,
            min_stay_seconds=campaign.min_stay_seconds,
            target_title=campaign.target_title,
            target_url=campaign.target_url,
            actor_handle=assignment.actor_handle,
            claimed_at=assignment.claimed_at,
            submitted_at=assignment.submitted_at,
            evidence_file_id=assignment.evidence_file_id,
            evidence_url=evidence_url(assignment),
            evidence_link=assignment.evidence_link,
            evidence_note=assignment.evidence_note,
            verification=verification_out(assignment, locale),
            risk_score=assignment.risk_score,
            risk_reasons=[
                ReasonOut(code=code, message=labels.risk_label(code, locale))
                for code in assignment.risk_reasons
            ],
        )


class DecisionIn(Input):
    approve: StrictBool
    reason: str = Field(
        max_length=40,
        description="A code of APPROVE_REASONS or REJECT_REASONS (see docs/work.md).",
    )
    note: str | None = Field(default=None, max_length=500)


class DecisionOut(Output):
    assignment_id: UUID
    status: str
    review_reason: str | None
    hold_until: datetime | None


class BulkApproveIn(Input):
    ids: list[UUID] = Field(min_length=1, max_length=MAX_BULK)


class BulkItemOut(Output):
    id: UUID
    approved: bool
    code: str | None
    """Why it was left alone (``not_verified``, ``has_risk_reasons``, an error code)."""
    message: str | None

    @classmethod
    def of(cls, result: BulkResult, locale: str) -> BulkItemOut:
        return cls(
            id=result.assignment_id,
            approved=result.approved,
            code=result.code,
            message=(
                None
                if result.code is None
                else translate(locale, labels.BULK_LABELS.get(result.code, result.code))
            ),
        )


class BulkApproveOut(Output):
    approved: int
    items: list[BulkItemOut]


class GoldItemIn(Input):
    assignment_id: UUID
    """A decided submission with evidence."""
    approve: StrictBool
    """The right answer."""
    reason: str = Field(
        max_length=40,
        description="With approve, meets_requirements or platform_verified; else a reject reason.",
    )


class GoldItemOut(Output):
    id: UUID
    source_assignment_id: UUID
    campaign_title: str
    expected_approve: bool
    expected_reason: str
    active: bool
    answered: int
    correct: int


class ReviewerAccuracyOut(Output):
    reviewer_id: UUID
    answered: int
    correct: int
    accuracy: float


class ReviewQualityOut(Output):
    reviewers: list[ReviewerAccuracyOut]
    gold_items: list[GoldItemOut]
    """One page of the gold items, active ones first, newest first (``page``, fifty a page)."""
    gold_items_total: int
    page: int
    pages: int
