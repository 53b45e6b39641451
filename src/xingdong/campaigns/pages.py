"""Web pages of campaigns: the brand's list, step-by-step form, campaign page (progress,
submit, pause, resume, close, contests), and the operators' approval and dispute queues."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import FormData

from xingdong.campaigns import service
from xingdong.campaigns.errors import CampaignInvalid, ComplianceBlocked
from xingdong.campaigns.models import CAMPAIGN_STATUSES, REVIEW_POLICIES, Campaign
from xingdong.campaigns.policy import get_profile, price_split
from xingdong.campaigns.presentation import (
    COMPLETION_LABELS,
    DISPUTE_KIND_LABELS,
    FINDING_FIELDS,
    REVIEW_POLICY_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
    TARGET_HINTS,
    TASK_TYPE_LABELS,
    audience,
    finding_text,
    readable_error,
    translated_findings,
)
from xingdong.core.clock import CHINA_TIME, utcnow
from xingdong.core.context import current_locale
from xingdong.core.errors import FieldError, XingdongError
from xingdong.core.i18n import N_, translate
from xingdong.core.ids import new_id
from xingdong.core.money import plain_yuan, yuan
from xingdong.core.numbers import decimal_number, fen_of_yuan, whole_number
from xingdong.core.policy import Action, Actor, can, require
from xingdong.core.settings import Settings
from xingdong.creators.tiers import TIER_LABELS, TIERS
from xingdong.dispatch.delivery import (
    PACE_LABELS,
    audience_for,
    audience_is_narrow,
    campaign_delivery,
    pace_now,
    pacing_allows,
)
from xingdong.identity import service as identity
from xingdong.identity.validation import INTERESTS, REGIONS
from xingdong.insights.brand_overview import brand_overview
from xingdong.ledger import deposits
from xingdong.ledger.errors import InsufficientFunds
from xingdong.platforms.connector import ACTION_TARGET_KIND
from xingdong.web.deps import (
    CsrfChecked,
    CursorQuery,
    DbSession,
    PageActor,
    RuntimeDep,
    attempt,
    pressed,
)
from xingdong.web.templating import redirect, render
from xingdong.work import completions
from xingdong.work import service as work
from xingdong.work.labels import DETAIL_LABELS, VERIFICATION_LABELS

router = APIRouter(include_in_schema=False)

STEP_OF_FIELD = {
    "task_type": 1,
    "target": 1,
    "platform": 1,
    "category": 1,
    "title": 2,
    "brief": 2,
    "disclosure": 2,
    "comment_guidance": 2,
    "quantity": 3,
    "unit_price": 3,
    "per_person_limit": 3,
    "starts_at": 3,
    "ends_at": 3,
    "targeting": 4,
    "min_age": 4,
    "max_age": 4,
    "regions": 4,
    "interests": 4,
    "tiers": 4,
    "pacing_per_hour": 4,
    "min_watch_seconds": 4,
    "min_stay_seconds": 4,
    "review_policy": 4,
}
"""Which step of the form shows each field, so a refused form opens where the problem is."""
STEPS = (
    N_("Task and target"),
    N_("What to say"),
    N_("Budget and schedule"),
    N_("Who and how fast"),
    N_("Check and create"),
)
LIST_FIELDS = ("regions", "interests", "tiers")
# The largest value each number field takes (the service checks the real rules; this
# keeps absurd input out of the database's integer columns).
NUMBER_FIELDS = {
    "quantity": 10**9,
    "per_person_limit": 1000,
    "min_age": 1000,
    "max_age": 1000,
    "pacing_per_hour": 1_000_000,
    "min_watch_seconds": 86_400,
    "min_stay_seconds": 86_400,
}
OPTIONAL_NUMBERS = ("min_age", "max_age", "pacing_per_hour")
TIME_FORMAT = "%Y-%m-%dT%H:%M"
DISCLOSURE_MAX = 200


def _page(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    error: XingdongError | None = None,
) -> HTMLResponse:
    """Render with what every campaign page shows: labels and the time zone."""
    locale = current_locale.get()
    shared: dict[str, Any] = {
        "audience": lambda campaign: audience(campaign, locale),
        "status_labels": STATUS_LABELS,
        "task_type_labels": TASK_TYPE_LABELS,
        "completion_labels": COMPLETION_LABELS,
        "reject_reasons": work.REJECT_REASONS,
        "verification_labels": VERIFICATION_LABELS,
        "detail_labels": DETAIL_LABELS,
        "contest_labels": CONTEST_LABELS,
        "severity_labels": SEVERITY_LABELS,
        "finding_fields": FINDING_FIELDS,
        "review_policy_labels": REVIEW_POLICY_LABELS,
        "tier_labels": TIER_LABELS,
    }
    return render(request, template, {**shared, **context}, error=error)


CONTEST_LABELS = {
    "open": N_("Contested: an operator will decide"),
    "upheld": N_("Contest upheld: the reward was taken back"),
    "dismissed": N_("Contest dismissed: the completion stands"),
}
"""What the brand's contest of a completion came to, by the dispute's status."""

DELIVERY_SHOWN = ("live", "paused", "closed")
"""The statuses whose page shows the delivery against the plan."""


# --- the list -------------------------------------------------------------------------


@router.get("/orgs/{org_id}/campaigns", response_class=HTMLResponse)
async def campaigns_list(
    request: Request,
    org_id: UUID,
    session: DbSession,
    actor: PageActor,
    status: str = "",
    q: str = "",
    cursor: str | None = None,
) -> Response:
    org = await identity.get_organisation(session, actor=actor, org_id=org_id)
    chosen = status if status in CAMPAIGN_STATUSES else ""
    page = await service.campaigns_page(
        session, actor=actor, org_id=org_id, status=chosen or None, search=q.strip() or None,
        cursor=cursor,
    )  # fmt: skip
    now = utcnow()
    paces = {c.id: pace_now(c, now=now) for c in page.items}
    # The overview heads the list as it opens, not each filtered or later page of it.
    overview = (
        await brand_overview(session, actor=actor, org_id=org_id, now=now)
        if not (chosen or q.strip() or cursor)
        else None
    )
    return _page(
        request,
        "brand_campaigns.html",
        {
            "org": org,
            "overview": overview,
            "page": page,
            "paces": paces,
            "pace_labels": PACE_LABELS,
            "status": chosen,
            "q": q,
            "statuses": CAMPAIGN_STATUSES,
            "can_create": org_id in actor.memberships,
        },
    )


# --- the step-by-step form --------------------------------------------------------------


def _form_values(form: FormData) -> tuple[dict[str, str], dict[str, list[str]]]:
    values = {
        key: value.strip()
        for key, value in form.items()
        if isinstance(value, str) and key not in LIST_FIELDS
    }
    lists = {key: [v for v in form.getlist(key) if isinstance(v, str) and v] for key in LIST_FIELDS}
    return values, lists


def _default_values(settings: Settings) -> dict[str, str]:
    start = utcnow().astimezone(CHINA_TIME).replace(second=0, microsecond=0)
    return {
        "task_type": "follow",
        "quantity": "100",
        "unit_price": plain_yuan(max(100, settings.campaign_min_unit_price_fen)),
        "per_person_limit": "1",
        "starts_at": start.strftime(TIME_FORMAT),
        "ends_at": (start + timedelta(days=7)).strftime(TIME_FORMAT),
        "min_watch_seconds": "0",
        "min_stay_seconds": "0",
        "review_policy": "auto_when_verified",
    }


def _number(values: dict[str, str], name: str, errors: list[FieldError]) -> int | None:
    raw = values.get(name, "")
    if not raw:
        if name not in OPTIONAL_NUMBERS and name not in ("min_watch_seconds", "min_stay_seconds"):
            errors.append(FieldError(name, N_("Enter a whole number.")))
        return None
    number = whole_number(raw)
    if number is None:
        errors.append(FieldError(name, N_("Enter a whole number.")))
        return None
    if abs(number) > NUMBER_FIELDS[name]:
        errors.append(FieldError(name, N_("This number is too large.")))
        return None
    return number


def _price(raw: str, errors: list[FieldError]) -> int:
    value = decimal_number(raw)
    if value is not None and value > Decimal(10_000_000):
        errors.append(FieldError("unit_price", N_("This number is too large.")))
        return 0
    fen = fen_of_yuan(raw)
    if fen is None or fen < 0:
        errors.append(FieldError("unit_price", N_("Enter a price in yuan, like 2 or 0.50.")))
        return 0
    return fen


def _moment(raw: str, name: str, errors: list[FieldError]) -> datetime | None:
    """A ``datetime-local`` value, read as Beijing time."""
    try:
        return datetime.strptime(raw, TIME_FORMAT).replace(tzinfo=CHINA_TIME)
    except ValueError:
        errors.append(FieldError(name, N_("Enter a date and time.")))
        return None


def draft_from_form(values: dict[str, str], lists: dict[str, list[str]]) -> service.CampaignDraft:
    """The form's text as a draft; what cannot be read is reported beside its field."""
    errors: list[FieldError] = []
    numbers = {name: _number(values, name, errors) for name in NUMBER_FIELDS}
    unit_price = _price(values.get("unit_price", ""), errors)
    starts_at = (
        _moment(values["starts_at"], "starts_at", errors) if values.get("starts_at") else utcnow()
    )
    ends_at = _moment(values.get("ends_at", ""), "ends_at", errors)
    if len(values.get("disclosure", "")) > DISCLOSURE_MAX:
        errors.append(FieldError("disclosure", N_("Use at most 200 characters.")))
    if errors or starts_at is None or ends_at is None:
        raise CampaignInvalid(detail=N_("Please correct the marked fields."), fields=errors)
    return service.CampaignDraft(
        title=values.get("title", ""),
        task_type=values.get("task_type", ""),
        target=values.get("target", ""),
        platform=values.get("platform") or "sandbox",
        brief=values.get("brief", ""),
        disclosure=values.get("disclosure", ""),
        comment_guidance=values.get("comment_guidance") or None,
        quantity=numbers["quantity"] or 0,
        unit_price=unit_price,
        per_person_limit=numbers["per_person_limit"] or 0,
        starts_at=starts_at,
        ends_at=ends_at,
        min_age=numbers["min_age"],
        max_age=numbers["max_age"],
        regions=lists["regions"],
        interests=lists["interests"],
        tiers=lists["tiers"],
        category=values.get("category") or None,
        pacing_per_hour=numbers["pacing_per_hour"],
        min_watch_seconds=numbers["min_watch_seconds"] or 0,
        min_stay_seconds=numbers["min_stay_seconds"] or 0,
        review_policy=values.get("review_policy", ""),
    )


