"""Web pages of the work domain: the worker's task center and assignments (designed for
phones), and the reviewers' workbench."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from xingdong.campaigns.policy import TaskType
from xingdong.core.client_signals import signals_of
from xingdong.core.clock import utcnow
from xingdong.core.context import current_locale
from xingdong.core.errors import ValidationFailed, XingdongError
from xingdong.core.i18n import N_, translate
from xingdong.core.ids import new_id
from xingdong.core.pagination import numbered_page
from xingdong.core.policy import Action, Actor, require
from xingdong.core.settings import Settings
from xingdong.creators import agencies
from xingdong.dispatch import service as dispatch
from xingdong.evidence import pages as evidence_pages
from xingdong.evidence import service as evidence
from xingdong.identity import service as identity
from xingdong.identity.models import Person
from xingdong.web.deps import (
    CsrfChecked,
    CursorQuery,
    DbSession,
    PageActor,
    PagePerson,
    RuntimeDep,
    attempt,
    form_key,
    pressed,
)
from xingdong.web.templating import redirect, render
from xingdong.work import gold, labels, service
from xingdong.work.api import read_upload
from xingdong.work.errors import AssignmentNotFound
from xingdong.work.models import ASSIGNMENT_STATUSES
from xingdong.work.review_filter import HIGH_RISK_SCORE, ReviewFilter

router = APIRouter(include_in_schema=False)

FormStr = Annotated[str, Form()]

if service.brand_may_view_evidence not in evidence_pages.EXTRA_VIEWERS:
    evidence_pages.EXTRA_VIEWERS.append(service.brand_may_view_evidence)

MINUTE, HOUR, DAY = 60, 3600, 86400


def duration(seconds: int) -> str:
    """A time left, as a person reads it: 2 d 5 h, 3 h 20 min, 12 min."""
    locale = current_locale.get()
    seconds = max(seconds, 0)
    days, rest = divmod(seconds, DAY)
    hours, rest = divmod(rest, HOUR)
    minutes = rest // MINUTE
    if days:
        return translate(locale, N_("{days} d {hours} h"), days=days, hours=hours)
    if hours:
        return translate(locale, N_("{hours} h {minutes} min"), hours=hours, minutes=minutes)
    return translate(locale, N_("{minutes} min"), minutes=max(minutes, 1) if seconds else 0)


def task_reason_text(reason: str, params: dict[str, str]) -> str:
    """Why a task cannot be claimed (a code of ``labels.TASK_REASONS``), in the page's
    language."""
    return translate(current_locale.get(), labels.TASK_REASONS[reason], **params)


def _helpers(now: datetime) -> dict[str, Any]:
    return {
        "now": now,
        "duration": duration,
        "seconds_until": lambda moment: int((moment - now).total_seconds()),
        "labels": labels,
    }


# --- the task center ---------------------------------------------------------------------


@router.get("/tasks", response_class=HTMLResponse)
async def tasks_page(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    person: PagePerson,
    task_type: Annotated[str, Query(alias="type", max_length=20)] = "",
    more: Annotated[str, Query(max_length=3)] = "",
) -> Response:
    """The worker's task center: what they may claim now, or why there is nothing.
    ``more``: how many times the list was lengthened by **More tasks** (a page of the
    feed size each, up to 100 tasks)."""
    now = utcnow()
    chosen = task_type if task_type in set(TaskType) else ""
    page = runtime.settings.dispatch_feed_size
    # A hand-edited link shows the first page rather than an error.
    pages = int(more) + 1 if more.isascii() and more.isdecimal() else 1
    size = min(page * pages, service.MAX_CARDS)
    feed = await dispatch.personal_feed(
        session, db=runtime.db, settings=runtime.settings, person=person,
        task_type=chosen or None, limit=size, now=now,
    )  # fmt: skip
    return render(
        request,
        "work_tasks.html",
        {
            "feed": feed,
            "feed_reasons": dispatch.FEED_REASONS,
            "reason_text": lambda task: dispatch.reason_text(task, current_locale.get()),
            "task_types": list(labels.TASK_TYPE_LABELS),
            "chosen": chosen,
            "more_link": (
                f"?more={pages}" + (f"&type={chosen}" if chosen else "")
                if len(feed.tasks) >= size and size < service.MAX_CARDS
                else None
            ),
            # The feed stops at its most; a type narrows it to others.
            "at_most": len(feed.tasks) >= service.MAX_CARDS,
            "agency_cut": await agencies.agency_cut(session, person_id=person.id, at=now),
            **_helpers(now),
        },
    )


async def _task_context(
    session: DbSession, runtime: RuntimeDep, person: Person, campaign_id: UUID
) -> dict[str, Any]:
    now = utcnow()
    view = await service.task_view(
        session, person=person, campaign_id=campaign_id, settings=runtime.settings, now=now
    )
    return {
        "view": view,
        "task_reason": lambda view: task_reason_text(view.reason, view.reason_params),
        "hold_hours": service.hold_hours(runtime.settings, view.campaign.task_type),
        "claim_minutes": service.claim_window(runtime.settings, view.campaign, now)
        // timedelta(minutes=1),
        "settings": runtime.settings,
        "form_id": new_id(),
        "agency_cut": await agencies.agency_cut(session, person_id=person.id, at=now),
        **_helpers(now),
    }


# Declared before /tasks/{campaign_id}, which would take "state" for an id.
@router.get("/tasks/state")
async def task_center_state(
    session: DbSession,
    runtime: RuntimeDep,
    person: PagePerson,
    ids: Annotated[str, Query(max_length=service.MAX_CARDS * 37)] = "",
) -> JSONResponse:
    """The task center refreshes its cards from here: units left, and for a task that can
    no longer be claimed why, in the person's language. Asking does not count as the
    feed being shown again."""
    try:
        wanted = [UUID(raw) for raw in ids.split(",") if raw.strip()]
    except ValueError:
        raise ValidationFailed(detail=N_("Ask for tasks by their ids.")) from None
    states = await service.card_states(
        session, person=person, campaign_ids=wanted, settings=runtime.settings
    )
    locale = current_locale.get()
    return JSONResponse(
        {
            "tasks": {
                str(campaign_id): {
                    "units_left": state.units_left,
                    "quantity": state.quantity,
                    "left_text": translate(locale, N_("%(count)s of %(quantity)s left"))
                    % {"count": state.units_left, "quantity": state.quantity},
                    "reason": state.reason,
                    "reason_text": task_reason_text(state.reason, state.reason_params)
                    if state.reason
                    else None,
                }
                for campaign_id, state in states.items()
            }
        }
    )


@router.get("/tasks/{campaign_id}", response_class=HTMLResponse)
async def task_page(
    request: Request,
    campaign_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    person: PagePerson,
) -> Response:
    context = await _task_context(session, runtime, person, campaign_id)
    return render(request, "work_task.html", context)


@router.post("/tasks/{campaign_id}/claim", dependencies=[CsrfChecked])
async def claim_submit(
    request: Request,
    campaign_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    person: PagePerson,
    form_id: FormStr = "",
) -> Response:
    """The form carries a one-off id, so a button pressed twice claims one unit; a form
    without it is refused, or a double press could claim twice where a campaign allows
    more than one claim per person."""
    signals = signals_of(request, await request.form())
    try:
        key = form_key(form_id)
        assignment = await attempt(
            session,
            lambda: service.claim_once(
                session,
                person=person,
                campaign_id=campaign_id,
                idempotency_key=key,
                settings=runtime.settings,
                signals=signals,
            ),
        )
    except XingdongError as exc:
        context = await _task_context(session, runtime, person, campaign_id)
        context["claim_error"] = exc
        return render(request, "work_task.html", context, error=exc)
    return redirect(
        f"/me/tasks/{assignment.id}", N_("Claimed. Do the task before the time runs out.")
    )


# --- my tasks ----------------------------------------------------------------------------


@router.get("/me/tasks", response_class=HTMLResponse)
async def my_tasks_page(
    request: Request,
    session: DbSession,
    person: PagePerson,
    status: Annotated[str, Query(max_length=20)] = "",
    cursor: CursorQuery = None,
) -> Response:
    chosen = status if status in ASSIGNMENT_STATUSES else ""
    page = await service.my_assignments(
        session, person=person, cursor=cursor, status=chosen or None
    )
    next_link = None
    if page.next_cursor:
        query = {"cursor": page.next_cursor, **({"status": chosen} if chosen else {})}
        next_link = "/me/tasks?" + urlencode(query)
    return render(
        request,
        "work_my_tasks.html",
        {
            "page": page,
            "chosen": chosen,
            "statuses": list(labels.STATUS_LABELS),
            "review_reasons": {**service.APPROVE_REASONS, **service.REJECT_REASONS},
            "next_link": next_link,
            "is_first_page": cursor is None,
            **_helpers(utcnow()),
        },
    )


async def _assignment_context(
    session: DbSession, runtime: RuntimeDep, person: Person, assignment_id: UUID
) -> dict[str, Any]:
    view = await service.my_assignment(
        session, person=person, assignment_id=assignment_id, settings=runtime.settings
    )
    proof = view.assignment.evidence_file_id
    return {
        "view": view,
        # The share is the one of the contract in force when the task was taken.
        "agency_cut": await agencies.agency_cut(
            session, person_id=person.id, at=view.assignment.claimed_at
        ),
        "evidence_kind": None if proof is None else (await evidence.get_file(session, proof)).kind,
        "task_link": service.task_link(view.campaign, view.assignment),
        "impressions": await service.ad_impressions(view.campaign, view.assignment),
        "settings": runtime.settings,
        "review_reasons": {**service.APPROVE_REASONS, **service.REJECT_REASONS},
        "form": {},
        **_helpers(utcnow()),
    }


@router.get("/me/tasks/{assignment_id}", response_class=HTMLResponse)
async def assignment_page(
    request: Request,
    assignment_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    person: PagePerson,
    check: bool = False,
) -> Response:
    """One of the person's tasks; ``?check=1`` also asks the platform what it sees now
    (step 1's "check first", before the final hand-in; in the hold, whether the action
    is still there)."""
    context = await _assignment_context(session, runtime, person, assignment_id)
    view = context["view"]
    if check and view.assignment.status in ("claimed", "approved"):
        with contextlib.suppress(XingdongError):  # expired meanwhile: the page says so
            found = await service.check_now(session, person=person, assignment_id=assignment_id)
            if view.assignment.status == "claimed":
                context["precheck"] = found
            else:
                context["hold_check"], context["hold_check_now"] = found, True
    context.setdefault("hold_check", service.stored_hold_check(view.assignment))
    return render(request, "work_assignment.html", context)


@router.post("/me/tasks/{assignment_id}/submission", dependencies=[CsrfChecked])
async def submission_submit(
    request: Request,
    assignment_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    person: PagePerson,
    file: Annotated[UploadFile | None, File()] = None,
    photo: Annotated[UploadFile | None, File()] = None,
    link: FormStr = "",
    note: FormStr = "",
) -> Response:
    """The form has a gallery picker (``file``) and a camera button (``photo``)."""
    upload = await read_upload(file) or await read_upload(photo)
    signals = signals_of(request, await request.form())
    try:
        assignment = await attempt(
            session,
            lambda: service.submit_evidence(
                session,
                person=person,
                assignment_id=assignment_id,
                upload=upload,
                link=link,
                note=note,
                settings=runtime.settings,
                storage=runtime.evidence,
                signals=signals,
            ),
        )
    except XingdongError as exc:
        context = await _assignment_context(session, runtime, person, assignment_id)
        context["form"] = {"link": link, "note": note}
        return render(request, "work_assignment.html", context, error=exc)
    done = (
        N_("Submitted and approved: the platform confirmed your action.")
        if assignment.status == "approved"
        else N_("Submitted. A reviewer will look at it soon.")
    )
    return redirect(f"/me/tasks/{assignment_id}", done)


@router.post("/me/tasks/{assignment_id}/give-up", dependencies=[CsrfChecked])
async def give_up_submit(
    request: Request,
    assignment_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    person: PagePerson,
) -> Response:
    try:
        await attempt(
            session,
            lambda: service.give_up(session, person=person, assignment_id=assignment_id),
        )
    except XingdongError as exc:
        context = await _assignment_context(session, runtime, person, assignment_id)
        return render(request, "work_assignment.html", context, error=exc)
    # The task's page says it was given up, with the ways on: no message on top of it.
    return redirect(f"/me/tasks/{assignment_id}")


@router.post("/me/tasks/{assignment_id}/appeal", dependencies=[CsrfChecked])
async def appeal_submit(
    request: Request,
    assignment_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    person: PagePerson,
    reason: FormStr = "",
) -> Response:
    try:
        await attempt(
            session,
            lambda: service.appeal(
                session,
                person=person,
                assignment_id=assignment_id,
                reason=reason,
                settings=runtime.settings,
            ),
        )
    except XingdongError as exc:
        context = await _assignment_context(session, runtime, person, assignment_id)
        context["form"] = {"reason": reason}
        return render(request, "work_assignment.html", context, error=exc)
    return redirect(f"/me/tasks/{assignment_id}", N_("Appeal sent. An operator will decide on it."))


# --- the reviewers' workbench ------------------------------------------------------------


def _bulk_candidates(queue: list[service.QueueEntry], actor: Actor) -> list[UUID]:
    """The items bulk approval takes: gold items too (it answers them), whose absence
    would single them out."""
    return [
        entry.item_id
        for entry in queue
        if entry.assignment.verification.get("status") == "verified"
        and not entry.assignment.risk_reasons
        and entry.assignment.person_id != actor.person_id
    ]


REVIEW_SHOWN = 50
"""Submissions in the workbench's queue at once; each one decided lets the next in."""


