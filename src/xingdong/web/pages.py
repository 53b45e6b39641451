"""Pages that belong to no single domain: the home page and the staff landing pages
(the reviewers' workbench, ``/review``, is the work domain's: ``work/pages.py``)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from xingdong.core import job_board
from xingdong.core.errors import ValidationFailed, XingdongError
from xingdong.core.i18n import N_
from xingdong.core.numbers import whole_number
from xingdong.core.policy import Action, StaffRole, can
from xingdong.core.settings import Settings
from xingdong.creators import agencies
from xingdong.identity import erasure
from xingdong.identity import service as identity
from xingdong.risk.pages import KIND_LABELS as CASE_KIND_LABELS
from xingdong.risk.pages import STATUS_LABELS as CASE_STATUS_LABELS
from xingdong.web.audit_search import AuditPage, audit_details, search_audit
from xingdong.web.deps import (
    CsrfChecked,
    CursorQuery,
    DbSession,
    OptionalPageActor,
    PageActor,
    RuntimeDep,
    attempt,
)
from xingdong.web.jobs_api import JobId
from xingdong.web.person_file import person_file
from xingdong.web.templating import PACKAGE_DIR, redirect, render
from xingdong.work.labels import STATUS_LABELS as WORK_STATUS_LABELS

router = APIRouter(include_in_schema=False)


HOME_ORGANISATIONS = 5
"""Organisations the home page offers a way into; the rest are a click further."""


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, session: DbSession, actor: OptionalPageActor) -> Response:
    """Signed in: the way into the task center, into each organisation's campaigns, and to
    the offers of agencies waiting for an answer."""
    orgs, invitations, agency = None, [], None
    if actor is not None:
        orgs = await identity.my_organisations(session, actor=actor, limit=HOME_ORGANISATIONS)
        invitations = await identity.my_invitations(session, person=request.state.person)
        agency = await agencies.my_agency(session, person=request.state.person)
    return render(
        request, "home.html", {"orgs": orgs, "invitations": invitations, "agency": agency}
    )


@router.get("/favicon.ico")
async def favicon() -> Response:
    """Where browsers look for the site's icon before (or without) reading a page."""
    return FileResponse(
        PACKAGE_DIR / "web" / "static" / "icon.svg",
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/ops/people", response_class=HTMLResponse)
async def ops_people(
    request: Request, session: DbSession, actor: PageActor, q: str = "", cursor: str | None = None
) -> Response:
    """Operators look people up by name or phone."""
    page = await identity.search_people(session, actor=actor, search=q or None, cursor=cursor)
    return render(request, "ops_people.html", {"page": page, "q": q})


STAFF_ROLE_LABELS = {"reviewer": N_("Reviewer"), "operator": N_("Operator"), "admin": N_("Admin")}


async def _person_page(
    request: Request,
    session: DbSession,
    actor: PageActor,
    person_id: UUID,
    settings: Settings,
    error: XingdongError | None = None,
    why: str = "",
    tried: str = "",
    work_status: str = "",
    work_cursor: str | None = None,
) -> Response:
    """``tried``: the form whose error and text the page shows again (``freeze`` also
    stands for unfreeze, ``erase``); ``work_status`` and ``work_cursor`` choose the tasks
    listed."""
    status = work_status if work_status in WORK_STATUS_LABELS else ""
    found = await person_file(
        session, actor=actor, person_id=person_id, work_status=status or None,
        work_cursor=work_cursor,
    )  # fmt: skip
    person = found.person
    may_erase = can(actor, Action.ERASE_ON_REQUEST)
    check = None
    if may_erase and person.erased_at is None and person.is_active and person_id != actor.person_id:
        check = await erasure.erasure_check(session, person=person, settings=settings)
    return render(
        request,
        "ops_person.html",
        {
            "file": found,
            "person": found.person,
            "why": why,
            "work_labels": WORK_STATUS_LABELS,
            "case_labels": CASE_STATUS_LABELS,
            "case_kinds": CASE_KIND_LABELS,
            "is_me": person_id == actor.person_id,
            "role_labels": STAFF_ROLE_LABELS,
            "may_erase": may_erase,
            "is_admin": actor.has_staff(StaffRole.ADMIN),
            "check": check,
            "tried": tried or "freeze",
            "work_status": status,
            "work_cursor": work_cursor,
        },
        error=error,
    )


@router.get("/ops/people/{person_id}", response_class=HTMLResponse)
async def ops_person(
    request: Request,
    person_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    status: Annotated[str, Query(max_length=20)] = "",
    tasks: CursorQuery = None,
) -> Response:
    """One person as operators see them, with the account's freeze and unfreeze (``status``
    keeps their tasks of one status, ``tasks`` pages through them)."""
    return await _person_page(
        request, session, actor, person_id, runtime.settings, work_status=status,
        work_cursor=tasks,
    )  # fmt: skip


ACCOUNT_CHANGES = {
    "freeze": (
        identity.freeze_account,
        N_("The account is frozen."),
        N_("The account was already frozen."),
    ),
    "unfreeze": (
        identity.unfreeze_account,
        N_("The account can sign in again."),
        N_("The account was not frozen."),
    ),
}
"""What each button on the person's page does, and what the page says after it (changed,
or already so)."""


@router.post("/ops/people/{person_id}/erase", dependencies=[CsrfChecked])
async def ops_erase_account(
    request: Request,
    person_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    why: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
    remainder_fen: Annotated[str, Form()] = "0",
) -> Response:
    """Erase the account on the person's request (admins), with the request's reference."""
    try:
        await attempt(
            session,
            lambda: erasure.erase_for_person(
                session,
                actor=actor,
                person_id=person_id,
                why=why,
                confirmed=confirm == "yes",
                # What the page showed; a changed or garbled amount is asked about again.
                remainder_fen=whole_number(remainder_fen, digits=12) or 0,
                settings=runtime.settings,
            ),
        )
    except XingdongError as exc:
        return await _person_page(
            request, session, actor, person_id, runtime.settings, exc, why, "erase"
        )
    return redirect(f"/ops/people/{person_id}", N_("The account is erased."))


@router.post("/ops/people/{person_id}/{change}", dependencies=[CsrfChecked])
async def ops_change_account(
    request: Request,
    person_id: UUID,
    change: Literal["freeze", "unfreeze"],
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    why: Annotated[str, Form()] = "",
) -> Response:
    """Freeze or unfreeze the person's account, with the reason typed."""
    act, done, already = ACCOUNT_CHANGES[change]
    try:
        changed = await attempt(
            session, lambda: act(session, actor=actor, person_id=person_id, why=why)
        )
    except XingdongError as exc:
        return await _person_page(request, session, actor, person_id, runtime.settings, exc, why)
    return redirect(f"/ops/people/{person_id}", done if changed else already)


@router.get("/ops/audit", response_class=HTMLResponse)
async def ops_audit(
    request: Request,
    session: DbSession,
    actor: PageActor,
    action: Annotated[str, Query(max_length=64)] = "",
    about: Annotated[str, Query(max_length=64, alias="object")] = "",
    who: Annotated[str, Query(max_length=64)] = "",
    cursor: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """Operators search the audit log: what was done, to what, by whom."""
    filters = {"action": action, "object": about, "who": who}
    try:
        page = await search_audit(
            session, actor=actor, action=action, object_id=about, who=who, cursor=cursor
        )
    except ValidationFailed as exc:
        # No rows: entries shown under a filter that was not applied read as its result.
        empty = AuditPage(items=[], next_cursor=None)
        shown = {"page": empty, "filters": filters, "refused": True, "audit_details": audit_details}
        return render(request, "ops_audit.html", shown, error=exc)
    return render(
        request,
        "ops_audit.html",
        {"page": page, "filters": filters, "audit_details": audit_details},
    )


async def _jobs_page(
    request: Request,
    session: DbSession,
    actor: PageActor,
    filters: dict[str, str],
    cursor: str | None = None,
    error: XingdongError | None = None,
) -> Response:
    shown: dict[str, object] = {
        "filters": filters,
        "statuses": job_board.STATUS_LABELS,
        "events": job_board.EVENT_LABELS,
    }
    try:
        shown["board"] = await job_board.job_board(
            session, actor=actor, status=filters["status"], task=filters["task"], cursor=cursor
        )
    except ValidationFailed as exc:
        # No rows: jobs shown under a filter that was not applied read as its result.
        shown |= {"board": job_board.JobBoard(items=[], next_cursor=None), "refused": True}
        error = error or exc
    return render(request, "ops_jobs.html", shown, error=error)


@router.get("/ops/jobs", response_class=HTMLResponse)
async def ops_jobs(
    request: Request,
    session: DbSession,
    actor: PageActor,
    status: Annotated[str, Query(max_length=16)] = "failed",
    task: Annotated[str, Query(max_length=128)] = "",
    cursor: CursorQuery = None,
) -> Response:
    """Operators see the background jobs: failed ones first, by status and task."""
    filters = {"status": status, "task": task}
    return await _jobs_page(request, session, actor, filters, cursor)


@router.post("/ops/jobs/{job_id}/run-again", dependencies=[CsrfChecked])
async def ops_job_run_again(
    request: Request,
    job_id: JobId,
    session: DbSession,
    actor: PageActor,
    status: Annotated[str, Form(max_length=16)] = "failed",
    task: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Run a failed job again; back to the list as it was filtered."""
    filters = {"status": status, "task": task}
    try:
        await attempt(session, lambda: job_board.run_again(session, actor=actor, job_id=job_id))
    except XingdongError as exc:
        return await _jobs_page(request, session, actor, filters, error=exc)
    done = N_("The job is back in its queue and runs within seconds.")
    return redirect("/ops/jobs?" + urlencode(filters), done)
