"""Campaign rules: create (checked), fund into escrow, approve, pause, resume, close.

Money: submitting moves ``quantity * unit_price`` from the organisation's balance into the
campaign's escrow account; claims reserve from escrow (see ``work.service``); rejecting or
closing returns what is not reserved or spent to the organisation at once.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, String, and_, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.campaigns import repository as repo
from xingdong.campaigns.compliance import CampaignCopy, Finding, check_copy, ownership_finding
from xingdong.campaigns.errors import (
    CampaignInvalid,
    CampaignNotFound,
    CampaignStateConflict,
    ComplianceBlocked,
)
from xingdong.campaigns.models import REVIEW_POLICIES, Campaign
from xingdong.campaigns.policy import (
    GuardrailInput,
    TaskType,
    check_guardrails,
    get_profile,
    price_split,
)
from xingdong.campaigns.presentation import STATUS_LABELS
from xingdong.core.audit import AuditEntry, record_audit
from xingdong.core.clock import utcnow
from xingdong.core.errors import FieldError, RateLimited
from xingdong.core.i18n import N_, Phrase
from xingdong.core.ids import new_id
from xingdong.core.money import yuan
from xingdong.core.pagination import CursorPage, clamp_limit
from xingdong.core.policy import Action, Actor, can, require
from xingdong.core.ratelimit import RateLimits
from xingdong.core.settings import Settings
from xingdong.core.text import CONTROL_CHARACTERS, has_control_characters
from xingdong.creators.tiers import TIERS
from xingdong.identity import org_accounts
from xingdong.identity import repository as identity_repo
from xingdong.identity.validation import INTERESTS, REGIONS
from xingdong.insights import service as insights
from xingdong.ledger import service as ledger
from xingdong.ledger.deposits import org_account
from xingdong.ledger.errors import IdempotencyKeyReused
from xingdong.ledger.idempotency import claim_key, remember_object
from xingdong.platforms.connector import (
    ACTION_TARGET_KIND,
    TARGET_KINDS,
    TargetInfo,
    TargetNotFound,
    answered_in_time,
    get_connector,
)

MAX_AGE = 120


def escrow_account(campaign_id: UUID) -> str:
    return f"campaign:{campaign_id}:escrow"


@dataclass(frozen=True)
class CampaignDraft:
    title: str
    task_type: str
    target: str
    """What the connector resolves: ``@handle``, a video or room id, or its URL."""
    brief: str
    disclosure: str
    quantity: int
    unit_price: int
    starts_at: datetime
    ends_at: datetime
    platform: str = "sandbox"
    comment_guidance: str | None = None
    per_person_limit: int = 1
    min_age: int | None = None
    max_age: int | None = None
    regions: list[str] = field(default_factory=list)
    interests: list[str] = field(default_factory=list)
    tiers: list[str] = field(default_factory=list)
    category: str | None = None
    pacing_per_hour: int | None = None
    min_watch_seconds: int = 0
    min_stay_seconds: int = 0
    review_policy: str = "auto_when_verified"


def _refuse_draft(draft: CampaignDraft, settings: Settings, now: datetime) -> None:
    """Refuse a draft with every field's problem at once (the price's names the least)."""
    errors = _draft_errors(draft, settings, now)
    if errors:
        low = settings.campaign_min_unit_price_fen
        extra: dict[str, Any] = {}
        if any(e.field == "unit_price" for e in errors):
            extra["min_yuan"] = yuan(low)
        if any(e.message == TOO_FAR_AHEAD for e in errors):
            extra["max_days"] = settings.campaign_max_days
        raise CampaignInvalid(
            detail=N_("Please correct the marked fields."), fields=errors, extra=extra
        )


TOO_FAR_AHEAD = N_("A campaign ends at most {max_days} days from now.")

BRIEF_MAX, DISCLOSURE_MAX, GUIDANCE_MAX = 2000, 200, 1000
"""Characters of a campaign's brief, disclosure and comment guidance (as the API's schema
and the columns allow; the page's form is held to them here)."""


