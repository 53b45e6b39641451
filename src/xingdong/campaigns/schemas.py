"""Request and response bodies of the campaigns API (brands and operators)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool

from xingdong.campaigns.models import Campaign
from xingdong.campaigns.presentation import translated_findings
from xingdong.campaigns.service import CampaignDraft, Progress
from xingdong.core.clock import utcnow
from xingdong.work.completions import Completion, DisputeCase
from xingdong.work.models import Dispute

if TYPE_CHECKING:
    from xingdong.dispatch.delivery import Delivery

CampaignStatus = Literal["draft", "pending_approval", "live", "paused", "rejected", "closed"]
CompletionStatus = Literal[
    "submitted", "approved", "released", "clawed_back", "rejected", "disputed"
]
DisputeStatus = Literal["open", "upheld", "dismissed"]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=200)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CampaignIn(Input):
    """A campaign draft. Amounts are in fen; times must carry their time zone."""

    title: str = Field(max_length=80)
    task_type: str = Field(
        max_length=20,
        description="follow, like, comment, share, shoot, live_visit, purchase or profile_ad "
        "(unit_price is then the price of 1,000 impressions, quantity the thousands)",
    )
    target: str = Field(
        max_length=300, description="@handle, a video, live room or product id, or its URL"
    )
    platform: str = Field(default="sandbox", max_length=20)
    brief: str = Field(max_length=2000)
    disclosure: str = Field(max_length=200)
    comment_guidance: str | None = Field(default=None, max_length=1000)
    quantity: int = Field(strict=True, le=10**9, ge=-(10**9))
    unit_price_fen: int = Field(strict=True, le=10**9, ge=-(10**9))
    per_person_limit: int = Field(strict=True, default=1, ge=-1000, le=1000)
    starts_at: AwareDatetime | None = Field(default=None, description="Default: now")
    ends_at: AwareDatetime
    min_age: int | None = Field(strict=True, default=None, ge=0, le=1000)
    max_age: int | None = Field(strict=True, default=None, ge=0, le=1000)
    regions: list[str] = Field(default_factory=list, max_length=40)
    interests: list[str] = Field(default_factory=list, max_length=40)
    tiers: list[str] = Field(default_factory=list, max_length=3)
    category: str | None = Field(
        default=None,
        max_length=20,
        description="What the target is about, one of the interests people choose from "
        "(美妆, 母婴 …); it targets nobody, the feed learns who takes such tasks",
    )
    pacing_per_hour: int | None = Field(strict=True, default=None, ge=-1000, le=1_000_000)
    min_watch_seconds: int = Field(strict=True, default=0, ge=-1000, le=86_400)
    min_stay_seconds: int = Field(strict=True, default=0, ge=-1000, le=86_400)
    review_policy: str = Field(default="auto_when_verified", max_length=24)

    def to_draft(self) -> CampaignDraft:
        return CampaignDraft(
            title=self.title,
            task_type=self.task_type,
            target=self.target,
            platform=self.platform,
            brief=self.brief,
            disclosure=self.disclosure,
            comment_guidance=self.comment_guidance,
            quantity=self.quantity,
            unit_price=self.unit_price_fen,
            per_person_limit=self.per_person_limit,
            starts_at=self.starts_at or utcnow(),
            ends_at=self.ends_at,
            min_age=self.min_age,
            max_age=self.max_age,
            regions=list(self.regions),
            interests=list(self.interests),
            tiers=list(self.tiers),
            category=self.category,
            pacing_per_hour=self.pacing_per_hour,
            min_watch_seconds=self.min_watch_seconds,
            min_stay_seconds=self.min_stay_seconds,
            review_policy=self.review_policy,
        )


class DecisionIn(Input):
    approve: StrictBool
    note: str = Field(default="", max_length=1000)


class QualityPlanIn(Input):
    included: StrictBool
    """True: in the quality-task plan; false: out of it."""
    note: str = Field(default="", max_length=500)
    """Why (kept in the audit log)."""


class DisputeDecisionIn(Input):
    uphold: StrictBool
    note: str = Field(default="", max_length=500)


class ContestIn(Input):
    reason: str = Field(max_length=500)


class TargetOut(BaseModel):
    kind: str
    ref: str
    title: str
    url: str
    price_fen: int | None = None
    """For a product (purchase tasks): its price when the campaign was made."""


class TargetingOut(BaseModel):
    min_age: int | None
    max_age: int | None
    regions: list[str]
    interests: list[str]
    tiers: list[str]


class FindingOut(BaseModel):
    code: str
    severity: str
    field: str
    excerpt: str
    message: str
    """Translated to the request's language."""
    limit: int | None = None
    allowed: str = ""
    """Where the bound is a share of an amount: the most it allows (``purchase_reward_too_high``:
    the highest price per completion for the product, the platform's fee included)."""


