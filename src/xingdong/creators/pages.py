"""Web pages of agencies (MCN) and their creators: the agency's page of creators (offers,
contracts, what they have shared) and the creator's own page of offers and contract."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from xingdong.core.errors import XingdongError
from xingdong.core.i18n import N_
from xingdong.core.ids import new_id
from xingdong.core.policy import Action, Actor, can
from xingdong.core.settings import Settings
from xingdong.creators import agencies
from xingdong.creators.models import MAX_SHARE_PERCENT
from xingdong.creators.tiers import TIER_LABELS
from xingdong.identity.models import Person
from xingdong.ledger import wallets, withdrawals
from xingdong.ledger.pages import yuan_to_fen
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

router = APIRouter(include_in_schema=False)

FormStr = Annotated[str, Form()]

STATUS_LABELS = {
    "active": N_("Contracts in force"),
    "offered": N_("Offers waiting"),
    "closed": N_("Closed"),
}
"""The agency page's tabs, as ``roster`` groups contracts."""
CLOSED_LABELS = {
    "declined": N_("Declined by the creator"),
    "withdrawn": N_("Offer withdrawn"),
    "ended": N_("Contract ended"),
}


def _tab(status: str) -> str:
    return status if status in STATUS_LABELS else "active"


# --- the agency's side ----------------------------------------------------------------


async def _creators_context(
    session: DbSession,
    actor: Actor,
    org_id: UUID,
    settings: Settings,
    *,
    status: str = "active",
    q: str = "",
    cursor: str | None = None,
    withdrawals_cursor: str | None = None,
) -> dict[str, Any]:
    # First: a brand, or an organisation the actor cannot see, stops here with its error.
    org = await agencies.agency_of(session, actor=actor, org_id=org_id)
    tab = _tab(status)
    roster = await agencies.roster(
        session, actor=actor, org_id=org_id, status=tab, search=q.strip() or None, cursor=cursor
    )
    return {
        "org": org,
        "status": tab,
        "q": q,
        "roster": roster,
        "counts": await agencies.count_contracts(session, org_id),
        "balance": await agencies.agency_balance(session, org_id),
        # Members see who is signed, but only owners see whole phone numbers and act.
        "can_manage": can(actor, Action.ORG_SIGN_CREATORS, org_id=org_id),
        "status_labels": STATUS_LABELS,
        "closed_labels": CLOSED_LABELS,
        "tier_labels": TIER_LABELS,
        "most": MAX_SHARE_PERCENT,
        "form": {},
        # Owners take the agency's shares out; the card is theirs alone.
        "can_pay": can(actor, Action.ORG_MANAGE_FUNDS, org_id=org_id),
        "payout": await withdrawals.org_payout_account(session, org_id),
        "withdrawals": await withdrawals.withdrawal_list(
            session, org=(actor, org_id), cursor=withdrawals_cursor
        ),
        "settings": settings,
        "form_id": new_id(),
        **wallets.PAYOUT_CARD_LABELS,
    }


@router.get("/orgs/{org_id}/creators", response_class=HTMLResponse)
async def creators_page(
    request: Request,
    org_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    status: str = "active",
    q: str = "",
    cursor: CursorQuery = None,
    withdrawals: CursorQuery = None,
) -> Response:
    """An agency's creators: in force, offers waiting and closed, with what each shared;
    and its payouts (``withdrawals``: older ones)."""
    context = await _creators_context(
        session, actor, org_id, runtime.settings, status=status, q=q, cursor=cursor,
        withdrawals_cursor=withdrawals,
    )  # fmt: skip
    return render(request, "agency_creators.html", context)


@router.post("/orgs/{org_id}/creators", dependencies=[CsrfChecked])
async def offer_submit(
    request: Request,
    org_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    phone: FormStr = "",
    share_percent: FormStr = "",
) -> Response:
    try:
        offered = await attempt(
            session,
            lambda: agencies.offer_contract(
                session, actor=actor, org_id=org_id, phone=phone, share_percent=share_percent
            ),
        )
    except XingdongError as exc:
        # The offers tab, where the offer would have appeared, with the form as typed.
        context = await _creators_context(
            session, actor, org_id, runtime.settings, status="offered"
        )
        context["form"] = {"phone": phone, "share_percent": share_percent}
        return render(request, "agency_creators.html", context, error=exc)
    return redirect(
        f"/orgs/{org_id}/creators?status=offered",
        N_("Offer sent. The creator sees it after signing in, and accepts or declines it.")
        if await agencies.offer_reaches_someone(session, offered)
        else N_(
            "Offer sent. Nobody has registered with this number yet: they see the offer "
            "once they do."
        ),
    )


