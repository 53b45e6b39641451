"""Pages of the dispatch domain: what a person hid from their feed, and the operators'
console of the live feed."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from xingdong.campaigns.presentation import CHINA_TIME
from xingdong.core.clock import utcnow
from xingdong.core.errors import ValidationFailed
from xingdong.core.i18n import N_
from xingdong.core.policy import Action, require
from xingdong.creators.tiers import TIER_LABELS
from xingdong.dispatch import service
from xingdong.dispatch.console import CONSOLE_PACES, dispatch_console
from xingdong.dispatch.live import live_dispatch
from xingdong.web.deps import CsrfChecked, DbSession, PageActor, PagePerson, RuntimeDep
from xingdong.web.templating import render
from xingdong.work.labels import TASK_TYPE_LABELS

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


@router.get("/ops/dispatch", response_class=HTMLResponse)
async def dispatch_console_page(
    request: Request,
    session: DbSession,
    actor: PageActor,
    runtime: RuntimeDep,
    q: str = "",
    type: str = "",  # noqa: A002 - the query parameter's name, as on the task center
    pace: str = "",
    page: str = "1",
) -> Response:
    """Operators: the feed's weights in force, the tiers' relief, and every live campaign
    against its plan."""
    require(actor, Action.STAFF_CONSOLE)
    chosen_type = type if type in TASK_TYPE_LABELS else ""
    chosen_pace = pace if pace in CONSOLE_PACES else ""
    console = await dispatch_console(
        session,
        live=live_dispatch(runtime.db, runtime.settings),
        now=utcnow(),
        search=q.strip() or None,
        task_type=chosen_type or None,
        pace_code=chosen_pace or None,
        page=int(page) if page.isdigit() else 1,
    )
    return render(
        request,
        "dispatch_console.html",
        {
            "console": console,
            "q": q,
            "type": chosen_type,
            "pace": chosen_pace,
            "paces": CONSOLE_PACES,
            "task_type_labels": TASK_TYPE_LABELS,
            "tier_labels": TIER_LABELS,
            "tz": CHINA_TIME,
        },
    )
