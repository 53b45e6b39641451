"""REST endpoints of campaigns, under ``/api/v1``: brands create, fund, run and close
campaigns and contest completions; operators approve campaigns and decide disputes."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, TypeVar
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi import status as http_status

from xingdong.campaigns import service
from xingdong.campaigns.models import Campaign
from xingdong.campaigns.presentation import readable_error
from xingdong.campaigns.schemas import (
    CampaignIn,
    CampaignOut,
    CampaignStatus,
    ClosedOut,
    CompletionOut,
    CompletionStatus,
    ContestIn,
    DecisionIn,
    DeliveryOut,
    DisputeCaseOut,
    DisputeDecisionIn,
    DisputeOut,
    DisputeStatus,
    QualityPlanIn,
)
from xingdong.core.context import current_locale
from xingdong.core.errors import FieldError, XingdongError
from xingdong.core.pagination import Page
from xingdong.dispatch.delivery import campaign_delivery
from xingdong.ledger.service import request_digest
from xingdong.web.deps import (
    ApiActor,
    CursorQuery,
    DbSession,
    IdempotencyKey,
    LimitQuery,
    OptionalIdempotencyKey,
    RuntimeDep,
)
from xingdong.work import completions
from xingdong.work import service as work

router = APIRouter(prefix="/api/v1", tags=["campaigns"])

T = TypeVar("T")
SearchQuery = Annotated[str | None, Query(max_length=80, description="Search titles")]


async def _readable(org_id: UUID, call: Awaitable[T]) -> T:
    """Run a service call; say its compliance and funding errors in the brand's terms."""
    try:
        return await call
    except XingdongError as exc:
        better = readable_error(exc, org_id=org_id)
        if better is exc:
            raise
        raise better from exc


API_FIELD_NAMES = {"unit_price": "unit_price_fen"}
"""The draft's field names that the API's body spells otherwise."""


async def _in_body_terms(call: Awaitable[T]) -> T:
    """Run a service call on a draft from the API; its errors name the body's fields."""
    try:
        return await call
    except XingdongError as exc:
        exc.fields = [
            FieldError(API_FIELD_NAMES.get(f.field, f.field), f.message, f.code) for f in exc.fields
        ]
        raise


async def _full(session: DbSession, campaign: Campaign) -> CampaignOut:
    progress = await service.progress_of(session, campaign)
    return CampaignOut.full(campaign, locale=current_locale.get(), progress=progress)


async def _org_of(session: DbSession, actor: ApiActor, campaign_id: UUID) -> UUID:
    return (await service.get_campaign(session, actor=actor, campaign_id=campaign_id)).org_id


@router.post("/orgs/{org_id}/campaigns", status_code=http_status.HTTP_201_CREATED)
async def create_campaign(
    org_id: UUID,
    body: CampaignIn,
    actor: ApiActor,
    session: DbSession,
    runtime: RuntimeDep,
    idempotency_key: OptionalIdempotencyKey = None,
) -> CampaignOut:
    """Create a draft (members). The target is resolved on the platform and the copy is
    checked; nothing is paid until the draft is submitted. With an ``Idempotency-Key``, a
    retry with the same body answers with the same draft (201) instead of making another."""
    campaign = await _in_body_terms(
        service.create_campaign(
            session,
            actor=actor,
            org_id=org_id,
            draft=body.to_draft(),
            settings=runtime.settings,
            request_key=idempotency_key,
            request_hash=request_digest({"org": str(org_id), **body.model_dump(mode="json")}),
        )
    )
    return await _full(session, campaign)


