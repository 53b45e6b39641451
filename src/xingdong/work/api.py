"""REST endpoints of the work domain, under ``/api/v1``: workers find and claim tasks,
hand in evidence and appeal; reviewers work the queue."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, File, Form, Header, Query, Request, Response, UploadFile
from fastapi import status as http_status

from xingdong.campaigns.policy import TaskType
from xingdong.core.client_signals import signals_of
from xingdong.core.clock import utcnow
from xingdong.core.context import current_locale
from xingdong.core.pagination import Page, numbered_page
from xingdong.dispatch.live import live_dispatch
from xingdong.dispatch.route import feed_api
from xingdong.web.deps import (
    Announced,
    ApiActor,
    ApiPerson,
    CursorQuery,
    DbSession,
    LimitQuery,
    RuntimeDep,
)
from xingdong.work import gold, labels, service
from xingdong.work.review_filter import (
    HIGH_RISK_SCORE,
    SEARCH_LENGTH,
    PlatformCheck,
    ReviewFilter,
    RiskLevel,
)
from xingdong.work.schemas import (
    AppealIn,
    AssignmentOut,
    AssignmentStatus,
    BulkApproveIn,
    BulkApproveOut,
    BulkItemOut,
    CheckOut,
    DecisionIn,
    DecisionOut,
    DisputeOut,
    GoldItemIn,
    GoldItemOut,
    ReasonOut,
    ReviewerAccuracyOut,
    ReviewItemOut,
    ReviewQualityOut,
    TaskDetailOut,
    TaskFeedOut,
    TaskOut,
)

router = APIRouter(prefix="/api/v1", tags=["work"])

SUBMISSION_PATHS = re.compile(r"^(?:/api/v1/me/assignments|/me/tasks)/[^/]+/submission$")
"""The routes that take evidence uploads (API and page): their request bodies may be as
large as a video (see ``web.middleware.BodySizeLimit``)."""
MULTIPART_ALLOWANCE = 64 * 1024
"""Room in an upload's body for the form's other fields and the multipart framing."""

TaskTypeQuery = Annotated[
    str | None,
    Query(
        alias="type",
        max_length=20,
        description="Only tasks of this type",
        json_schema_extra={"enum": list(labels.TASK_TYPE_LABELS)},
    ),
]
"""Checked by the route itself (a readable "choose a task type"); the enum is for the
document."""
ClaimKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=160,
        description="A retry with the same key answers with the same assignment.",
    ),
]


def upload_limit(max_video_bytes: int) -> int:
    return max_video_bytes + MULTIPART_ALLOWANCE


async def read_upload(file: UploadFile | None) -> service.Upload | None:
    """The uploaded file, or None when the form's file field was left empty."""
    if file is None:
        return None
    data = await file.read()
    if not data and not file.filename:
        return None
    return service.Upload(data=data, filename=file.filename, content_type=file.content_type)


# --- the worker ----------------------------------------------------------------------


@router.get("/tasks", response_model=TaskFeedOut)
async def list_tasks(
    request: Request,
    _bearer: Announced,  # read by feed_api; declared for the docs
    task_type: TaskTypeQuery = None,  # noqa: ARG001 - read by feed_api; declared for the docs
    limit: Annotated[  # noqa: ARG001 - read by feed_api; declared for the docs
        int | None,
        Query(ge=1, le=100, description="How many tasks (default: the feed size setting, 20)"),
    ] = None,
) -> Response:
    """Your personal feed: live tasks you may claim now, best for you first, each with
    the reason it is there. When there are none, ``reasons`` says why (a profile to
    complete, an account to bind, nothing open …)."""
    # Served by the plain route ahead of this one (web.plain_routes); this route
    # describes it in the OpenAPI document and answers the same if ever reached.
    return await feed_api(request)