def _review_address(narrowed: ReviewFilter, item: UUID | None = None, **more: object) -> str:
    """The workbench's address with its filter kept (and an item to open, and more)."""
    query = {**({"item": str(item)} if item else {}), **narrowed.params()}
    query.update({key: str(value) for key, value in more.items()})
    return "/review" + ("?" + urlencode(query) if query else "")


def _filter_of(form: Mapping[str, object]) -> ReviewFilter:
    """The queue's filter a workbench form carried along (as hidden fields)."""
    return ReviewFilter.from_query({k: v for k, v in form.items() if isinstance(v, str)})


async def _workbench_context(
    request: Request,
    session: DbSession,
    actor: Actor,
    item: UUID | None,
    settings: Settings,
    narrowed: ReviewFilter,
) -> dict[str, Any]:
    queue = await service.review_queue_with_gold(
        session,
        actor=actor,
        settings=settings,
        rng=gold.GOLD_DRAW,
        limit=REVIEW_SHOWN,
        gold_first=item is None,
        narrowed=narrowed,
    )
    ids = [entry.item_id for entry in queue]
    if item is not None and item not in ids:
        asked = await service.queue_entry(session, actor=actor, item_id=item, narrowed=narrowed)
        if asked is not None:
            place = service.queue_place(queue, asked.assignment)
            queue.insert(place, asked)
            ids.insert(place, asked.item_id)
    index = ids.index(item) if item in ids else 0
    current = queue[index] if queue else None
    file = reading = None
    if current is not None and current.assignment.evidence_file_id is not None:
        file = await evidence.get_file(session, current.assignment.evidence_file_id)
        reading = await evidence.reading_of(session, file.id)
    query = request.query_params
    # The queue shows the first REVIEW_SHOWN; the count is of everything waiting, gold items
    # shown included, so that it does not tell them from real submissions either.
    gold_shown = sum(1 for entry in queue if entry.item_id != entry.assignment.id)
    waiting = await service.review_waiting(session, actor=actor, narrowed=narrowed) + gold_shown
    return {
        "queue": queue,
        "waiting": waiting,
        "waiting_all": (
            await service.review_waiting(session, actor=actor) + gold_shown
            if narrowed.narrows
            else waiting
        ),
        "narrowed": narrowed,
        "address": lambda item=None: _review_address(narrowed, item),
        "high_risk": HIGH_RISK_SCORE,
        "index": index,
        "current": current,
        "file": file,
        "reading": reading,
        "previous_id": ids[index - 1] if queue and index > 0 else None,
        "next_id": ids[index + 1] if index + 1 < len(ids) else None,
        "reject_reasons": list(service.REJECT_REASONS.items()),
        "approve_reasons": service.APPROVE_REASONS,
        "bulk_ids": _bulk_candidates(queue, actor),
        "bulk_approved": query.get("approved", ""),
        "bulk_left": query.get("left", ""),
        "form": {},
        **_helpers(utcnow()),
    }