@router.post("/orgs/{org_id}/creators/{contract_id}/close", dependencies=[CsrfChecked])
async def close_submit(
    request: Request,
    org_id: UUID,
    contract_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    status: FormStr = "active",
) -> Response:
    """Withdraw an offer or end a contract; ``status`` is the tab the button was on."""
    try:
        contract = await attempt(
            session,
            lambda: agencies.close_contract(
                session, actor=actor, org_id=org_id, contract_id=contract_id
            ),
        )
    except XingdongError as exc:
        context = await _creators_context(session, actor, org_id, runtime.settings, status=status)
        return render(request, "agency_creators.html", context, error=exc)
    if contract.status == "withdrawn":
        return redirect(f"/orgs/{org_id}/creators?status=offered", N_("The offer is withdrawn."))
    return redirect(f"/orgs/{org_id}/creators", N_("The contract has ended."))


@router.post("/orgs/{org_id}/payout-account", dependencies=[CsrfChecked])
async def bind_payout_submit(
    request: Request,
    org_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    kind: FormStr = "",
    number: FormStr = "",
    number_again: FormStr = "",
    holder_name: FormStr = "",
) -> Response:
    form = withdrawals.PayoutAccountForm(kind, number, holder_name, number_again)
    try:
        await attempt(
            session,
            lambda: agencies.bind_payout_account(
                session, actor=actor, org_id=org_id, form=form, settings=runtime.settings
            ),
        )
    except XingdongError as exc:
        context = await _creators_context(session, actor, org_id, runtime.settings)
        context["form"] = {"kind": kind, "holder_name": holder_name}
        return render(request, "agency_creators.html", context, error=exc)
    return redirect(
        f"/orgs/{org_id}/creators#withdraw", N_("The agency's payout account is bound.")
    )


@router.post("/orgs/{org_id}/withdrawals", dependencies=[CsrfChecked])
async def payout_submit(
    request: Request,
    org_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    amount: FormStr = "",
    form_id: FormStr = "",
) -> Response:
    try:
        await attempt(
            session,
            lambda: agencies.request_payout(
                session,
                actor=actor,
                org_id=org_id,
                amount=yuan_to_fen(amount),
                idempotency_key=form_key(form_id),
                settings=runtime.settings,
            ),
        )
    except XingdongError as exc:
        context = await _creators_context(session, actor, org_id, runtime.settings)
        context["form"] = {"amount": amount}
        return render(request, "agency_creators.html", context, error=exc)
    return redirect(
        f"/orgs/{org_id}/creators#withdraw",
        N_("Payout requested; an operator will review it before it is paid."),
    )


# --- the creator's side ---------------------------------------------------------------


async def _my_agency_page(
    request: Request, session: DbSession, person: Person, error: XingdongError | None = None
) -> Response:
    mine = await agencies.my_agency(session, person=person)
    return render(request, "my_agency.html", {"mine": mine}, error=error)


@router.get("/agency", response_class=HTMLResponse)
async def my_agency_page(request: Request, session: DbSession, person: PagePerson) -> Response:
    """The creator's offers from agencies and the contract in force."""
    return await _my_agency_page(request, session, person)


@router.post("/agency/offers/{contract_id}", dependencies=[CsrfChecked])
async def answer_submit(
    request: Request,
    contract_id: UUID,
    session: DbSession,
    person: PagePerson,
    answer: FormStr = "",
) -> Response:
    try:
        accept = pressed(answer, ("accept", "decline"), field="answer") == "accept"
        contract = await attempt(
            session,
            lambda: agencies.answer_offer(
                session, person=person, contract_id=contract_id, accept=accept
            ),
        )
    except XingdongError as exc:
        return await _my_agency_page(request, session, person, exc)
    if contract.status == "active":
        return redirect("/agency", N_("You have signed with the agency."))
    return redirect("/agency", N_("Offer declined."))


@router.post("/agency/leave", dependencies=[CsrfChecked])
async def leave_submit(request: Request, session: DbSession, person: PagePerson) -> Response:
    try:
        await attempt(session, lambda: agencies.leave_agency(session, person=person))
    except XingdongError as exc:
        return await _my_agency_page(request, session, person, exc)
    return redirect("/agency", N_("Your contract with the agency has ended."))