def _split(values: dict[str, str], fee_percent: int) -> dict[str, int] | None:
    """The price split the form shows before the script (or the check) runs."""
    errors: list[FieldError] = []
    price = _price(values.get("unit_price", ""), errors)
    quantity = whole_number(values.get("quantity", ""), digits=9)
    if errors or quantity is None or quantity < 0:
        return None
    reward, fee = price_split(price, fee_percent)
    return {"reward": reward, "fee": fee, "total": price * quantity}


def _pacing_possible(draft: service.CampaignDraft) -> int | None:
    """How many completions the draft's pacing cap lets through from its start (or now)
    to its end, when that is fewer than its quantity; None when the cap is no limit.
    (The cap counts every campaign on the same target: with others, fewer still.)"""
    if draft.pacing_per_hour is None:
        return None
    since = max(draft.starts_at, utcnow())
    possible = pacing_allows(draft.pacing_per_hour, since, draft.ends_at)
    return possible if possible < draft.quantity else None


def _first_step(error: XingdongError) -> int:
    steps = [STEP_OF_FIELD.get(f.field, 1) for f in error.fields]
    return min(steps) if steps else 1


async def _form_context(
    session: DbSession,
    actor: Actor,
    org_id: UUID,
    settings: Settings,
    values: dict[str, str],
    lists: dict[str, list[str]],
) -> dict[str, Any]:
    org = await identity.get_organisation(session, actor=actor, org_id=org_id)
    if org_id not in actor.memberships:
        raise CampaignInvalid(detail=N_("Only members of the organisation can create campaigns."))
    profile = get_profile(settings.policy_profile)
    return {
        "org": org,
        "form": values,
        "lists": lists,
        "step": 1,
        "steps": STEPS,
        "target": None,
        "preview": None,
        "findings": [],
        "task_types": [t for t in ACTION_TARGET_KIND if profile.allows(t)],
        "target_kinds": ACTION_TARGET_KIND,
        "target_hints": TARGET_HINTS,
        "regions": REGIONS,
        "interests": INTERESTS,
        "tiers": TIERS,
        "review_policies": REVIEW_POLICIES,
        "fee_percent": settings.platform_fee_percent,
        "split": _split(values, settings.platform_fee_percent),
        "min_price": settings.campaign_min_unit_price_fen,
        "max_quantity": settings.campaign_max_quantity,
        "pacing_caps": dict(profile.max_per_hour),
        "min_like_watch": profile.min_like_watch_seconds,
        "balance": await deposits.org_balance(session, org_id),
    }