def _draft_errors(  # noqa: PLR0912 - one check per field reads best
    draft: CampaignDraft, settings: Settings, now: datetime
) -> list[FieldError]:
    errors: list[FieldError] = []

    def bad(name: str, message: str) -> None:
        errors.append(FieldError(name, message))

    if not draft.title.strip() or len(draft.title) > 80:
        bad("title", N_("Enter a title of 1 to 80 characters."))
    elif has_control_characters(draft.title.strip()):
        bad("title", CONTROL_CHARACTERS)
    if draft.task_type not in set(TaskType):
        bad("task_type", N_("Choose a task type."))
    if not draft.brief.strip():
        bad("brief", N_("Describe what people should do."))
    elif len(draft.brief.strip()) > BRIEF_MAX:
        bad("brief", N_("Keep the brief to 2,000 characters."))
    if len(draft.disclosure.strip()) > DISCLOSURE_MAX:
        bad("disclosure", N_("Keep the disclosure to 200 characters."))
    if len((draft.comment_guidance or "").strip()) > GUIDANCE_MAX:
        bad("comment_guidance", N_("Keep the guidance to 1,000 characters."))
    if not 1 <= draft.quantity <= settings.campaign_max_quantity:
        bad("quantity", N_("The quantity must be at least 1 and at most the platform's maximum."))
    reward, _fee = price_split(max(draft.unit_price, 0), settings.platform_fee_percent)
    if draft.unit_price < settings.campaign_min_unit_price_fen or reward <= 0:
        bad("unit_price", N_("The unit price is below the minimum of ¥{min_yuan}."))
    if draft.ends_at <= now:
        bad("ends_at", N_("The end is in the past."))
    elif draft.ends_at <= draft.starts_at:
        bad("ends_at", N_("The end must be after the start."))
    elif draft.ends_at - now > timedelta(days=settings.campaign_max_days):
        # Escrow held for years, and a plan no forecast reaches: refused. A start in the
        # past counts from now, as approval moves it there.
        bad("ends_at", TOO_FAR_AHEAD)
    if draft.per_person_limit < 1:
        bad("per_person_limit", N_("At least one per person."))
    elif 1 <= draft.quantity < draft.per_person_limit:
        bad("per_person_limit", N_("At most as many as the campaign's completions."))
    for name, age in (("min_age", draft.min_age), ("max_age", draft.max_age)):
        if age is not None and not settings.min_age_for_paid_tasks <= age <= MAX_AGE:
            bad(name, N_("Ages run from the adult age to 120."))
    if draft.min_age is not None and draft.max_age is not None and draft.min_age > draft.max_age:
        bad("max_age", N_("The highest age is below the lowest."))
    if any(r not in REGIONS for r in draft.regions):
        bad("regions", N_("Unknown region."))
    if any(i not in INTERESTS for i in draft.interests):
        bad("interests", N_("Unknown interest."))
    if draft.category is not None and draft.category not in INTERESTS:
        bad("category", N_("Choose a category from the list."))
    if any(t not in TIERS for t in draft.tiers):
        bad("tiers", N_("Unknown tier."))
    if draft.pacing_per_hour is not None and draft.pacing_per_hour < 1:
        bad("pacing_per_hour", N_("The pacing cap must be at least 1 per hour."))
    for seconds_field in ("min_watch_seconds", "min_stay_seconds"):
        if getattr(draft, seconds_field) < 0:
            bad(seconds_field, N_("Times cannot be negative."))
    if draft.review_policy not in REVIEW_POLICIES:
        bad("review_policy", N_("Choose a review policy."))
    return errors


def compliance_findings(
    campaign: Campaign, settings: Settings, *, own_target: bool = True
) -> list[Finding]:
    """What the compliance check finds; ``own_target`` False adds ``target_not_linked``
    (see :func:`target_is_own`)."""
    profile = get_profile(settings.policy_profile)
    findings = check_copy(
        CampaignCopy(
            task_type=campaign.task_type,
            title=campaign.title,
            brief=campaign.brief,
            disclosure=campaign.disclosure,
            comment_guidance=campaign.comment_guidance,
        ),
        extra_words_file=settings.compliance_extra_words_file,
    )
    findings += check_guardrails(
        profile,
        GuardrailInput(
            task_type=campaign.task_type,
            has_targeting=bool(
                campaign.regions
                or campaign.interests
                or campaign.tiers
                or campaign.min_age is not None
                or campaign.max_age is not None
            ),
            pacing_per_hour=campaign.pacing_per_hour,
            min_watch_seconds=campaign.min_watch_seconds if campaign.task_type == "like" else None,
            reward=campaign.reward,
            product_price=campaign.target_price_fen,
            fee_percent=settings.platform_fee_percent,
        ),
    )
    if not own_target and campaign.target_owner:
        findings.append(ownership_finding(campaign.task_type, campaign.target_owner))
    return findings


async def target_is_own(session: AsyncSession, campaign: Campaign) -> bool:
    """Whether the campaign's target belongs to an account its organisation may promote
    as its own (campaigns made before the owner was kept count as their own)."""
    if not campaign.target_owner:
        return True
    return await org_accounts.may_promote(
        session, org_id=campaign.org_id, platform=campaign.platform, handle=campaign.target_owner
    )


def findings_as_json(findings: list[Finding]) -> list[dict[str, Any]]:
    return [
        {
            "code": str(f.code),
            "severity": str(f.severity),
            "field": f.field,
            "excerpt": f.excerpt,
            "message": f.message,
            "limit": f.limit,
            "allowed": f.allowed,
        }
        for f in findings
    ]