@router.get("/orgs/{org_id}/campaigns")
async def list_campaigns(
    org_id: UUID,
    actor: ApiActor,
    session: DbSession,
    status: CampaignStatus | None = None,
    q: SearchQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 20,
) -> Page[CampaignOut]:
    """The organisation's campaigns, newest first (``status`` filters, ``q`` searches
    titles)."""
    page = await service.campaigns_page(
        session, actor=actor, org_id=org_id, status=status, search=q, cursor=cursor, limit=limit
    )
    locale = current_locale.get()
    return Page[CampaignOut](
        items=[CampaignOut.full(c, locale=locale) for c in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/campaigns/{campaign_id}")
async def read_campaign(campaign_id: UUID, actor: ApiActor, session: DbSession) -> CampaignOut:
    """A campaign with its progress (units, spend, escrow) and compliance findings
    (members of its organisation, and operators)."""
    campaign = await service.get_campaign(session, actor=actor, campaign_id=campaign_id)
    return await _full(session, campaign)


@router.get("/campaigns/{campaign_id}/delivery")
async def read_delivery(campaign_id: UUID, actor: ApiActor, session: DbSession) -> DeliveryOut:
    """The campaign's delivery against its plan: the plan and the units taken over its
    window, how often the feed showed it, and why it is slow if it is (members of its
    organisation, and operators)."""
    campaign = await service.get_campaign(session, actor=actor, campaign_id=campaign_id)
    delivery = await campaign_delivery(session, campaign=campaign)
    return DeliveryOut.of(delivery, campaign, locale=current_locale.get())


@router.post("/campaigns/{campaign_id}/submit")
async def submit_campaign(
    campaign_id: UUID,
    actor: ApiActor,
    session: DbSession,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey,
) -> CampaignOut:
    """Fund the escrow from the organisation's balance and ask for approval (owners).
    A retry with the same ``Idempotency-Key`` answers again without paying twice."""
    org_id = await _org_of(session, actor, campaign_id)
    campaign = await _readable(
        org_id,
        service.submit_campaign(
            session, actor=actor, campaign_id=campaign_id, settings=runtime.settings,
            request_key=idempotency_key,
        ),
    )  # fmt: skip
    return await _full(session, campaign)


@router.delete("/campaigns/{campaign_id}", status_code=http_status.HTTP_204_NO_CONTENT)
async def delete_draft(campaign_id: UUID, actor: ApiActor, session: DbSession) -> None:
    """Delete a draft (owners, or the member who made it); a campaign that was ever
    submitted is kept and answers ``campaign_state``: close it instead."""
    await service.delete_draft(session, actor=actor, campaign_id=campaign_id)


@router.post("/campaigns/{campaign_id}/pause")
async def pause_campaign(
    campaign_id: UUID, actor: ApiActor, session: DbSession, runtime: RuntimeDep
) -> CampaignOut:
    """Stop new claims for a while (owners); claims already made run on. Pauses and
    resumes together are limited per campaign (``rate_limit_campaign_toggles``)."""
    campaign = await service.pause_campaign(
        session, actor=actor, campaign_id=campaign_id, limits=runtime.limits,
        settings=runtime.settings,
    )  # fmt: skip
    return await _full(session, campaign)


@router.post("/campaigns/{campaign_id}/resume")
async def resume_campaign(
    campaign_id: UUID, actor: ApiActor, session: DbSession, runtime: RuntimeDep
) -> CampaignOut:
    campaign = await service.resume_campaign(
        session, actor=actor, campaign_id=campaign_id, limits=runtime.limits,
        settings=runtime.settings,
    )  # fmt: skip
    return await _full(session, campaign)


@router.post("/campaigns/{campaign_id}/close")
async def close_campaign(
    campaign_id: UUID, actor: ApiActor, session: DbSession, idempotency_key: IdempotencyKey
) -> ClosedOut:
    """End the campaign for good (owners): open claims are released and the escrow not
    needed for work already handed in goes back to the organisation's balance."""
    campaign, returned = await service.close_campaign(
        session, actor=actor, campaign_id=campaign_id, request_key=idempotency_key
    )
    return ClosedOut(campaign=await _full(session, campaign), returned_fen=returned)


@router.get("/campaigns/{campaign_id}/assignments")
async def list_completions(
    campaign_id: UUID,
    actor: ApiActor,
    session: DbSession,
    runtime: RuntimeDep,
    status: CompletionStatus | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 20,
) -> Page[CompletionOut]:
    """Work handed in for the campaign, newest first; workers appear as pseudonyms."""
    page = await completions.completions_page(
        session,
        actor=actor,
        campaign_id=campaign_id,
        secret=runtime.settings.secret_key.get_secret_value(),
        status=status,
        cursor=cursor,
        limit=limit,
    )
    return Page[CompletionOut](
        items=[CompletionOut.of(c) for c in page.items], next_cursor=page.next_cursor
    )


@router.get("/campaigns/{campaign_id}/assignments/{assignment_id}")
async def read_completion(
    campaign_id: UUID,
    assignment_id: UUID,
    actor: ApiActor,
    session: DbSession,
    runtime: RuntimeDep,
) -> CompletionOut:
    """One completion of the campaign, as the list shows it: to refresh the one a webhook
    names (``assignment_not_found`` for work not handed in, or of another campaign)."""
    found = await completions.one_completion(
        session,
        actor=actor,
        campaign_id=campaign_id,
        assignment_id=assignment_id,
        secret=runtime.settings.secret_key.get_secret_value(),
    )
    return CompletionOut.of(found)


@router.post(
    "/campaigns/{campaign_id}/assignments/{assignment_id}/contest",
    status_code=http_status.HTTP_201_CREATED,
)
async def contest_completion(
    campaign_id: UUID, assignment_id: UUID, body: ContestIn, actor: ApiActor, session: DbSession
) -> DisputeOut:
    """Say an approved completion is not genuine, while its reward is in hold (owners);
    an operator decides."""
    dispute = await completions.contest_completion(
        session,
        actor=actor,
        campaign_id=campaign_id,
        assignment_id=assignment_id,
        reason=body.reason,
    )
    return DisputeOut.of(dispute)


# --- operators ------------------------------------------------------------------------


@router.get("/ops/campaigns", tags=["ops"])
async def campaigns_for_operators(
    actor: ApiActor,
    session: DbSession,
    status: CampaignStatus = "pending_approval",
    q: SearchQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 20,
) -> Page[CampaignOut]:
    """Campaigns in one status across organisations (operators); those waiting for
    approval oldest first."""
    page = await service.campaigns_for_operators(
        session, actor=actor, status=status, search=q, cursor=cursor, limit=limit
    )
    locale = current_locale.get()
    return Page[CampaignOut](
        items=[CampaignOut.full(c, locale=locale) for c in page.items],
        next_cursor=page.next_cursor,
    )


@router.post("/ops/campaigns/{campaign_id}/decision", tags=["ops"])
async def decide_campaign(
    campaign_id: UUID, body: DecisionIn, actor: ApiActor, session: DbSession
) -> CampaignOut:
    """Approve (the campaign goes live) or reject with a note (the escrow goes back)."""
    campaign = await service.decide_campaign(
        session, actor=actor, campaign_id=campaign_id, approve=body.approve, note=body.note
    )
    return await _full(session, campaign)


@router.post("/ops/campaigns/{campaign_id}/quality-plan", tags=["ops"])
async def set_quality_plan(
    campaign_id: UUID, body: QualityPlanIn, actor: ApiActor, session: DbSession
) -> CampaignOut:
    """Put the campaign in the quality-task plan or take it out: the feed shows a
    campaign in the plan with ``quality_boost`` more of its score, within seconds."""
    campaign = await service.set_quality_plan(
        session, actor=actor, campaign_id=campaign_id, included=body.included, note=body.note
    )
    return await _full(session, campaign)


@router.get("/ops/disputes", tags=["ops"])
async def disputes_for_operators(
    actor: ApiActor,
    session: DbSession,
    status: DisputeStatus = "open",
    cursor: CursorQuery = None,
    limit: LimitQuery = 20,
) -> Page[DisputeCaseOut]:
    """Appeals and contests with the work and campaign they are about (operators)."""
    page = await completions.dispute_cases(
        session, actor=actor, status=status, cursor=cursor, limit=limit
    )
    return Page[DisputeCaseOut](
        items=[DisputeCaseOut.of_case(c) for c in page.items], next_cursor=page.next_cursor
    )


@router.post("/ops/disputes/{dispute_id}/decision", tags=["ops"])
async def decide_dispute(
    dispute_id: UUID,
    body: DisputeDecisionIn,
    actor: ApiActor,
    session: DbSession,
    runtime: RuntimeDep,
) -> DisputeOut:
    """Uphold (the complaint was right: an appeal pays, a contest claws back) or dismiss,
    with a note. Nobody decides a dispute they are part of."""
    dispute = await work.decide_dispute(
        session,
        actor=actor,
        dispute_id=dispute_id,
        uphold=body.uphold,
        note=body.note,
        settings=runtime.settings,
    )
    return DisputeOut.of(dispute)