def _values_of(campaign: Campaign, settings: Settings) -> dict[str, str]:
    """A campaign's settings as the form's text, to start a corrected copy from."""
    values = _default_values(settings)
    if campaign.ends_at > utcnow():
        values["starts_at"] = (
            max(campaign.starts_at, utcnow()).astimezone(CHINA_TIME).strftime(TIME_FORMAT)
        )
        values["ends_at"] = campaign.ends_at.astimezone(CHINA_TIME).strftime(TIME_FORMAT)
    optional = {
        "min_age": campaign.min_age,
        "max_age": campaign.max_age,
        "pacing_per_hour": campaign.pacing_per_hour,
    }
    values.update(
        {name: "" if value is None else str(value) for name, value in optional.items()},
        task_type=campaign.task_type,
        platform=campaign.platform,
        target=("@" if campaign.target_kind == "account" else "") + campaign.target_ref,
        title=campaign.title,
        brief=campaign.brief,
        disclosure=campaign.disclosure,
        comment_guidance=campaign.comment_guidance or "",
        quantity=str(campaign.quantity),
        unit_price=plain_yuan(campaign.unit_price),
        per_person_limit=str(campaign.per_person_limit),
        min_watch_seconds=str(campaign.min_watch_seconds),
        min_stay_seconds=str(campaign.min_stay_seconds),
        review_policy=campaign.review_policy,
        category=campaign.category or "",
    )
    return values