async def create_campaign(
    session: AsyncSession,
    *,
    actor: Actor,
    org_id: UUID,
    draft: CampaignDraft,
    settings: Settings,
    now: datetime | None = None,
    request_key: str | None = None,
    request_hash: str | None = None,
) -> Campaign:
    """A draft: checked, its target resolved on the platform, not yet funded. With a
    ``request_key`` (and the digest of the request as sent), a retry answers with the
    draft the first request made instead of making another."""
    if org_id not in actor.memberships:
        require(actor, Action.ORG_READ, org_id=org_id)
        raise CampaignInvalid(detail=N_("Only members of the organisation can create campaigns."))
    if request_key is not None:
        earlier = await claim_key(
            session,
            person_id=actor.person_id,
            key=request_key,
            kind="draft",
            request_hash=request_hash,
        )
        if earlier is not None and earlier.object_id is not None:
            return await get_campaign(session, actor=actor, campaign_id=earlier.object_id)
    await identity_repo.hold_open_organisation(session, org_id)
    moment = now or utcnow()
    _refuse_draft(draft, settings, moment)
    target = await _resolve(draft.platform, draft.task_type, draft.target)
    reward, fee = price_split(draft.unit_price, settings.platform_fee_percent)
    campaign = Campaign(
        id=new_id(),
        org_id=org_id,
        created_by=actor.person_id,
        title=draft.title.strip(),
        task_type=draft.task_type,
        platform=draft.platform,
        target_kind=target.kind,
        target_ref=target.ref,
        target_title=target.title[:120],
        target_url=target.url,
        target_owner=target.owner_handle,
        target_price_fen=target.price_fen,
        brief=draft.brief.strip(),
        disclosure=draft.disclosure.strip(),
        comment_guidance=(draft.comment_guidance or "").strip() or None,
        quantity=draft.quantity,
        unit_price=draft.unit_price,
        reward=reward,
        fee=fee,
        per_person_limit=draft.per_person_limit,
        # In UTC, as the row reads back: the answer to the create says what every later
        # read says, whatever offset the times were sent with.
        starts_at=draft.starts_at.astimezone(UTC),
        ends_at=draft.ends_at.astimezone(UTC),
        min_age=draft.min_age,
        max_age=draft.max_age,
        # Each named once, in the order given ("北京", "北京" is 北京).
        regions=list(dict.fromkeys(draft.regions)),
        interests=list(dict.fromkeys(draft.interests)),
        tiers=list(dict.fromkeys(draft.tiers)),
        category=draft.category,
        pacing_per_hour=draft.pacing_per_hour,
        min_watch_seconds=draft.min_watch_seconds,
        min_stay_seconds=draft.min_stay_seconds,
        review_policy=draft.review_policy,
        status="draft",
        units_open=0,
        units_done=0,
        funding_round=0,
    )
    own = await target_is_own(session, campaign)
    campaign.compliance = findings_as_json(compliance_findings(campaign, settings, own_target=own))
    session.add(campaign)
    await session.flush()
    if request_key is not None:
        await remember_object(
            session, person_id=actor.person_id, key=request_key, object_id=campaign.id
        )
    return campaign


async def get_campaign(
    session: AsyncSession, *, actor: Actor | None, campaign_id: UUID, lock: bool = False
) -> Campaign:
    """A campaign its organisation's members and staff can see (with ``actor``), or any
    campaign for the work domain's rules (``actor=None``)."""
    # A lock must also read the row as it is now: without populate_existing, a campaign
    # already in this session keeps the values read before the lock (a lost update).
    campaign = await session.get(
        Campaign, campaign_id, with_for_update=lock, populate_existing=lock
    )
    # Another organisation's campaign is answered as one that does not exist, code and
    # all, so that ids cannot be probed.
    if campaign is None or (
        actor is not None and not can(actor, Action.ORG_READ, org_id=campaign.org_id)
    ):
        raise CampaignNotFound(detail=N_("No such campaign."))
    return campaign


async def hold_steady(session: AsyncSession, campaign_id: UUID) -> None:
    """Keep the campaign's row as it is to the end of the transaction (a share lock):
    every change to its work and money updates that row and so waits; other readers do
    not."""
    await session.execute(
        select(Campaign.id).where(Campaign.id == campaign_id).with_for_update(read=True)
    )


def _state(campaign: Campaign, *allowed: str) -> None:
    if campaign.status not in allowed:
        raise CampaignStateConflict(
            detail=N_("This cannot be done now: the campaign is “{status_label}”."),
            extra={
                "status": campaign.status,
                "status_label": Phrase(STATUS_LABELS[campaign.status]),
            },
        )


