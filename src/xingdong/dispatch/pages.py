"""Pages of the dispatch domain: what a person hid from their feed."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from xingdong.core.errors import ValidationFailed
from xingdong.core.i18n import N_
from xingdong.dispatch import service
from xingdong.web.deps import CsrfChecked, DbSession, PagePerson
from xingdong.web.templating import render

router = APIRouter(include_in_schema=False)

FormStr = Annotated[str, Form()]


def _ref(raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise ValidationFailed(detail=N_("Hide a campaign or a brand.")) from None


@router.get("/feed/hidden", response_class=HTMLResponse)
async def hidden_page(request: Request, session: DbSession, person: PagePerson) -> Response:
    """The tasks and brands the person hid, each with a way to show it again."""
    hidden = await service.hidden_list(session, person=person)
    return render(request, "dispatch_hidden.html", {"hidden": hidden})


@router.post("/feed/hidden", dependencies=[CsrfChecked])
async def hide_submit(
    session: DbSession, person: PagePerson, kind: FormStr = "", ref: FormStr = ""
) -> Response:
    await service.hide(session, person=person, kind=kind, ref=_ref(ref))
    message = N_("Hidden. You will not see it in your feed.")
    return RedirectResponse("/tasks?done=" + message, status_code=303)


@router.post("/feed/hidden/remove", dependencies=[CsrfChecked])
async def unhide_submit(
    session: DbSession, person: PagePerson, kind: FormStr = "", ref: FormStr = ""
) -> Response:
    await service.unhide(session, person=person, kind=kind, ref=_ref(ref))
    return RedirectResponse("/feed/hidden?done=" + N_("Shown again."), status_code=303)