@router.get("/orgs/{org_id}/campaigns/new", response_class=HTMLResponse)
async def new_campaign(
    request: Request,
    org_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    copy: UUID | None = None,
) -> Response:
    """The form, empty or (``copy``) filled in from one of the organisation's campaigns."""
    settings = runtime.settings
    values = _default_values(settings)
    lists: dict[str, list[str]] = {k: [] for k in LIST_FIELDS}
    if copy is not None:
        original = await service.get_campaign(session, actor=actor, campaign_id=copy)
        if original.org_id == org_id:
            values = _values_of(original, settings)
            lists = {
                "regions": list(original.regions),
                "interests": list(original.interests),
                "tiers": list(original.tiers),
            }
    context = await _form_context(session, actor, org_id, settings, values, lists)
    return _page(request, "brand_campaign_new.html", context)


@router.post("/orgs/{org_id}/campaigns/new", dependencies=[CsrfChecked])
async def new_campaign_submit(
    request: Request, org_id: UUID, session: DbSession, runtime: RuntimeDep, actor: PageActor
) -> Response:
    """One form, three buttons: check the target (step 1), check the whole campaign
    (step 5 shows the compliance findings and the cost), create the draft."""
    values, lists = _form_values(await request.form())
    action = values.pop("action", "review")
    values.pop("csrf_token", None)
    context = await _form_context(session, actor, org_id, runtime.settings, values, lists)
    try:
        if action == "check":
            context["target"] = await service.check_target(
                platform=values.get("platform") or "sandbox",
                task_type=values.get("task_type", ""),
                target=values.get("target", ""),
            )
            return _page(request, "brand_campaign_new.html", context)
        draft = draft_from_form(values, lists)
        if action == "create":
            campaign = await attempt(
                session,
                lambda: service.create_campaign(
                    session, actor=actor, org_id=org_id, draft=draft, settings=runtime.settings
                ),
            )
            return redirect(
                f"/campaigns/{campaign.id}",
                N_("The draft is saved. Submit it to fund it and ask for approval."),
            )
        preview = await service.preview_campaign(
            session, actor=actor, org_id=org_id, draft=draft, settings=runtime.settings
        )
    except XingdongError as exc:
        context["step"] = _first_step(exc)
        return _page(request, "brand_campaign_new.html", context, error=exc)
    locale = current_locale.get()
    audience = await audience_for(
        session, platform=draft.platform, min_age=draft.min_age, max_age=draft.max_age,
        regions=list(draft.regions), interests=list(draft.interests), tiers=list(draft.tiers),
        now=utcnow(),
    )  # fmt: skip
    context.update(
        step=5,
        target=preview.target,
        preview=preview,
        audience=audience,
        audience_narrow=audience_is_narrow(audience, draft.quantity),
        review_quantity=draft.quantity,
        pacing_possible=_pacing_possible(draft),
        pacing_cap=draft.pacing_per_hour,
        findings=[
            {"field": f["field"], "severity": f["severity"], "message": finding_text(f, locale)}
            for f in service.findings_as_json(preview.findings)
        ],
    )
    return _page(request, "brand_campaign_new.html", context)