async def submit_campaign(
    session: AsyncSession,
    *,
    actor: Actor,
    campaign_id: UUID,
    settings: Settings,
    now: datetime | None = None,
    request_key: str | None = None,
) -> Campaign:
    """Check the copy again, fund the escrow from the organisation's balance and ask an
    operator to approve. With ``request_key``, a repeated request answers as the first
    one did instead of failing on the changed state (see :func:`earlier_request`)."""
    campaign = await get_campaign(session, actor=actor, campaign_id=campaign_id, lock=True)
    require(actor, Action.ORG_MANAGE_FUNDS, org_id=campaign.org_id)
    if request_key is not None:
        earlier = await earlier_request(
            session, actor=actor, action="campaigns.submitted", campaign_id=campaign.id,
            request_key=request_key,
        )  # fmt: skip
        if earlier is not None:
            return campaign
    _state(campaign, "draft", "rejected")
    if campaign.ends_at <= (now or utcnow()):
        raise CampaignInvalid(
            detail=N_("The end is in the past."),
            fields=[FieldError("ends_at", N_("The end is in the past."))],
        )
    own = await target_is_own(session, campaign)
    findings = compliance_findings(campaign, settings, own_target=own)
    campaign.compliance = findings_as_json(findings)
    blocking = [f for f in findings if f.blocks]
    if blocking:
        raise ComplianceBlocked(
            detail=N_("Fix what the compliance check found before submitting."),
            # The findings' own messages need their excerpt; the fields carry a plain
            # message so any caller can render the error (pages and API say more).
            fields=[
                FieldError(f.field, N_("The compliance check found a problem here."))
                for f in blocking
            ],
            extra={"findings": findings_as_json(blocking)},
        )
    campaign.funding_round += 1
    await ledger.open_account(
        session, ledger.AccountSpec(escrow_account(campaign.id), no_overdraft=True)
    )
    await ledger.transfer(
        session,
        ledger.TransferRequest(
            idempotency_key=f"campaign:{campaign.id}:fund:{campaign.funding_round}",
            debit=org_account(campaign.org_id),
            credit=escrow_account(campaign.id),
            amount=campaign.quantity * campaign.unit_price,
            code="campaign_fund",
            reference=f"campaign:{campaign.id}",
        ),
    )
    campaign.status = "pending_approval"
    await record_audit(
        session,
        actor_id=actor.person_id,
        action="campaigns.submitted",
        object_type="campaign",
        object_id=campaign.id,
        data=_with_key({"funded": campaign.quantity * campaign.unit_price}, request_key),
    )
    await session.flush()
    return campaign


async def return_unused_escrow(session: AsyncSession, campaign: Campaign) -> int:
    """Move what escrow holds beyond its reservations back to the organisation."""
    balance = await ledger.balance(session, escrow_account(campaign.id))
    if balance.available <= 0:
        return 0
    await ledger.transfer(
        session,
        ledger.TransferRequest(
            idempotency_key=f"campaign:{campaign.id}:return:{new_id()}",
            debit=escrow_account(campaign.id),
            credit=org_account(campaign.org_id),
            amount=balance.available,
            code="campaign_return",
            reference=f"campaign:{campaign.id}",
        ),
    )
    return balance.available


async def _tell_brand(
    session: AsyncSession, campaign: Campaign, event: str, **extra: object
) -> None:
    """An event for the brand's systems (the events list and its webhooks)."""
    await insights.emit(
        session,
        org_id=campaign.org_id,
        type=event,
        data={
            "campaign_id": str(campaign.id),
            "title": campaign.title,
            "status": campaign.status,
            **extra,
        },
    )


DECISION_NOTE_MAX = 1000
"""Characters of an operator's note on a campaign decision (as the API's schema allows)."""


async def decide_campaign(
    session: AsyncSession,
    *,
    actor: Actor,
    campaign_id: UUID,
    approve: bool,
    note: str,
    now: datetime | None = None,
) -> Campaign:
    """An operator's compliance decision. A rejection returns the escrow at once. A
    campaign approved after its start begins at the approval: its plan spreads its units
    from then to its end, instead of counting it behind for the time it waited (and the
    feed pushing it out in a burst to catch up)."""
    require(actor, Action.STAFF_CONSOLE)
    moment = now or utcnow()
    campaign = await get_campaign(session, actor=None, campaign_id=campaign_id, lock=True)
    _state(campaign, "pending_approval")
    if not approve and not note.strip():
        raise CampaignInvalid(
            detail=N_("Say why the campaign is rejected."),
            fields=[FieldError("note", N_("A reason is required."))],
        )
    if len(note.strip()) > DECISION_NOTE_MAX:
        raise CampaignInvalid(
            detail=N_("Keep the note to {most} characters."),
            fields=[FieldError("note", N_("Too long."))],
            extra={"most": DECISION_NOTE_MAX},
        )
    data: dict[str, str] = {"note": note.strip()}
    if approve and campaign.starts_at < moment:
        data["starts_at_was"] = campaign.starts_at.isoformat()
        campaign.starts_at = moment
    campaign.status = "live" if approve else "rejected"
    campaign.decided_by = actor.person_id
    campaign.decision_note = note.strip() or None
    campaign.decided_at = moment
    if not approve:
        await return_unused_escrow(session, campaign)
    await record_audit(
        session,
        actor_id=actor.person_id,
        action="campaigns.approved" if approve else "campaigns.rejected",
        object_type="campaign",
        object_id=campaign.id,
        data=data,
    )
    await _tell_brand(
        session,
        campaign,
        "campaign.approved" if approve else "campaign.rejected",
        note=campaign.decision_note,
    )
    await session.flush()
    return campaign


QUALITY_NOTE_MAX = 500