@router.get("/tasks/{campaign_id}")
async def read_task(
    campaign_id: UUID, person: ApiPerson, session: DbSession, runtime: RuntimeDep
) -> TaskDetailOut:
    """One task with its brief, disclosure and requirements, and whether you can claim it."""
    now = utcnow()
    locale = current_locale.get()
    view = await service.task_view(
        session, person=person, campaign_id=campaign_id, settings=runtime.settings, now=now
    )
    campaign = view.campaign
    base = TaskOut.of(
        campaign, units_left=view.units_left, taken_by_me=view.taken_by_me, now=now, locale=locale
    )
    return TaskDetailOut(
        **base.model_dump(),
        brief=campaign.brief,
        disclosure=campaign.disclosure,
        comment_guidance=campaign.comment_guidance,
        min_watch_seconds=campaign.min_watch_seconds,
        min_stay_seconds=campaign.min_stay_seconds,
        claim_minutes=service.claim_window(runtime.settings, campaign, now) // timedelta(minutes=1),
        hold_hours=service.hold_hours(runtime.settings, campaign.task_type),
        can_claim=view.reason is None,
        reason=None
        if view.reason is None
        else ReasonOut.of(view.reason, labels.TASK_REASONS, locale, **view.reason_params),
        opens_at=view.opens_at,
        open_assignment_id=view.open_claim.id if view.open_claim else None,
    )


@router.post("/tasks/{campaign_id}/claims", status_code=http_status.HTTP_201_CREATED)
async def claim_task(
    request: Request,
    campaign_id: UUID,
    person: ApiPerson,
    session: DbSession,
    runtime: RuntimeDep,
    idempotency_key: ClaimKey = None,
) -> AssignmentOut:
    """Claim one unit: its reward is reserved for you until ``expires_at``. With an
    ``Idempotency-Key``, a retry answers with the same assignment."""
    assignment = await service.claim_once(
        session,
        person=person,
        campaign_id=campaign_id,
        idempotency_key=idempotency_key,
        settings=runtime.settings,
        signals=signals_of(request),
    )
    # The next feed from this process counts the unit as theirs.
    live_dispatch(runtime.db, runtime.settings).facts.forget(str(person.id))
    view = await service.my_assignment(
        session, person=person, assignment_id=assignment.id, settings=runtime.settings
    )
    return AssignmentOut.of_view(view, locale=current_locale.get())


@router.get("/me/assignments")
async def my_assignments(
    person: ApiPerson,
    session: DbSession,
    runtime: RuntimeDep,
    status: AssignmentStatus | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 20,
) -> Page[AssignmentOut]:
    """Your assignments, newest first, with their status, deadlines and reasons."""
    locale = current_locale.get()
    page = await service.my_assignments(
        session, person=person, cursor=cursor, limit=limit, status=status
    )
    return Page[AssignmentOut](
        items=[
            AssignmentOut.of(
                assignment,
                campaign,
                locale=locale,
                appeal_until=service.appeal_deadline(
                    assignment, runtime.settings, appealed=assignment.id in page.appealed
                ),
            )
            for assignment, campaign in page.items
        ],
        next_cursor=page.next_cursor,
    )


@router.get("/me/assignments/{assignment_id}")
async def my_assignment(
    assignment_id: UUID, person: ApiPerson, session: DbSession, runtime: RuntimeDep
) -> AssignmentOut:
    view = await service.my_assignment(
        session, person=person, assignment_id=assignment_id, settings=runtime.settings
    )
    seen = await service.ad_impressions(view.campaign, view.assignment)
    return AssignmentOut.of_view(view, locale=current_locale.get(), impressions=seen)


@router.get("/me/assignments/{assignment_id}/check")
async def check_now(assignment_id: UUID, person: ApiPerson, session: DbSession) -> CheckOut:
    """What the platform sees of a task now; nothing is handed in or written.

    - A claimed task is asked as the hand-in asks. A hand-in is final: check first,
      finish the action if the platform does not see it yet, then hand in.
    - A task in hold (approved) is asked as the hold's end asks: ``at_hold_end`` says
      what the end would do if it came now (``released``, ``clawed_back`` or
      ``waiting``), so an action undone by mistake can be done again in time; the answer is
      kept as the task's ``hold_check``."""
    found = await service.check_now(session, person=person, assignment_id=assignment_id)
    return CheckOut.of(found, current_locale.get())