@router.get("/orgs/{org_id}/campaigns/target")
async def check_target(
    org_id: UUID, actor: PageActor, task_type: str = "", target: str = "", platform: str = ""
) -> JSONResponse:
    """Step 1 of the form asks here (by script) what the typed target is."""
    if org_id not in actor.memberships:
        require(actor, Action.ORG_READ, org_id=org_id)
    try:
        found = await service.check_target(
            platform=platform or "sandbox", task_type=task_type, target=target
        )
    except XingdongError as exc:
        locale = current_locale.get()
        messages = [translate(locale, f.message) for f in exc.fields if f.field == "target"]
        return JSONResponse(
            {"found": False, "message": messages[0] if messages else translate(locale, exc.title)}
        )
    title = found.title
    if found.price_fen is not None:
        title += f" · ¥{yuan(found.price_fen)}"
    return JSONResponse({"found": True, "title": title, "url": found.url, "kind": found.kind})


# --- the campaign page ------------------------------------------------------------------


async def _detail_context(
    session: DbSession,
    runtime: RuntimeDep,
    actor: Actor,
    campaign_id: UUID,
    *,
    shown_status: str = "",
    cursor: str | None = None,
) -> dict[str, Any]:
    """What the campaign page shows; ``shown_status`` and ``cursor`` choose the page of
    completions (one status or all, newest first)."""
    shown_status = shown_status if shown_status in completions.SUBMITTED_STATUSES else ""
    campaign = await service.get_campaign(session, actor=actor, campaign_id=campaign_id)
    org = await identity.get_organisation(session, actor=actor, org_id=campaign.org_id)
    manage = can(actor, Action.ORG_MANAGE_FUNDS, org_id=campaign.org_id)
    recent = await completions.completions_page(
        session,
        actor=actor,
        campaign_id=campaign.id,
        secret=runtime.settings.secret_key.get_secret_value(),
        status=shown_status or None,
        cursor=cursor,
        limit=20,
    )
    delivery = None
    if campaign.status in DELIVERY_SHOWN:
        delivery = await campaign_delivery(session, campaign=campaign)
    locale = current_locale.get()
    return {
        "campaign": campaign,
        "org": org,
        "delivery": delivery,
        "slow_reasons": delivery.slow_texts(locale) if delivery else [],
        "progress": await service.progress_of(session, campaign),
        "findings": translated_findings(list(campaign.compliance), current_locale.get()),
        "not_started": campaign.status == "live" and utcnow() < campaign.starts_at,
        "completions": recent.items,
        "completions_cursor": recent.next_cursor,
        "completions_status": shown_status,
        "completions_paged": bool(cursor),
        "completion_statuses": completions.SUBMITTED_STATUSES,
        "can_manage": manage,
        "plain_member": not manage and campaign.org_id in actor.memberships,
        "can_delete": campaign.status == "draft"
        and (manage or service.is_draft_author(actor, campaign)),
        "balance": await deposits.org_balance(session, campaign.org_id) if manage else None,
        "form_id": new_id(),
        "blocked": [],
        "short": None,
        "contest": {},
    }


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
async def campaign_page(
    request: Request,
    campaign_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    status: Annotated[str, Query(max_length=20)] = "",
    cursor: CursorQuery = None,
) -> Response:
    """A campaign: its progress, delivery and completions (``status`` and ``cursor``
    choose which of these)."""
    context = await _detail_context(
        session, runtime, actor, campaign_id, shown_status=status, cursor=cursor
    )
    return _page(request, "brand_campaign.html", context)