async def set_quality_plan(
    session: AsyncSession, *, actor: Actor, campaign_id: UUID, included: bool, note: str
) -> Campaign:
    """Put a campaign in the quality-task plan, or take it out (operators): the feed
    shows a campaign in the plan with ``quality_boost`` more of its score and the reason
    "A quality task". Setting what is already set changes nothing and records nothing."""
    require(actor, Action.STAFF_CONSOLE)
    note = note.strip()
    if len(note) > QUALITY_NOTE_MAX:
        raise CampaignInvalid(
            detail=N_("At most 500 characters."),
            fields=[FieldError("note", N_("At most 500 characters."))],
        )
    campaign = await get_campaign(session, actor=None, campaign_id=campaign_id, lock=True)
    if campaign.quality_plan == included:
        return campaign
    if included:
        # A plan of what the feed shows: a campaign that can still be shown (taking one
        # out is always possible).
        _state(campaign, "pending_approval", "live", "paused")
    campaign.quality_plan = included
    await record_audit(
        session,
        actor_id=actor.person_id,
        action="campaigns.quality_plan_joined" if included else "campaigns.quality_plan_left",
        object_type="campaign",
        object_id=campaign.id,
        data={"note": note},
    )
    await session.flush()
    return campaign


async def _count_toggle(limits: RateLimits, settings: Settings, campaign: Campaign) -> None:
    """Each pause or resume tells the brand's systems (an event, webhook deliveries and
    their retries): a campaign switched on and off without end would flood them."""
    try:
        await limits.hit(settings.rate_limit_campaign_toggles, "campaign-toggle", str(campaign.id))
    except RateLimited as exc:
        raise RateLimited(
            detail=N_(
                "This campaign was paused and resumed as often as it may be for now. Try "
                "again in {minutes} minutes."
            ),
            extra={**exc.extra, "minutes": max(1, math.ceil(exc.extra["retry_after"] / 60))},
        ) from exc


def is_draft_author(actor: Actor, campaign: Campaign) -> bool:
    """The member who made the campaign (who may delete it while a draft, as owners may)."""
    return campaign.created_by == actor.person_id and campaign.org_id in actor.memberships


async def delete_draft(session: AsyncSession, *, actor: Actor, campaign_id: UUID) -> Campaign:
    """Delete a draft (never submitted, so no money ever moved for it): its organisation's
    owners, or the member who made it. Returns the row as it was."""
    campaign = await get_campaign(session, actor=actor, campaign_id=campaign_id, lock=True)
    if not is_draft_author(actor, campaign):
        require(actor, Action.ORG_MANAGE_FUNDS, org_id=campaign.org_id)
    _state(campaign, "draft")
    await record_audit(
        session,
        actor_id=actor.person_id,
        action="campaigns.draft_deleted",
        object_type="campaign",
        object_id=campaign.id,
        data={"title": campaign.title, "org": str(campaign.org_id)},
    )
    await session.delete(campaign)
    await session.flush()
    return campaign


async def pause_campaign(
    session: AsyncSession,
    *,
    actor: Actor,
    campaign_id: UUID,
    limits: RateLimits,
    settings: Settings,
) -> Campaign:
    campaign = await get_campaign(session, actor=actor, campaign_id=campaign_id, lock=True)
    require(actor, Action.ORG_MANAGE_FUNDS, org_id=campaign.org_id)
    _state(campaign, "live")
    await _count_toggle(limits, settings, campaign)
    campaign.status = "paused"
    await _tell_brand(session, campaign, "campaign.paused")
    await session.flush()
    return campaign


async def resume_campaign(
    session: AsyncSession,
    *,
    actor: Actor,
    campaign_id: UUID,
    limits: RateLimits,
    settings: Settings,
    now: datetime | None = None,
) -> Campaign:
    campaign = await get_campaign(session, actor=actor, campaign_id=campaign_id, lock=True)
    require(actor, Action.ORG_MANAGE_FUNDS, org_id=campaign.org_id)
    _state(campaign, "paused")
    if campaign.ends_at <= (now or utcnow()):
        raise CampaignStateConflict(detail=N_("The campaign's window has ended; close it."))
    await _count_toggle(limits, settings, campaign)
    campaign.status = "live"
    await _tell_brand(session, campaign, "campaign.resumed")
    await session.flush()
    return campaign


