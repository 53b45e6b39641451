"""Pages that belong to no single domain: the home page and the staff landing pages
(the reviewers' workbench, ``/review``, is the work domain's: ``work/pages.py``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from xingdong.creators import agencies
from xingdong.identity import service as identity
from xingdong.web.deps import DbSession, OptionalPageActor, PageActor
from xingdong.web.templating import PACKAGE_DIR, render

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
