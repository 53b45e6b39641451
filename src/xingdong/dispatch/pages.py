"""Pages of the dispatch domain: what a person hid from their feed, and the operators'
console of the live feed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from xingdong.campaigns import service as campaigns
from xingdong.core.clock import utcnow
from xingdong.core.errors import FieldError, ValidationFailed, XingdongError
from xingdong.core.i18n import N_
from xingdong.core.policy import Action, require
from xingdong.creators.tiers import TIER_LABELS
from xingdong.dispatch import nightly, service, tuning
from xingdong.dispatch.console import CONSOLE_PACES, dispatch_console
from xingdong.dispatch.errors import WeightsChangedMeanwhile
from xingdong.dispatch.fairness import MIN_VISITS
from xingdong.dispatch.live import live_dispatch
from xingdong.dispatch.weights import TUNABLE
from xingdong.web.deps import (
    FORM_OUT_OF_DATE,
    CsrfChecked,
    DbSession,
    PageActor,
    PagePerson,
    RuntimeDep,
    attempt,
    pressed,
)
from xingdong.web.templating import redirect, render
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
    session: DbSession,
    person: PagePerson,
    kind: FormStr = "",
    ref: FormStr = "",
    task_type: Annotated[str, Form(alias="type")] = "",
) -> Response:
    await service.hide(session, person=person, kind=kind, ref=_ref(ref))
    message = N_(
        "Hidden. You will not see it in your feed; “What I hid”, above the tasks, shows it again."
    )
    # Back to the feed as it was filtered.
    back = f"/tasks?type={task_type}" if task_type in TASK_TYPE_LABELS else "/tasks"
    return redirect(back, message)


@router.post("/feed/hidden/remove", dependencies=[CsrfChecked])
async def unhide_submit(
    session: DbSession, person: PagePerson, kind: FormStr = "", ref: FormStr = ""
) -> Response:
    await service.unhide(session, person=person, kind=kind, ref=_ref(ref))
    return redirect("/feed/hidden", N_("Shown again."))


async def _console_page(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    query: Mapping[str, str],
    *,
    error: XingdongError | None = None,
    submitted: Mapping[str, str] | None = None,
) -> Response:
    q = query.get("q", "")
    chosen_type = query.get("type", "")
    chosen_type = chosen_type if chosen_type in TASK_TYPE_LABELS else ""
    chosen_pace = query.get("pace", "")
    chosen_pace = chosen_pace if chosen_pace in CONSOLE_PACES else ""
    quality = query.get("quality") == "1"
    console = await dispatch_console(
        session,
        live=live_dispatch(runtime.db, runtime.settings),
        now=utcnow(),
        search=q.strip() or None,
        task_type=chosen_type or None,
        pace_code=chosen_pace or None,
        quality_only=quality,
        page=_whole(query.get("page", ""), digits=6) or 1,
    )
    return render(
        request,
        "dispatch_console.html",
        {
            "console": console,
            "q": q,
            "type": chosen_type,
            "pace": chosen_pace,
            "quality": quality,
            "paces": CONSOLE_PACES,
            "task_type_labels": TASK_TYPE_LABELS,
            "tier_labels": TIER_LABELS,
            "submitted": submitted or {},
            "min_visits": MIN_VISITS,
        },
        error=error,
    )


@router.get("/ops/dispatch", response_class=HTMLResponse)
async def dispatch_console_page(
    request: Request, session: DbSession, actor: PageActor, runtime: RuntimeDep
) -> Response:
    """Operators: the feed's weights in force (and a form to change them), the tiers'
    relief, and every live campaign against its plan (``q``, ``type``, ``quality=1`` (the
    quality-task plan only), ``pace`` and ``page`` choose which)."""
    require(actor, Action.STAFF_CONSOLE)
    return await _console_page(request, session, runtime, request.query_params)


@router.post("/ops/dispatch/weights", dependencies=[CsrfChecked])
async def change_weights_submit(
    request: Request, session: DbSession, actor: PageActor, runtime: RuntimeDep
) -> Response:
    """Put the form's weights in force, or (``reset``) go back to the setting's."""
    require(actor, Action.STAFF_CONSOLE)
    form = await request.form()
    fields = {name: str(form.get(name, "")) for name in TUNABLE}
    note = str(form.get("note", ""))
    reset = form.get("reset") == "1"
    based_on = _whole(str(form.get("based_on", "")), digits=18)
    try:
        if based_on is None:
            # The page always sends it: without it, a stale form would put its values over
            # another operator's change unseen.
            raise ValidationFailed(detail=FORM_OUT_OF_DATE)
        values = {} if reset else _numbers(fields)
        await attempt(
            session,
            lambda: tuning.change_weights(
                session, actor=actor, values=values, note=note, settings=runtime.settings,
                based_on=based_on,
            ),
        )  # fmt: skip
    except WeightsChangedMeanwhile as exc:
        # Theirs in the form, not the stale values this one was filled from.
        return await _console_page(
            request, session, runtime, {}, error=exc, submitted={"note": note}
        )
    except XingdongError as exc:
        return await _console_page(
            request, session, runtime, {}, error=exc, submitted={**fields, "note": note}
        )
    done = N_("Back to the setting's weights.") if reset else N_("The new weights are in force.")
    return redirect("/ops/dispatch", done)


def _whole(text: str, *, digits: int) -> int | None:
    """A whole number written with at most ``digits`` ASCII digits, or None ("²" is a
    digit to Python but not a number)."""
    return int(text) if text.isascii() and text.isdecimal() and len(text) <= digits else None


def _numbers(fields: Mapping[str, str]) -> dict[str, float]:
    """The form's weights as numbers; a field that is not one, or a number its weight
    cannot take, is refused by name (all of them at once, not one kind per submit)."""
    values: dict[str, float] = {}
    wrong: list[FieldError] = []
    for name, raw in fields.items():
        try:
            values[name] = float(raw.strip())
        except ValueError:
            wrong.append(FieldError(name, N_("Enter a number.")))
    wrong.extend(tuning.weight_problems(values))
    if wrong:
        raise ValidationFailed(detail=N_("Some weights are not valid."), fields=wrong)
    return values


@router.post("/ops/dispatch/quality-plan/{campaign_id}", dependencies=[CsrfChecked])
async def quality_plan_submit(
    request: Request, campaign_id: UUID, session: DbSession, actor: PageActor, runtime: RuntimeDep
) -> Response:
    """Put a live campaign in the quality-task plan, or take it out."""
    form = await request.form()
    try:
        included = pressed(str(form.get("included", "")), ("0", "1"), field="included") == "1"
        await attempt(
            session,
            lambda: campaigns.set_quality_plan(
                session, actor=actor, campaign_id=campaign_id, included=included, note=""
            ),
        )
    except XingdongError as exc:
        return await _console_page(request, session, runtime, {}, error=exc)
    done = (
        N_("The campaign is in the quality-task plan.")
        if included
        else N_("The campaign is out of the quality-task plan.")
    )
    return redirect("/ops/dispatch", done)


@router.post("/ops/dispatch/seed-prices", dependencies=[CsrfChecked])
async def seed_prices_submit(
    request: Request, session: DbSession, actor: PageActor, runtime: RuntimeDep
) -> Response:
    """Ask the job worker to seed the pacing prices now."""
    require(actor, Action.STAFF_CONSOLE)
    try:
        await attempt(session, lambda: nightly.seed_prices_soon(session, actor=actor))
    except XingdongError as exc:
        return await _console_page(request, session, runtime, {}, error=exc)
    done = N_("The seeding is on its way: the prices appear here once the job worker has run it.")
    return redirect("/ops/dispatch", done)