async def close_campaign(
    session: AsyncSession,
    *,
    actor: Actor | None,
    campaign_id: UUID,
    now: datetime | None = None,
    request_key: str | None = None,
) -> tuple[Campaign, int]:
    """Stop the campaign: open claims are released and unused escrow goes back to the
    organisation at once. Submitted work is still reviewed and paid from what it
    reserved. ``actor=None`` is the system (the window has ended). With ``request_key``,
    a repeated request answers as the first one did (the amount it returned)."""
    from xingdong.work import service as work

    campaign = await get_campaign(session, actor=actor, campaign_id=campaign_id, lock=True)
    if actor is not None:
        require(actor, Action.ORG_MANAGE_FUNDS, org_id=campaign.org_id)
        if request_key is not None:
            earlier = await earlier_request(
                session, actor=actor, action="campaigns.closed", campaign_id=campaign.id,
                request_key=request_key,
            )  # fmt: skip
            if earlier is not None:
                return campaign, int(earlier.get("returned", 0))
    _state(campaign, "draft", "pending_approval", "live", "paused", "rejected")
    campaign.status = "closed"
    campaign.closed_at = now or utcnow()
    await work.release_open_claims(session, campaign=campaign)
    returned = 0
    if campaign.funding_round:
        returned = await return_unused_escrow(session, campaign)
    await record_audit(
        session,
        actor_id=actor.person_id if actor else None,
        action="campaigns.closed",
        object_type="campaign",
        object_id=campaign.id,
        data=_with_key({"returned": returned}, request_key),
    )
    await _tell_brand(session, campaign, "campaign.closed", returned_fen=returned)
    await session.flush()
    return campaign, returned


async def not_closed_count(session: AsyncSession, *, org_id: UUID) -> int:
    """The organisation's campaigns not closed: drafts, waiting for approval, live,
    paused or rejected."""
    count = await session.scalar(
        select(func.count())
        .select_from(Campaign)
        .where(Campaign.org_id == org_id, Campaign.status != "closed")
    )
    return count or 0


async def close_ended_campaigns(session: AsyncSession, *, now: datetime | None = None) -> int:
    """Close live and paused campaigns whose window has ended (a periodic job)."""
    moment = now or utcnow()
    due = (
        await session.scalars(
            select(Campaign.id).where(
                Campaign.status.in_(("live", "paused")), Campaign.ends_at <= moment
            )
        )
    ).all()
    for campaign_id in due:
        await close_campaign(session, actor=None, campaign_id=campaign_id, now=moment)
    return len(due)


def _live_at(moment: datetime) -> tuple[ColumnElement[bool], ...]:
    """Live, inside its window, with units left."""
    return (
        Campaign.status == "live",
        Campaign.starts_at <= moment,
        Campaign.ends_at > moment,
        Campaign.units_open + Campaign.units_done < Campaign.quantity,
    )


async def live_progress(
    session: AsyncSession, *, now: datetime | None = None
) -> tuple[datetime, list[tuple[str, int, int, bool]]]:
    """The database's clock as the read began (the ``since`` of a later
    :func:`progress_changes`), and the campaigns :func:`live_campaigns` returns, as (id as
    text, units held, units done, in the quality-task plan) only: cheap enough to ask
    every second (plain rows, no ORM results and no UUID objects)."""
    connection = await session.connection()
    read_at = (await connection.execute(select(func.clock_timestamp()))).scalar_one()
    rows = await connection.execute(
        select(
            cast(Campaign.id, String),
            Campaign.units_open,
            Campaign.units_done,
            Campaign.quality_plan,
        ).where(*_live_at(now or utcnow()))
    )
    return read_at, [(task_id, held, done, quality) for task_id, held, done, quality in rows]


@dataclass(frozen=True)
class ProgressChanges:
    """What :func:`progress_changes` read."""

    read_at: datetime
    """The database's clock as the read began: the ``since`` of the next read."""
    live_count: int
    """How many campaigns were live at ``now`` as the read began: a reader whose count
    differs lost some without a write (rows deleted, or the table emptied)."""
    rows: list[tuple[str, int, int, bool, bool]]
    """(id as text, units held, units done, live at ``now``, in the quality-task plan) of
    each campaign read."""


async def progress_changes(
    session: AsyncSession, *, now: datetime, since: datetime, window_since: datetime
) -> ProgressChanges:
    """The campaigns whose row changed after ``since`` (the database's clock) or whose
    window opened or closed after ``window_since`` and by ``now``, each with whether it
    is live at ``now`` as :func:`live_progress` means it: what a reader that knows the
    live campaigns as they were at ``window_since`` needs to know them at ``now``."""
    connection = await session.connection()
    live_count = select(func.count()).where(*_live_at(now)).scalar_subquery()
    read_at, counted = (await connection.execute(select(func.clock_timestamp(), live_count))).one()
    rows = await connection.execute(
        select(
            cast(Campaign.id, String),
            Campaign.units_open,
            Campaign.units_done,
            and_(*_live_at(now)),
            Campaign.quality_plan,
        ).where(
            or_(
                Campaign.changed_at > since,
                and_(Campaign.starts_at > window_since, Campaign.starts_at <= now),
                and_(Campaign.ends_at > window_since, Campaign.ends_at <= now),
            )
        )
    )
    return ProgressChanges(
        read_at=read_at,
        live_count=counted,
        rows=[
            (task_id, held, done, bool(live), quality)
            for task_id, held, done, live, quality in rows
        ],
    )


async def campaigns_by_ids(session: AsyncSession, ids: list[UUID]) -> list[Campaign]:
    if not ids:
        return []
    return list((await session.scalars(select(Campaign).where(Campaign.id.in_(ids)))).all())