@router.post("/me/assignments/{assignment_id}/submission")
async def submit_evidence(
    request: Request,
    assignment_id: UUID,
    person: ApiPerson,
    session: DbSession,
    runtime: RuntimeDep,
    file: Annotated[
        UploadFile | None, File(description="A screenshot; a video for shoot tasks")
    ] = None,
    link: Annotated[str | None, Form()] = None,
    note: Annotated[str | None, Form()] = None,
) -> AssignmentOut:
    """Hand in the evidence (multipart form): a ``file``, a ``link``, or both, and an
    optional ``note``. The platform is asked at once: a confirmed action on a campaign that
    allows it is approved immediately, anything else waits for a reviewer."""
    await service.submit_evidence(
        session,
        person=person,
        assignment_id=assignment_id,
        upload=await read_upload(file),
        link=link,
        note=note,
        settings=runtime.settings,
        storage=runtime.evidence,
        signals=signals_of(request),
    )
    # The next feed from this process counts the unit as theirs.
    live_dispatch(runtime.db, runtime.settings).facts.forget(str(person.id))
    view = await service.my_assignment(
        session, person=person, assignment_id=assignment_id, settings=runtime.settings
    )
    return AssignmentOut.of_view(view, locale=current_locale.get())


@router.post("/me/assignments/{assignment_id}/give-up")
async def give_up_claim(
    assignment_id: UUID, person: ApiPerson, session: DbSession, runtime: RuntimeDep
) -> AssignmentOut:
    """Give a claimed task back before its claim expires: the unit returns to the pool
    and the claim no longer counts against the per-person limit (status ``expired``,
    ``settle_reason`` ``given_up``). Only a claim not yet handed in (409 otherwise)."""
    await service.give_up(session, person=person, assignment_id=assignment_id)
    live_dispatch(runtime.db, runtime.settings).facts.forget(str(person.id))
    view = await service.my_assignment(
        session, person=person, assignment_id=assignment_id, settings=runtime.settings
    )
    return AssignmentOut.of_view(view, locale=current_locale.get())


@router.post("/me/assignments/{assignment_id}/appeal", status_code=http_status.HTTP_201_CREATED)
async def appeal_rejection(
    assignment_id: UUID, body: AppealIn, person: ApiPerson, session: DbSession, runtime: RuntimeDep
) -> DisputeOut:
    """Ask an operator to look at a rejection again, within ``appeal_until``."""
    dispute = await service.appeal(
        session,
        person=person,
        assignment_id=assignment_id,
        reason=body.reason,
        settings=runtime.settings,
    )
    return DisputeOut.model_validate(dispute)


# --- reviewers -------------------------------------------------------------------------


@router.get("/review/queue", tags=["review"])
async def review_queue(
    actor: ApiActor,
    session: DbSession,
    runtime: RuntimeDep,
    limit: LimitQuery = 50,
    task_type: Annotated[
        TaskType | None, Query(alias="type", description="Only hand-ins of this task type")
    ] = None,
    check: Annotated[
        PlatformCheck | None,
        Query(description="What the platform's check found (`none`: no check on record)"),
    ] = None,
    risk: Annotated[
        RiskLevel | None,
        Query(description=f"`high`: risk score {HIGH_RISK_SCORE} or more; `low`: below it"),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=SEARCH_LENGTH,
            description="Campaign title, brand name or the worker's account handle",
        ),
    ] = None,
) -> list[ReviewItemOut]:
    """Submissions waiting for a decision, riskiest and oldest first (reviewers); never
    your own; narrowed by task type, platform check, risk and a search. Gold items (known
    answers that measure accuracy) are mixed in at the configured rate, fit the same
    filter and are decided the same way."""
    locale = current_locale.get()
    narrowed = ReviewFilter(
        task_type=task_type, check=check, risk=risk, search=(q or "").strip() or None
    )
    entries = await service.review_queue_with_gold(
        session,
        actor=actor,
        settings=runtime.settings,
        rng=gold.GOLD_DRAW,
        limit=limit,
        narrowed=narrowed,
    )
    return [
        ReviewItemOut.of(entry.assignment, entry.campaign, locale=locale, item_id=entry.item_id)
        for entry in entries
    ]