@router.get("/campaigns/{campaign_id}/progress")
async def campaign_progress(
    campaign_id: UUID, session: DbSession, actor: PageActor
) -> JSONResponse:
    """The campaign page refreshes its numbers from here every few seconds."""
    campaign = await service.get_campaign(session, actor=actor, campaign_id=campaign_id)
    progress = await service.progress_of(session, campaign)
    locale = current_locale.get()
    delivery = None
    if campaign.status in DELIVERY_SHOWN:
        delivery = (await campaign_delivery(session, campaign=campaign, explain=False)).as_json()
    return JSONResponse(
        {
            "delivery": delivery,
            "status": campaign.status,
            "status_label": translate(locale, STATUS_LABELS[campaign.status]),
            "units_done": progress.done,
            "units_open": progress.open,
            "units_left": progress.left,
            "units_planned": progress.planned,
            "percent_done": progress.percent_done,
            "spent": yuan(progress.spent),
            "budget": yuan(progress.budget),
            "escrow": yuan(progress.escrow),
        }
    )


async def _detail_with_error(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    actor: Actor,
    campaign_id: UUID,
    error: XingdongError,
    **extra: Any,
) -> Response:
    context = await _detail_context(session, runtime, actor, campaign_id)
    readable = readable_error(error, org_id=context["campaign"].org_id)
    if isinstance(readable, ComplianceBlocked):
        context["blocked"] = readable.extra.get("findings", [])
    if isinstance(readable, InsufficientFunds):
        context["short"] = readable.extra
    context.update(extra)
    return _page(request, "brand_campaign.html", context, error=readable)


@router.post("/campaigns/{campaign_id}/submit", dependencies=[CsrfChecked])
async def campaign_submit(
    request: Request,
    campaign_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    form_id: Annotated[str, Form()] = "",
) -> Response:
    """The form carries a one-off id, so pressing the button twice funds once."""
    try:
        await attempt(
            session,
            lambda: service.submit_campaign(
                session, actor=actor, campaign_id=campaign_id, settings=runtime.settings,
                request_key=f"page:{form_id or new_id()}",
            ),
        )  # fmt: skip
    except XingdongError as exc:
        return await _detail_with_error(request, session, runtime, actor, campaign_id, exc)
    return redirect(
        f"/campaigns/{campaign_id}",
        N_("Submitted: the budget is held in escrow until an operator approves the campaign."),
    )


@router.post("/campaigns/{campaign_id}/delete", dependencies=[CsrfChecked])
async def campaign_delete(
    request: Request, campaign_id: UUID, session: DbSession, runtime: RuntimeDep, actor: PageActor
) -> Response:
    try:
        deleted = await attempt(
            session, lambda: service.delete_draft(session, actor=actor, campaign_id=campaign_id)
        )
    except XingdongError as exc:
        return await _detail_with_error(request, session, runtime, actor, campaign_id, exc)
    return redirect(f"/orgs/{deleted.org_id}/campaigns", N_("The draft is deleted."))