async def live_campaigns(session: AsyncSession, *, now: datetime | None = None) -> list[Campaign]:
    """Live campaigns inside their window with units left (for the task feed)."""
    moment = now or utcnow()
    return list(
        (
            await session.scalars(
                select(Campaign)
                .where(*_live_at(moment))
                .order_by(Campaign.reward.desc(), Campaign.created_at)
            )
        ).all()
    )


# --- idempotent requests, lists, progress, previews ----------------------------------

REQUEST_KEY_MAX = 160
_KEYED_ACTIONS = ("campaigns.submitted", "campaigns.closed")


def _with_key(data: dict[str, Any], request_key: str | None) -> dict[str, Any]:
    if request_key is not None:
        data["request_key"] = request_key
    return data


async def earlier_request(
    session: AsyncSession, *, actor: Actor, action: str, campaign_id: UUID, request_key: str
) -> dict[str, Any] | None:
    """What an earlier request of ``actor`` with the same key recorded (its audit data),
    when it did ``action`` to this campaign; None when the key is new. The key is kept
    in the action's audit record, so it needs no table of its own; a key used for a
    different request is refused. Callers hold the campaign's lock, so two requests with
    one key cannot both act."""
    if not request_key or len(request_key) > REQUEST_KEY_MAX:
        raise CampaignInvalid(
            detail=N_("Send an Idempotency-Key header of 1 to 160 characters."),
            fields=[FieldError("Idempotency-Key", N_("Required."))],
        )
    await claim_key(session, person_id=actor.person_id, key=request_key, kind="campaign")
    rows = (
        await session.execute(
            select(AuditEntry.action, AuditEntry.object_id, AuditEntry.data)
            .where(
                AuditEntry.actor_id == actor.person_id,
                AuditEntry.action.in_(_KEYED_ACTIONS),
                AuditEntry.data.contains({"request_key": request_key}),
            )
            .order_by(AuditEntry.id)
        )
    ).all()
    for found_action, object_id, data in rows:
        if found_action == action and object_id == str(campaign_id):
            return dict(data)
    if rows:
        raise IdempotencyKeyReused(
            detail=N_("This idempotency key was used for a different request.")
        )
    return None