@router.post("/review/{assignment_id}/decision", tags=["review"])
async def decide(
    assignment_id: UUID, body: DecisionIn, actor: ApiActor, session: DbSession, runtime: RuntimeDep
) -> DecisionOut:
    """Approve or reject a submission with a reason code (and a note; required with
    ``other``). Each submission is decided once."""
    outcome = await service.decide_review_item(
        session,
        actor=actor,
        item_id=assignment_id,
        approve=body.approve,
        reason=body.reason,
        note=body.note,
        settings=runtime.settings,
    )
    return DecisionOut(
        assignment_id=outcome.item_id,
        status=outcome.status,
        review_reason=outcome.review_reason,
        hold_until=outcome.hold_until,
    )


@router.post("/review/bulk-approve", tags=["review"])
async def bulk_approve(
    body: BulkApproveIn, actor: ApiActor, session: DbSession, runtime: RuntimeDep
) -> BulkApproveOut:
    """Approve those of ``ids`` the platform verified and nothing flagged; the answer says
    for each id whether it was approved, and if not, why."""
    locale = current_locale.get()
    results = await service.approve_verified(
        session, actor=actor, assignment_ids=body.ids, settings=runtime.settings
    )
    return BulkApproveOut(
        approved=sum(1 for r in results if r.approved),
        items=[BulkItemOut.of(result, locale) for result in results],
    )


# --- review quality (operators) ----------------------------------------------------------


def _gold_out(view: gold.GoldItemView) -> GoldItemOut:
    return GoldItemOut(
        id=view.item.id,
        source_assignment_id=view.source.id,
        campaign_title=view.campaign.title,
        expected_approve=view.item.expected_approve,
        expected_reason=view.item.expected_reason,
        active=view.item.active,
        answered=view.answered,
        correct=view.correct,
    )


@router.get("/ops/review-quality", tags=["ops"])
async def review_quality(
    actor: ApiActor,
    session: DbSession,
    page: Annotated[int, Query(ge=1, le=100_000, description="Fifty gold items a page")] = 1,
) -> ReviewQualityOut:
    """Each reviewer's accuracy on gold items, and the gold items a page at a time
    (operators); a page past the last is empty."""
    accuracy = await gold.reviewer_accuracy(session, actor=actor)
    total = await gold.count_gold_items(session, actor=actor)
    return ReviewQualityOut(
        reviewers=[
            ReviewerAccuracyOut(
                reviewer_id=row.reviewer_id,
                answered=row.answered,
                correct=row.correct,
                accuracy=row.accuracy,
            )
            for row in accuracy
        ],
        gold_items=[
            _gold_out(view)
            for view in await gold.gold_items(
                session, actor=actor, limit=gold.GOLD_PAGE, offset=(page - 1) * gold.GOLD_PAGE
            )
        ],
        gold_items_total=total,
        page=page,
        pages=numbered_page(total, 1, gold.GOLD_PAGE)[1],
    )


@router.post("/ops/gold-items", tags=["ops"], status_code=http_status.HTTP_201_CREATED)
async def create_gold_item(body: GoldItemIn, actor: ApiActor, session: DbSession) -> GoldItemOut:
    """Use a decided submission as a gold item with this right answer (again: updates it)."""
    item = await gold.make_gold_item(
        session,
        actor=actor,
        assignment_id=body.assignment_id,
        approve=body.approve,
        reason=body.reason,
    )
    (view,) = await gold.gold_items(session, actor=actor, only=item.id)
    return _gold_out(view)


@router.post(
    "/ops/gold-items/{gold_item_id}/retire",
    tags=["ops"],
    status_code=http_status.HTTP_204_NO_CONTENT,
)
async def retire_gold_item(gold_item_id: UUID, actor: ApiActor, session: DbSession) -> None:
    """Stop mixing this gold item into queues; its answers still count."""
    await gold.retire_gold_item(session, actor=actor, gold_item_id=gold_item_id)