@router.post("/campaigns/{campaign_id}/pause", dependencies=[CsrfChecked])
async def campaign_pause(
    request: Request, campaign_id: UUID, session: DbSession, runtime: RuntimeDep, actor: PageActor
) -> Response:
    try:
        await attempt(
            session,
            lambda: service.pause_campaign(
                session,
                actor=actor,
                campaign_id=campaign_id,
                limits=runtime.limits,
                settings=runtime.settings,
            ),
        )
    except XingdongError as exc:
        return await _detail_with_error(request, session, runtime, actor, campaign_id, exc)
    return redirect(f"/campaigns/{campaign_id}", N_("Paused: nobody can take a task now."))


@router.post("/campaigns/{campaign_id}/resume", dependencies=[CsrfChecked])
async def campaign_resume(
    request: Request, campaign_id: UUID, session: DbSession, runtime: RuntimeDep, actor: PageActor
) -> Response:
    try:
        await attempt(
            session,
            lambda: service.resume_campaign(
                session,
                actor=actor,
                campaign_id=campaign_id,
                limits=runtime.limits,
                settings=runtime.settings,
            ),
        )
    except XingdongError as exc:
        return await _detail_with_error(request, session, runtime, actor, campaign_id, exc)
    return redirect(f"/campaigns/{campaign_id}", N_("Resumed: the tasks are open again."))


def _returned_on_close(campaign: Campaign, progress: service.Progress, claims: int) -> int:
    """What closing now gives back: escrow not reserved, plus the reservations of claims
    not yet handed in (they are released)."""
    return max(progress.escrow - progress.reserved, 0) + claims * campaign.unit_price


@router.get("/campaigns/{campaign_id}/close", response_class=HTMLResponse)
async def campaign_close_page(
    request: Request, campaign_id: UUID, session: DbSession, actor: PageActor
) -> Response:
    """Closing cannot be undone: this page says what it does before it is done."""
    campaign = await service.get_campaign(session, actor=actor, campaign_id=campaign_id)
    require(actor, Action.ORG_MANAGE_FUNDS, org_id=campaign.org_id)
    progress = await service.progress_of(session, campaign)
    claims = await completions.open_claims(session, campaign_id=campaign.id)
    handed_in = max(campaign.units_open - claims, 0)
    return _page(
        request,
        "brand_campaign_close.html",
        {
            "campaign": campaign,
            "progress": progress,
            "returned": _returned_on_close(campaign, progress, claims),
            "claims": claims,
            "handed_in": handed_in,
            "kept": handed_in * campaign.unit_price,
            "form_id": new_id(),
        },
    )


@router.post("/campaigns/{campaign_id}/close", dependencies=[CsrfChecked])
async def campaign_close(
    request: Request,
    campaign_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    form_id: Annotated[str, Form()] = "",
) -> Response:
    try:
        await attempt(
            session,
            lambda: service.close_campaign(
                session, actor=actor, campaign_id=campaign_id,
                request_key=f"page:{form_id or new_id()}",
            ),
        )  # fmt: skip
    except XingdongError as exc:
        return await _detail_with_error(request, session, runtime, actor, campaign_id, exc)
    return redirect(
        f"/campaigns/{campaign_id}",
        N_("The campaign is closed. Its status says how much went back to the balance."),
    )


@router.post(
    "/campaigns/{campaign_id}/assignments/{assignment_id}/contest", dependencies=[CsrfChecked]
)
async def campaign_contest(
    request: Request,
    campaign_id: UUID,
    assignment_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    reason: Annotated[str, Form()] = "",
) -> Response:
    try:
        await attempt(
            session,
            lambda: completions.contest_completion(
                session, actor=actor, campaign_id=campaign_id, assignment_id=assignment_id,
                reason=reason,
            ),
        )  # fmt: skip
    except XingdongError as exc:
        return await _detail_with_error(
            request, session, runtime, actor, campaign_id, exc,
            contest={"id": str(assignment_id), "reason": reason},
        )  # fmt: skip
    return redirect(
        f"/campaigns/{campaign_id}", N_("Contest sent: an operator will look at it and decide.")
    )