async def campaigns_page(
    session: AsyncSession,
    *,
    actor: Actor,
    org_id: UUID,
    status: str | None = None,
    search: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> CursorPage[Campaign]:
    """An organisation's campaigns, newest first, for its members and staff."""
    require(actor, Action.ORG_READ, org_id=org_id)
    size = clamp_limit(limit)
    rows = await repo.campaigns_page(
        session, org_id=org_id, status=status, search=search, cursor=cursor, limit=size,
        newest_first=True,
    )  # fmt: skip
    return CursorPage.cut(rows, size)


async def campaigns_for_operators(
    session: AsyncSession,
    *,
    actor: Actor,
    status: str = "pending_approval",
    search: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> CursorPage[Campaign]:
    """Every organisation's campaigns in one status (operators). Those waiting for
    approval come oldest first, like a queue; the others newest first."""
    require(actor, Action.STAFF_CONSOLE)
    size = clamp_limit(limit)
    rows = await repo.campaigns_page(
        session, org_id=None, status=status, search=search, cursor=cursor, limit=size,
        newest_first=status != "pending_approval",
    )  # fmt: skip
    return CursorPage.cut(rows, size)


@dataclass(frozen=True)
class Progress:
    """Where a campaign stands, in units and in fen."""

    planned: int
    open: int
    """Claimed or submitted, waiting for a decision: budget reserved for them."""
    done: int
    """Approved: paid for (in hold or released)."""
    left: int
    budget: int
    """What the whole campaign costs: quantity × unit price."""
    spent: int
    reserved: int
    escrow: int
    """What the campaign's escrow account holds now, reservations included."""
    returned: int = 0
    """Unused budget moved back to the organisation's balance (at the close, and as
    reservations of a closed campaign come back)."""

    @property
    def percent_done(self) -> int:
        return self.done * 100 // self.planned if self.planned else 0


async def progress_of(session: AsyncSession, campaign: Campaign) -> Progress:
    account = await ledger.account_by_key(session, escrow_account(campaign.id))
    escrow = ledger.balance_of(account).posted if account is not None else 0
    returned = 0
    # Only a closed (or refused) campaign gives budget back.
    if account is not None and campaign.status in ("closed", "rejected"):
        flows = await ledger.posted_flows(session, escrow_account(campaign.id))
        returned = sum(f.outflow for f in flows if f.code == "campaign_return")
    return Progress(
        returned=returned,
        planned=campaign.quantity,
        open=campaign.units_open,
        done=campaign.units_done,
        left=max(campaign.quantity - campaign.units_open - campaign.units_done, 0),
        budget=campaign.quantity * campaign.unit_price,
        spent=campaign.units_done * campaign.unit_price,
        reserved=campaign.units_open * campaign.unit_price,
        escrow=escrow,
    )


async def check_target(*, platform: str, task_type: str, target: str) -> TargetInfo:
    """Find what a campaign of ``task_type`` would point at, as the brand typed it."""
    if task_type not in ACTION_TARGET_KIND:
        raise CampaignInvalid(
            detail=N_("Please correct the marked fields."),
            fields=[FieldError("task_type", N_("Choose a task type."))],
        )
    if not target.strip():
        raise CampaignInvalid(
            detail=N_("Please correct the marked fields."),
            fields=[FieldError("target", N_("Enter the account, video, live room or product."))],
        )
    return await _resolve(platform, task_type, target.strip())


WRONG_KIND = {
    "account": N_("This is not an account; this task type needs one (@handle or its address)."),
    "video": N_("This is not a video; this task type needs one (its id or its address)."),
    "live_room": N_("This is not a live room; this task type needs one (its id or its address)."),
    "product": N_("This is not a product of the shop; this task type needs one."),
}
"""What a target of another kind than the task type needs is told (a follow on a video)."""


async def _resolve(platform: str, task_type: str, ref: str) -> TargetInfo:
    """The target on the platform, as a task of this type needs it."""
    connector = get_connector(platform)
    needed = ACTION_TARGET_KIND[task_type]
    try:
        return await answered_in_time(platform, connector.resolve_target(needed, ref))
    except TargetNotFound:
        pass
    # Not there as the kind needed: said so if it is there as another kind, so the brand
    # does not look for a mistyped id.
    for other in TARGET_KINDS:
        if other == needed:
            continue
        with contextlib.suppress(TargetNotFound):
            await answered_in_time(platform, connector.resolve_target(other, ref))
            raise CampaignInvalid(
                detail=N_("The target is not what this task type is done to."),
                fields=[FieldError("target", WRONG_KIND[needed])],
                extra={"target_kind": other, "needed_kind": needed},
            )
    raise CampaignInvalid(
        detail=N_("The target does not exist on the platform."),
        fields=[FieldError("target", N_("Not found on the platform."))],
    )


@dataclass(frozen=True)
class CampaignPreview:
    """A draft as it would be created: its target, what the checks find, its prices."""

    target: TargetInfo
    findings: list[Finding]
    reward: int
    fee: int
    total: int
    """The escrow submitting it will take from the organisation's balance."""

    @property
    def is_blocked(self) -> bool:
        return any(f.blocks for f in self.findings)


async def preview_campaign(
    session: AsyncSession,
    *,
    actor: Actor,
    org_id: UUID,
    draft: CampaignDraft,
    settings: Settings,
    now: datetime | None = None,
) -> CampaignPreview:
    """Check a draft as :func:`create_campaign` would, without creating it, and say what
    the compliance check finds (the last step of the brand's form)."""
    if org_id not in actor.memberships:
        require(actor, Action.ORG_READ, org_id=org_id)
        raise CampaignInvalid(detail=N_("Only members of the organisation can create campaigns."))
    _refuse_draft(draft, settings, now or utcnow())
    target = await check_target(
        platform=draft.platform, task_type=draft.task_type, target=draft.target
    )
    # A campaign row that is never added to the session: only the checks read it.
    unsaved = Campaign(
        org_id=org_id,
        platform=draft.platform,
        target_owner=target.owner_handle,
        task_type=draft.task_type,
        title=draft.title.strip(),
        brief=draft.brief.strip(),
        disclosure=draft.disclosure.strip(),
        comment_guidance=(draft.comment_guidance or "").strip() or None,
        # Each named once, in the order given ("北京", "北京" is 北京).
        regions=list(dict.fromkeys(draft.regions)),
        interests=list(dict.fromkeys(draft.interests)),
        tiers=list(dict.fromkeys(draft.tiers)),
        min_age=draft.min_age,
        max_age=draft.max_age,
        pacing_per_hour=draft.pacing_per_hour,
        min_watch_seconds=draft.min_watch_seconds,
        reward=price_split(draft.unit_price, settings.platform_fee_percent)[0],
        target_price_fen=target.price_fen,
    )
    reward, fee = price_split(draft.unit_price, settings.platform_fee_percent)
    return CampaignPreview(
        target=target,
        findings=compliance_findings(
            unsaved, settings, own_target=await target_is_own(session, unsaved)
        ),
        reward=reward,
        fee=fee,
        total=draft.quantity * draft.unit_price,
    )


async def typical_reward(
    session: AsyncSession, *, task_type: str, exclude_id: UUID | None = None
) -> tuple[int, int]:
    """The median worker reward of live campaigns of this task type, and how many there
    are (what similar tasks pay, for a brand's "why is it slow" hint)."""
    query = select(func.percentile_cont(0.5).within_group(Campaign.reward), func.count()).where(
        Campaign.status == "live", Campaign.task_type == task_type
    )
    if exclude_id is not None:
        query = query.where(Campaign.id != exclude_id)
    median, count = (await session.execute(query)).one()
    return int(median or 0), int(count)