class ProgressOut(BaseModel):
    units_planned: int
    units_open: int
    units_done: int
    units_left: int
    budget_fen: int
    spent_fen: int
    reserved_fen: int
    escrow_fen: int
    percent_done: int
    returned_fen: int = 0
    """Unused budget moved back to the organisation's balance (closed campaigns)."""

    @classmethod
    def of(cls, progress: Progress) -> ProgressOut:
        return cls(
            units_planned=progress.planned,
            units_open=progress.open,
            units_done=progress.done,
            units_left=progress.left,
            budget_fen=progress.budget,
            spent_fen=progress.spent,
            reserved_fen=progress.reserved,
            escrow_fen=progress.escrow,
            percent_done=progress.percent_done,
            returned_fen=progress.returned,
        )


class DeliveryPointOut(BaseModel):
    at: datetime
    planned_share: float
    """Share of the units the plan has reached by then."""
    taken_share: float | None
    """Share of the units claimed by then; null after now."""


class SlowReasonOut(BaseModel):
    code: str
    message: str
    """What it means and what to change, in the request's language."""


class DeliveryOut(BaseModel):
    """How a campaign is delivered against its plan (docs/dispatch.md)."""

    planned_share: float
    """Share of the units the plan has reached now."""
    taken_share: float
    """Share of the units claimed so far (whatever became of the claims)."""
    held_share: float
    """Share of the units held by open claims or done: what the pacing guard counts."""
    ahead: bool
    """Far enough ahead of the plan that the feed holds it back."""
    shown: int
    """How many workers' feeds have shown it."""
    taken_per_100_shown: float | None
    """Units claimed for every hundred showings; null before any."""
    points: list[DeliveryPointOut]
    """The plan and the units taken at 25 moments from the start to the end."""
    slow: list[SlowReasonOut]
    """Why a live campaign is behind its plan, with what to change; empty when it is not."""

    @classmethod
    def of(cls, delivery: Delivery, campaign: Campaign, *, locale: str) -> DeliveryOut:
        span = campaign.ends_at - campaign.starts_at
        per_100 = delivery.per_100_shown
        return cls(
            planned_share=round(delivery.planned_now, 4),
            taken_share=round(delivery.actual_now, 4),
            held_share=round(delivery.committed_now, 4),
            ahead=delivery.ahead,
            shown=delivery.shown,
            taken_per_100_shown=None if per_100 is None else round(per_100, 1),
            points=[
                DeliveryPointOut(
                    at=campaign.starts_at + span * x,
                    planned_share=round(planned, 4),
                    taken_share=None if taken_share is None else round(taken_share, 4),
                )
                for x, planned, taken_share in zip(
                    delivery.time_share, delivery.planned, delivery.actual, strict=True
                )
            ],
            slow=[
                SlowReasonOut(code=code, message=message)
                for code, message in delivery.slow_texts(locale)
            ],
        )


class CampaignSummaryOut(BaseModel):
    id: UUID
    org_id: UUID
    title: str
    task_type: str
    status: str
    target: TargetOut
    quantity: int
    unit_price_fen: int
    units_open: int
    units_done: int
    starts_at: datetime
    ends_at: datetime
    created_at: datetime

    @staticmethod
    def fields_of(campaign: Campaign) -> dict[str, Any]:
        return {
            "id": campaign.id,
            "org_id": campaign.org_id,
            "title": campaign.title,
            "task_type": campaign.task_type,
            "status": campaign.status,
            "target": TargetOut(
                kind=campaign.target_kind,
                ref=campaign.target_ref,
                title=campaign.target_title,
                url=campaign.target_url,
                price_fen=campaign.target_price_fen,
            ),
            "quantity": campaign.quantity,
            "unit_price_fen": campaign.unit_price,
            "units_open": campaign.units_open,
            "units_done": campaign.units_done,
            "starts_at": campaign.starts_at,
            "ends_at": campaign.ends_at,
            "created_at": campaign.created_at,
        }

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignSummaryOut:
        return cls(**cls.fields_of(campaign))