# --- operators ----------------------------------------------------------------------------


async def _ops_campaigns_context(
    session: DbSession, actor: Actor, status: str, cursor: str | None
) -> dict[str, Any]:
    chosen = status if status in CAMPAIGN_STATUSES else "pending_approval"
    page = await service.campaigns_for_operators(session, actor=actor, status=chosen, cursor=cursor)
    locale = current_locale.get()
    orgs = {}
    for campaign in page.items:
        if campaign.org_id not in orgs:
            orgs[campaign.org_id] = await identity.get_organisation(
                session, actor=actor, org_id=campaign.org_id
            )
    return {
        "page": page,
        "status": chosen,
        "statuses": CAMPAIGN_STATUSES,
        "orgs": orgs,
        "findings": {c.id: translated_findings(list(c.compliance), locale) for c in page.items},
        "notes": {},
    }


@router.get("/ops/campaigns", response_class=HTMLResponse)
async def ops_campaigns(
    request: Request,
    session: DbSession,
    actor: PageActor,
    status: str = "pending_approval",
    cursor: str | None = None,
) -> Response:
    """Operators: campaigns waiting for approval, with what the compliance check found."""
    context = await _ops_campaigns_context(session, actor, status, cursor)
    return _page(request, "ops_campaign_queue.html", context)


@router.post("/ops/campaigns/{campaign_id}/decision", dependencies=[CsrfChecked])
async def ops_decide_campaign(
    request: Request,
    campaign_id: UUID,
    session: DbSession,
    actor: PageActor,
    decision: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    try:
        approve = pressed(decision, ("approve", "reject")) == "approve"
        await attempt(
            session,
            lambda: service.decide_campaign(
                session, actor=actor, campaign_id=campaign_id, approve=approve, note=note
            ),
        )
    except XingdongError as exc:
        context = await _ops_campaigns_context(session, actor, "pending_approval", None)
        context["notes"] = {campaign_id: note}
        return _page(request, "ops_campaign_queue.html", context, error=exc)
    return redirect("/ops/campaigns", N_("Decision recorded."))


async def _ops_disputes_context(
    session: DbSession, actor: Actor, status: str, cursor: str | None
) -> dict[str, Any]:
    chosen = status if status in ("open", "upheld", "dismissed") else "open"
    page = await completions.dispute_cases(session, actor=actor, status=chosen, cursor=cursor)
    return {
        "page": page,
        "status": chosen,
        "kind_labels": DISPUTE_KIND_LABELS,
        "review_reasons": {**work.APPROVE_REASONS, **work.REJECT_REASONS},
        "notes": {},
    }


@router.get("/ops/disputes", response_class=HTMLResponse)
async def ops_disputes(
    request: Request,
    session: DbSession,
    actor: PageActor,
    status: str = "open",
    cursor: str | None = None,
) -> Response:
    """Operators: workers' appeals and brands' contests, with the work they are about."""
    context = await _ops_disputes_context(session, actor, status, cursor)
    return _page(request, "ops_dispute_queue.html", context)


@router.post("/ops/disputes/{dispute_id}/decision", dependencies=[CsrfChecked])
async def ops_decide_dispute(
    request: Request,
    dispute_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    decision: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    try:
        uphold = pressed(decision, ("uphold", "dismiss")) == "uphold"
        await attempt(
            session,
            lambda: work.decide_dispute(
                session, actor=actor, dispute_id=dispute_id, uphold=uphold,
                note=note, settings=runtime.settings,
            ),
        )  # fmt: skip
    except XingdongError as exc:
        context = await _ops_disputes_context(session, actor, "open", None)
        context["notes"] = {dispute_id: note}
        return _page(request, "ops_dispute_queue.html", context, error=exc)
    return redirect("/ops/disputes", N_("Decision recorded."))
