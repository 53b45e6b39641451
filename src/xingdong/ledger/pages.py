"""Pages of the ledger: topping up an organisation's balance, and the sandbox payment
provider's checkout page."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated
from uuid import UUID

import httpx
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from xingdong.core.errors import FieldError, ValidationFailed, XingdongError
from xingdong.core.i18n import N_
from xingdong.core.policy import Action, require
from xingdong.ledger import deposits
from xingdong.ledger.payments import SandboxPaymentProvider
from xingdong.web.deps import CsrfChecked, DbSession, PageActor, RuntimeDep, attempt
from xingdong.web.templating import render

router = APIRouter(include_in_schema=False)


def yuan_to_fen(raw: str) -> int:
    try:
        value = Decimal(raw.strip().replace(",", ""))
    except InvalidOperation:
        value = Decimal(-1)
    if value <= 0 or value != value.quantize(Decimal("0.01")):
        raise ValidationFailed(
            detail=N_("Please correct the marked fields."),
            fields=[FieldError("amount", N_("Enter an amount in yuan, like 500 or 99.50."))],
        )
    return int(value * 100)


@router.post("/orgs/{org_id}/deposits", dependencies=[CsrfChecked])
async def start_top_up(
    request: Request,
    org_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    amount: Annotated[str, Form()] = "",
    form_id: Annotated[str, Form()] = "",
) -> Response:
    """The form carries a one-off id, so pressing the button twice starts one top-up."""
    require(actor, Action.ORG_MANAGE_FUNDS, org_id=org_id)
    try:
        deposit = await attempt(
            session,
            lambda: deposits.request_deposit(
                session,
                org_id=org_id,
                requested_by=actor.person_id,
                amount=yuan_to_fen(amount),
                idempotency_key=f"page:{form_id}",
                provider=runtime.payments.name,
                min_amount=runtime.settings.deposit_min_fen,
                max_amount=runtime.settings.deposit_max_fen,
            ),
        )
    except XingdongError as exc:
        from xingdong.identity.pages import org_page_with_error

        return await org_page_with_error(request, session, actor, org_id, exc)
    target = runtime.payments.checkout_url(order_id=str(deposit.id), amount=deposit.amount)
    return RedirectResponse(target, status_code=303)


def _sandbox(runtime: RuntimeDep) -> SandboxPaymentProvider:
    provider = runtime.payments
    if not isinstance(provider, SandboxPaymentProvider):
        raise ValidationFailed(detail=N_("The sandbox payment provider is not in use."))
    return provider


@router.get("/sandbox/pay/{deposit_id}", response_class=HTMLResponse)
async def sandbox_checkout(
    request: Request, deposit_id: UUID, session: DbSession, runtime: RuntimeDep
) -> Response:
    _sandbox(runtime)
    deposit = await deposits.get_deposit(session, deposit_id)
    return render(request, "sandbox_pay.html", {"deposit": deposit})


@router.post("/sandbox/pay/{deposit_id}", dependencies=[CsrfChecked])
async def sandbox_confirm(
    request: Request,
    deposit_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    decision: Annotated[str, Form()] = "",
) -> Response:
    """The payer confirms (or cancels); the sandbox then calls back, over HTTP, with a
    signed notification, as a real provider would."""
    provider = _sandbox(runtime)
    deposit = await deposits.get_deposit(session, deposit_id)
    body = provider.notice_body(
        order_id=str(deposit.id),
        amount=deposit.amount,
        status="paid" if decision == "pay" else "closed",
    )
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url=str(request.base_url)) as http:
        answer = await http.post(
            f"/api/v1/payments/{provider.name}/notify",
            content=body,
            headers={"X-Signature": provider.sign(body), "Content-Type": "application/json"},
        )
    done = N_("Top-up received.") if answer.status_code == 200 and decision == "pay" else None
    target = f"/orgs/{deposit.org_id}"
    if done:
        target += "?done=" + done.replace(" ", "%20")
    return RedirectResponse(target, status_code=303)
