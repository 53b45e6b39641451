"""Pages of the risk domain: the operators' risk console."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from xingdong.core.context import current_locale
from xingdong.core.errors import XingdongError
from xingdong.core.i18n import N_
from xingdong.core.pagination import numbered_page
from xingdong.core.policy import Action, Actor, require
from xingdong.identity import service as identity
from xingdong.risk import cases
from xingdong.risk.api import CaseId
from xingdong.risk.models import CASE_STATUSES
from xingdong.risk.reasons import reason_text
from xingdong.web.deps import CsrfChecked, DbSession, PageActor, RuntimeDep, attempt, pressed
from xingdong.web.templating import redirect, render

router = APIRouter(include_in_schema=False)

STATUS_LABELS = {"open": N_("Open"), "confirmed": N_("Confirmed fraud"), "cleared": N_("Cleared")}
LINK_LABELS = {
    "device": N_("Device"),
    "ip": N_("Address"),
    "payout_account": N_("Payout account (hashed)"),
    "target": N_("Acted on"),
}
KIND_LABELS = {
    "ring": N_("Ring of accounts"),
    "lockstep_group": N_("Lockstep group"),
    "dense_block": N_("Dense block"),
    "account": N_("Single account"),
}


async def _names(session: DbSession, actor: Actor, accounts: list[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for account in accounts:
        try:
            person = await identity.get_person(session, actor=actor, person_id=UUID(account))
        except (ValueError, XingdongError):
            continue
        if person.erased_at is not None:
            names[account] = person.display_name
            continue
        frozen = "" if person.is_active else " ❄"
        names[account] = f"{person.display_name} · ****{person.phone[-4:]}{frozen}"
    return names


async def _context(session: DbSession, actor: Actor, status: str, page: int = 1) -> dict[str, Any]:
    chosen = status if status in CASE_STATUSES else "open"
    total = await cases.count_cases(session, actor=actor, status=chosen)
    shown, pages = numbered_page(total, page, cases.CASES_PAGE)
    found = await cases.cases(
        session, actor=actor, status=chosen, offset=(shown - 1) * cases.CASES_PAGE
    )
    names = await _names(session, actor, [a for case in found for a in case.accounts])
    return {
        "cases": found,
        "total": total,
        # Open cases leave the list as they are decided; the decided ones only grow, and
        # are read a page at a time.
        "page": shown,
        "pages": pages,
        "status": chosen,
        "statuses": CASE_STATUSES,
        "names": names,
        "status_labels": STATUS_LABELS,
        "kind_labels": KIND_LABELS,
        "link_labels": LINK_LABELS,
        "reason_text": lambda code: reason_text(code, current_locale.get()),
        "notes": {},
    }


@router.get("/ops/risk", response_class=HTMLResponse)
async def risk_console(
    request: Request,
    session: DbSession,
    actor: PageActor,
    status: str = "open",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Operators: accounts the batch detectors found acting together, to confirm or clear
    (``page``: fifty cases a page, riskiest first)."""
    require(actor, Action.STAFF_CONSOLE)
    return render(request, "ops_risk.html", await _context(session, actor, status, page))


@router.post("/ops/risk/scan", dependencies=[CsrfChecked])
async def scan_now(
    request: Request, session: DbSession, runtime: RuntimeDep, actor: PageActor
) -> Response:
    """Scan the last week now, and say what it found (the page stands at ``/ops/risk``)."""
    require(actor, Action.STAFF_CONSOLE)
    found = await cases.scan(session, rules_file=runtime.settings.risk_rules_file)
    context = await _context(session, actor, "open")
    context["scanned"] = found
    return render(request, "ops_risk.html", context)


@router.post("/ops/risk/cases/{case_id}/decision", dependencies=[CsrfChecked])
async def decide_case(
    request: Request,
    case_id: CaseId,
    session: DbSession,
    actor: PageActor,
    decision: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    page: Annotated[str, Form()] = "1",
) -> Response:
    try:
        fraud = pressed(decision, ("confirm", "clear")) == "confirm"
        await attempt(
            session,
            lambda: cases.decide(session, actor=actor, case_id=case_id, fraud=fraud, note=note),
        )
    except XingdongError as exc:
        # The page the case was on, so that the case and its error are both seen.
        shown = int(page) if page.isascii() and page.isdecimal() else 1
        context = await _context(session, actor, "open", min(shown, 100_000))
        context["notes"] = {case_id: note}
        return render(request, "ops_risk.html", context, error=exc)
    return redirect("/ops/risk", N_("Decision recorded."))