class CampaignOut(CampaignSummaryOut):
    platform: str
    brief: str
    disclosure: str
    comment_guidance: str | None
    reward_fen: int
    """What a worker earns per completion."""
    fee_fen: int
    """The platform's share per completion."""
    per_person_limit: int
    targeting: TargetingOut
    category: str | None
    pacing_per_hour: int | None
    min_watch_seconds: int
    min_stay_seconds: int
    review_policy: str
    quality_plan: bool
    """In the quality-task plan: the feed shows it before others (operators choose)."""
    compliance: list[FindingOut]
    decision_note: str | None
    decided_at: datetime | None
    closed_at: datetime | None
    progress: ProgressOut | None = None

    @classmethod
    def full(
        cls, campaign: Campaign, *, locale: str, progress: Progress | None = None
    ) -> CampaignOut:
        return cls(
            **cls.fields_of(campaign),
            platform=campaign.platform,
            brief=campaign.brief,
            disclosure=campaign.disclosure,
            comment_guidance=campaign.comment_guidance,
            reward_fen=campaign.reward,
            fee_fen=campaign.fee,
            per_person_limit=campaign.per_person_limit,
            targeting=TargetingOut(
                min_age=campaign.min_age,
                max_age=campaign.max_age,
                regions=list(campaign.regions),
                interests=list(campaign.interests),
                tiers=list(campaign.tiers),
            ),
            category=campaign.category,
            pacing_per_hour=campaign.pacing_per_hour,
            min_watch_seconds=campaign.min_watch_seconds,
            min_stay_seconds=campaign.min_stay_seconds,
            review_policy=campaign.review_policy,
            quality_plan=campaign.quality_plan,
            compliance=[
                FindingOut(**f) for f in translated_findings(list(campaign.compliance), locale)
            ],
            decision_note=campaign.decision_note,
            decided_at=campaign.decided_at,
            closed_at=campaign.closed_at,
            progress=ProgressOut.of(progress) if progress is not None else None,
        )


class ClosedOut(BaseModel):
    campaign: CampaignOut
    returned_fen: int
    """Escrow that went back to the organisation's balance."""


class ContestOutcomeOut(BaseModel):
    status: str
    reason: str
    decision_note: str | None
    decided_at: datetime | None

    @classmethod
    def of(cls, dispute: Dispute) -> ContestOutcomeOut:
        return cls(
            status=dispute.status,
            reason=dispute.reason,
            decision_note=dispute.decision_note,
            decided_at=dispute.decided_at,
        )


class CompletionOut(BaseModel):
    id: UUID
    worker: str
    """A pseudonym, stable within the campaign."""
    status: str
    claimed_at: datetime
    submitted_at: datetime | None
    approved_at: datetime | None
    hold_until: datetime | None
    verified_by_platform: bool
    can_contest: bool
    rejected_reason: str | None = None
    """Why it was rejected (a code of the reviewers' reasons), for rejected work."""
    contest: ContestOutcomeOut | None = None
    """The brand's contest of it, if any: ``open``, ``upheld`` (taken back) or
    ``dismissed`` (it stands), with the operator's note."""
    evidence_file_id: UUID | None = None
    """The worker's proof, a picture or a video (``GET /api/v1/evidence/{id}``); None
    without one, or once it was deleted with the worker's account."""
    evidence_kind: str | None = None
    """``image`` or ``video`` (None without a file)."""
    evidence_link: str | None = None
    """A link the worker gave as proof (their comment, their video), if any."""

    @classmethod
    def of(cls, completion: Completion) -> CompletionOut:
        a = completion.assignment
        contest = completion.contest
        return cls(
            id=a.id,
            worker=completion.worker,
            status=a.status,
            claimed_at=a.claimed_at,
            submitted_at=a.submitted_at,
            approved_at=completion.approved_at,
            hold_until=a.hold_until,
            verified_by_platform=(a.verification or {}).get("status") == "verified",
            can_contest=completion.can_contest,
            rejected_reason=a.review_reason if a.status == "rejected" else None,
            contest=None if contest is None else ContestOutcomeOut.of(contest),
            evidence_file_id=None if completion.evidence_deleted else a.evidence_file_id,
            evidence_kind=completion.evidence_kind,
            evidence_link=a.evidence_link,
        )


class DisputeOut(Output):
    id: UUID
    assignment_id: UUID
    kind: str
    status: str
    reason: str
    created_at: datetime
    decision_note: str | None
    decided_at: datetime | None

    @classmethod
    def of(cls, dispute: Dispute) -> DisputeOut:
        return cls.model_validate(dispute)


class DisputedWorkOut(BaseModel):
    id: UUID
    person_id: UUID
    actor_handle: str
    status_before: str | None
    submitted_at: datetime | None
    reviewed_at: datetime | None
    review_reason: str | None
    review_note: str | None
    evidence_file_id: UUID | None
    evidence_link: str | None
    verification: dict[str, Any]


class DisputeCaseOut(DisputeOut):
    raised_by: UUID
    campaign: CampaignSummaryOut
    work: DisputedWorkOut

    @classmethod
    def of_case(cls, case: DisputeCase) -> DisputeCaseOut:
        a = case.assignment
        return cls(
            **DisputeOut.of(case.dispute).model_dump(),
            raised_by=case.dispute.raised_by,
            campaign=CampaignSummaryOut.of(case.campaign),
            work=DisputedWorkOut(
                id=a.id,
                person_id=a.person_id,
                actor_handle=a.actor_handle,
                status_before=a.disputed_from,
                submitted_at=a.submitted_at,
                reviewed_at=a.reviewed_at,
                review_reason=a.review_reason,
                review_note=a.review_note,
                evidence_file_id=a.evidence_file_id,
                evidence_link=a.evidence_link,
                verification=dict(a.verification or {}),
            ),
        )