@router.get("/review", response_class=HTMLResponse)
async def workbench(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    item: Annotated[UUID | None, Query()] = None,
) -> Response:
    """The reviewers' workbench: the queue by risk and age, one submission at a time,
    narrowed by ``type``, ``check``, ``risk`` and ``q`` (see ``ReviewFilter``)."""
    require(actor, Action.REVIEW_QUEUE)
    narrowed = ReviewFilter.from_query(request.query_params)
    context = await _workbench_context(request, session, actor, item, runtime.settings, narrowed)
    return render(request, "review.html", context)


@router.post("/review/{assignment_id}/decision", dependencies=[CsrfChecked])
async def decision_submit(
    request: Request,
    assignment_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    decision: FormStr = "",
    reason: FormStr = "",
    approve_reason: FormStr = "",
    note: FormStr = "",
) -> Response:
    require(actor, Action.REVIEW_QUEUE)
    narrowed = _filter_of(await request.form())
    try:
        approve = pressed(decision, ("approve", "reject")) == "approve"
        await attempt(
            session,
            lambda: service.decide_review_item(
                session,
                actor=actor,
                item_id=assignment_id,
                approve=approve,
                reason=approve_reason if approve else reason,
                note=note,
                settings=runtime.settings,
            ),
        )
    except XingdongError as exc:
        context = await _workbench_context(
            request, session, actor, assignment_id, runtime.settings, narrowed
        )
        context["form"] = {"reason": reason, "note": note}
        return render(request, "review.html", context, error=exc)
    done = N_("Approved.") if approve else N_("Rejected.")
    return redirect(_review_address(narrowed), done)


@router.post("/review/bulk-approve", dependencies=[CsrfChecked])
async def bulk_approve_submit(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
) -> Response:
    require(actor, Action.REVIEW_QUEUE)
    form = await request.form()
    ids: list[UUID] = []
    for raw in form.getlist("ids"):
        try:
            ids.append(UUID(str(raw)))
        except ValueError:
            continue
    if not ids:
        return redirect(
            _review_address(_filter_of(form)),
            N_("Nothing was selected: tick the submissions to approve first."),
            tone="info",
        )
    results = await service.approve_verified(
        session, actor=actor, assignment_ids=ids, settings=runtime.settings
    )
    approved = sum(1 for r in results if r.approved)
    # Left for a reviewer: those still in the queue. An id decided meanwhile, not found or
    # one's own is not waiting for anyone, and counting it would say so.
    left = sum(1 for r in results if r.code in service.STILL_IN_QUEUE)
    return RedirectResponse(
        _review_address(_filter_of(form), approved=approved, left=left), status_code=303
    )


# --- review quality (operators) ----------------------------------------------------------


async def _review_quality_context(
    session: DbSession,
    actor: Actor,
    *,
    gold_page: int = 1,
    q: str = "",
    cursor: str | None = None,
) -> dict[str, Any]:
    accuracy = await gold.reviewer_accuracy(session, actor=actor)
    total = await gold.count_gold_items(session, actor=actor)
    shown, pages = numbered_page(total, gold_page, gold.GOLD_PAGE)
    names = {
        row.reviewer_id: (
            await identity.get_person(session, actor=actor, person_id=row.reviewer_id)
        ).display_name
        for row in accuracy
    }
    return {
        "accuracy": accuracy,
        "names": names,
        "items": await gold.gold_items(
            session, actor=actor, limit=gold.GOLD_PAGE, offset=(shown - 1) * gold.GOLD_PAGE
        ),
        "gold_page": shown,
        "gold_pages": pages,
        "candidates": await gold.gold_candidates(
            session, actor=actor, search=q.strip() or None, cursor=cursor
        ),
        "q": q,
        "reject_reasons": list(service.REJECT_REASONS.items()),
        "review_reasons": {**service.APPROVE_REASONS, **service.REJECT_REASONS},
        **_helpers(utcnow()),
    }


@router.get("/ops/review-quality", response_class=HTMLResponse)
async def review_quality(
    request: Request,
    session: DbSession,
    actor: PageActor,
    gold_page: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    q: Annotated[str, Query(max_length=80)] = "",
    cursor: CursorQuery = None,
) -> Response:
    """Operators: each reviewer's accuracy on gold items, the gold items themselves
    (``page``: fifty at a time), and decided submissions to choose new ones from (``q``
    searches campaign titles and handles; ``cursor`` pages through them)."""
    require(actor, Action.STAFF_CONSOLE)
    context = await _review_quality_context(session, actor, gold_page=gold_page, q=q, cursor=cursor)
    return render(request, "ops_review_quality.html", context)


@router.post("/ops/review-quality/gold", dependencies=[CsrfChecked])
async def gold_item_submit(
    request: Request,
    session: DbSession,
    actor: PageActor,
    assignment_id: FormStr = "",
    answer: FormStr = "",
) -> Response:
    """Make a decided submission a gold item; ``answer`` is ``approve`` or a reject reason."""
    require(actor, Action.STAFF_CONSOLE)
    approve = answer == "approve"
    try:
        source = UUID(assignment_id)
        await attempt(
            session,
            lambda: gold.make_gold_item(
                session, actor=actor, assignment_id=source, approve=approve,
                reason="meets_requirements" if approve else answer,
            ),
        )  # fmt: skip
    except ValueError:
        error: XingdongError = AssignmentNotFound(detail=N_("No such task."))
    except XingdongError as exc:
        error = exc
    else:
        return redirect("/ops/review-quality", N_("Gold item saved."))
    context = await _review_quality_context(session, actor)
    return render(request, "ops_review_quality.html", context, error=error)


@router.post("/ops/review-quality/gold/{gold_item_id}/retire", dependencies=[CsrfChecked])
async def gold_item_retire(
    request: Request, gold_item_id: UUID, session: DbSession, actor: PageActor
) -> Response:
    require(actor, Action.STAFF_CONSOLE)
    try:
        await attempt(
            session, lambda: gold.retire_gold_item(session, actor=actor, gold_item_id=gold_item_id)
        )
    except XingdongError as exc:
        context = await _review_quality_context(session, actor)
        return render(request, "ops_review_quality.html", context, error=exc)
    return redirect("/ops/review-quality", N_("Gold item retired."))
