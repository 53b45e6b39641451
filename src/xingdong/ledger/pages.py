"""Pages of the ledger: topping up an organisation's balance, and the sandbox payment
provider's checkout page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

import httpx
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from xingdong.campaigns.models import Campaign
from xingdong.core.client_signals import signals_of
from xingdong.core.errors import FieldError, ValidationFailed, XingdongError
from xingdong.core.i18n import N_
from xingdong.core.ids import new_id
from xingdong.core.numbers import fen_of_yuan
from xingdong.core.policy import Action, require
from xingdong.creators import agencies
from xingdong.identity.models import Organisation, Person
from xingdong.ledger import (
    adjustments,
    deposits,
    reconciliation,
    refunds,
    service,
    wallets,
    withdrawals,
)
from xingdong.ledger.models import Deposit, OrgPayoutAccount, PayoutAccount, Withdrawal
from xingdong.ledger.payments import SandboxPaymentProvider
from xingdong.ledger.references import reference_names
from xingdong.risk import service as risk
from xingdong.risk.reasons import REAL_TIME as RISK_REASONS
from xingdong.web.deps import (
    CsrfChecked,
    CursorQuery,
    DbSession,
    PageActor,
    RuntimeDep,
    attempt,
    form_key,
    pressed,
)
from xingdong.web.templating import redirect, render
from xingdong.work.models import Assignment

router = APIRouter(include_in_schema=False)


def yuan_to_fen(raw: str, field: str = "amount", *, positive: bool = True) -> int:
    """Typed yuan as fen; ``positive``: 0 or less is refused here too (otherwise the
    caller's range check says what the range is)."""
    fen = fen_of_yuan(raw)
    if fen is None or (positive and fen <= 0):
        raise ValidationFailed(
            detail=N_("Please correct the marked fields."),
            fields=[FieldError(field, N_("Enter an amount in yuan, like 500 or 99.50."))],
        )
    return fen


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
                amount=yuan_to_fen(amount, positive=False),
                idempotency_key=form_key(form_id),
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


@router.get("/orgs/{org_id}/deposits/{deposit_id}/pay")
async def resume_top_up(
    org_id: UUID, deposit_id: UUID, session: DbSession, runtime: RuntimeDep, actor: PageActor
) -> Response:
    """Back to the provider's checkout for a top-up left unpaid (the tab closed, the
    phone locked); one already paid or closed shows the organisation page instead."""
    # The provider first: a payer coming back to a top-up they paid (its notice lost) must
    # not be sent to pay it again.
    deposit = await deposits.check_deposit(
        session, actor=actor, org_id=org_id, deposit_id=deposit_id, payments=runtime.payments
    )
    if said := _no_longer_waiting(deposit):
        return redirect(f"/orgs/{org_id}", said)
    target = runtime.payments.checkout_url(order_id=str(deposit.id), amount=deposit.amount)
    return RedirectResponse(target, status_code=303)


@router.post("/orgs/{org_id}/deposits/{deposit_id}/check", dependencies=[CsrfChecked])
async def check_top_up(
    org_id: UUID,
    deposit_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    top_ups: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """ "I have paid": ask the provider about a top-up still shown as waiting, and credit
    it if it was paid. ``top_ups``: the page of older top-ups the form was on."""
    deposit = await deposits.check_deposit(
        session, actor=actor, org_id=org_id, deposit_id=deposit_id, payments=runtime.payments
    )
    not_yet = N_(
        "The payment provider has no payment for this top-up yet. If you have just paid, "
        "check again in a minute."
    )
    return redirect(
        _top_ups_page(org_id, top_ups),
        _no_longer_waiting(deposit) or not_yet,
        tone="ok" if deposit.status == "paid" else "info",
    )


def _no_longer_waiting(deposit: Deposit) -> str | None:
    """What the page says of a top-up asked about that no longer waits for payment."""
    if deposit.status == "paid":
        return N_("This top-up was already paid: it is in the balance.")
    if deposit.status == "closed":
        return N_("This top-up is no longer waiting for payment.")
    return None


@router.post("/orgs/{org_id}/deposits/{deposit_id}/refunds", dependencies=[CsrfChecked])
async def refund_top_up(
    request: Request,
    org_id: UUID,
    deposit_id: UUID,
    session: DbSession,
    actor: PageActor,
    amount: Annotated[str, Form()] = "",
    form_id: Annotated[str, Form()] = "",
    top_ups: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Give part or all of a paid top-up back to its payer. The form's one-off id keys the
    refund, so pressing the button twice refunds once. ``top_ups``: the page of older
    top-ups the form was on, shown again after."""
    try:
        await attempt(
            session,
            lambda: refunds.request_refund(
                session,
                actor=actor,
                org_id=org_id,
                deposit_id=deposit_id,
                amount=yuan_to_fen(amount, field=f"refund-{deposit_id}"),
                idempotency_key=f"{form_key(form_id)}:{deposit_id}",
            ),
        )
    except XingdongError as exc:
        from xingdong.identity.pages import org_page_with_error

        return await org_page_with_error(
            request, session, actor, org_id, exc, top_ups_cursor=top_ups or None
        )
    return redirect(_top_ups_page(org_id, top_ups), N_("The refund is on its way to the payer."))


@router.post("/orgs/{org_id}/deposits/{deposit_id}/close", dependencies=[CsrfChecked])
async def close_top_up(
    request: Request,
    org_id: UUID,
    deposit_id: UUID,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    top_ups: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Close a top-up left unpaid (the page asks first); closing twice is closing once.
    ``top_ups``: the page of older top-ups the form was on, shown again after."""
    try:
        await attempt(
            session,
            lambda: deposits.close_deposit(
                session,
                actor=actor,
                org_id=org_id,
                deposit_id=deposit_id,
                payments=runtime.payments,
            ),
        )
    except XingdongError as exc:
        from xingdong.identity.pages import org_page_with_error

        return await org_page_with_error(
            request, session, actor, org_id, exc, top_ups_cursor=top_ups or None
        )
    return redirect(
        _top_ups_page(org_id, top_ups), N_("The top-up was closed: it can no longer be paid.")
    )


def _top_ups_page(org_id: UUID, cursor: str) -> str:
    """The organisation page at its top-ups: the older ones of ``cursor``, when given."""
    if not cursor:
        return f"/orgs/{org_id}"
    return f"/orgs/{org_id}?{urlencode({'top_ups': cursor})}#top-ups"


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
    pressed(decision, ("pay", "cancel"))
    deposit = await deposits.get_deposit(session, deposit_id)
    record = await provider.query_order(order_id=str(deposit.id))
    if record is not None and record.status == "closed":
        # Closed by the organisation (or cancelled here) in another tab: as a real
        # provider, the sandbox no longer takes money for it.
        return redirect(f"/orgs/{deposit.org_id}", N_("This top-up was closed; nothing was paid."))
    await provider.record_payment(
        order_id=str(deposit.id),
        amount=deposit.amount,
        status="paid" if decision == "pay" else "closed",
    )
    # What the provider recorded, not what was asked: an order closed a moment before (by
    # its organisation, or as it expired) stays closed, and is told so.
    recorded = await provider.query_order(order_id=str(deposit.id))
    status = recorded.status if recorded is not None else "closed"
    if status == "closed" and decision == "pay":
        return redirect(f"/orgs/{deposit.org_id}", N_("This top-up was closed; nothing was paid."))
    body = provider.notice_body(order_id=str(deposit.id), amount=deposit.amount, status=status)
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url=str(request.base_url)) as http:
        answer = await http.post(
            f"/api/v1/payments/{provider.name}/notify",
            content=body,
            headers={"X-Signature": provider.sign(body), "Content-Type": "application/json"},
        )
    if answer.status_code != 200:
        done = None
    elif decision == "pay":
        done = N_("Top-up received.")
    else:
        done = N_("The top-up was cancelled at the checkout; nothing was paid.")
    return redirect(f"/orgs/{deposit.org_id}", done)


@router.get("/wallet", response_class=HTMLResponse)
async def wallet_page(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    cursor: CursorQuery = None,
    withdrawals: CursorQuery = None,
) -> Response:
    """Balances and movements (``cursor``: older movements), the payout account and the
    withdrawals (``withdrawals``: older ones)."""
    return render(
        request,
        "wallet.html",
        await _wallet_context(session, runtime, actor, cursor, withdrawals),
    )


def _rewarded_tasks(
    movements: list[wallets.Movement], keep: Callable[[wallets.Movement], bool]
) -> set[UUID]:
    """The tasks whose reward movements ``keep`` takes."""
    return {
        found
        for m in movements
        if m.code == "task_reward" and keep(m) and (found := _assignment_of(m.reference))
    }


async def _hold_ends(
    session: DbSession, person_id: UUID, movements: list[wallets.Movement]
) -> dict[str, datetime]:
    """When each reward shown still in hold becomes withdrawable, by the movement's
    reference (the task)."""
    ids = _rewarded_tasks(movements, lambda m: m.account == "pending")
    if not ids:
        return {}
    rows = await session.execute(
        select(Assignment.id, Assignment.hold_until).where(
            Assignment.id.in_(ids),
            Assignment.person_id == person_id,
            Assignment.status.in_(("approved", "disputed")),
        )
    )
    return {f"assignment:{aid}": until for aid, until in rows if until is not None}


async def _under_appeal(
    session: DbSession, person_id: UUID, movements: list[wallets.Movement]
) -> set[str]:
    """The references (tasks) of rewards shown as let go whose rejection the person has
    appealed: the reward may still come, from the campaign, if the appeal is upheld."""
    ids = _rewarded_tasks(movements, lambda m: m.state == "released")
    if not ids:
        return set()
    rows = await session.scalars(
        select(Assignment.id).where(
            Assignment.id.in_(ids),
            Assignment.person_id == person_id,
            Assignment.status == "disputed",
        )
    )
    return {f"assignment:{aid}" for aid in rows}


async def _wallet_context(
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    cursor: str | None = None,
    withdrawals_cursor: str | None = None,
) -> dict[str, object]:
    wallet = await wallets.wallet(session, actor.person_id, cursor=cursor)
    return {
        "wallet": wallet,
        "hold_ends": await _hold_ends(session, actor.person_id, wallet.movements),
        "under_appeal": await _under_appeal(session, actor.person_id, wallet.movements),
        # A correction's reason, as the operator wrote it for the wallet's holder.
        "reasons": await reference_names(
            session,
            [m.reference for m in wallet.movements if m.code == "adjustment" and m.reference],
        ),
        "older": bool(cursor),
        "payout": await withdrawals.payout_account(session, actor.person_id),
        "withdrawals": await withdrawals.withdrawal_list(
            session, person_id=actor.person_id, cursor=withdrawals_cursor
        ),
        "settings": runtime.settings,
        "form_id": new_id(),
        "form": {},
        "movement_labels": wallets.MOVEMENT_LABELS,
        "state_label": wallets.state_label,
        **wallets.PAYOUT_CARD_LABELS,
        "task_link": task_link,
        "agency_cut": await agencies.agency_cut(session, person_id=actor.person_id),
    }


def _assignment_of(reference: str | None) -> UUID | None:
    """The task a movement's reference names (``assignment:<id>``), if it names one."""
    kind, _, key = (reference or "").partition(":")
    if kind != "assignment":
        return None
    try:
        return UUID(key)
    except ValueError:
        return None


def task_link(reference: str | None) -> str | None:
    """The person's own page of the task a movement pays for. Other references (the
    withdrawal listed on the same page, an operator's correction) lead nowhere a person
    can open, so the page leaves them out."""
    found = _assignment_of(reference)
    return None if found is None else f"/me/tasks/{found}"


@router.post("/wallet/payout-account", dependencies=[CsrfChecked])
async def wallet_bind(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    kind: Annotated[str, Form()] = "",
    number: Annotated[str, Form()] = "",
    number_again: Annotated[str, Form()] = "",
    holder_name: Annotated[str, Form()] = "",
) -> Response:
    form = withdrawals.PayoutAccountForm(kind, number, holder_name, number_again)
    try:
        await attempt(
            session,
            lambda: withdrawals.bind_payout_account(
                session, person_id=actor.person_id, form=form, settings=runtime.settings
            ),
        )
    except XingdongError as exc:
        context = await _wallet_context(session, runtime, actor)
        context["form"] = {"kind": kind, "holder_name": holder_name}
        return render(request, "wallet.html", context, error=exc)
    return redirect("/wallet", N_("Your payout account is bound."))


@router.post("/wallet/withdrawals", dependencies=[CsrfChecked])
async def wallet_withdraw(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    actor: PageActor,
    amount: Annotated[str, Form()] = "",
    form_id: Annotated[str, Form()] = "",
) -> Response:
    signals = signals_of(request, await request.form())

    async def withdraw() -> Withdrawal:
        key = form_key(form_id)
        fen = yuan_to_fen(amount)
        risk_reasons = await risk.screen_withdrawal(
            session, person_id=actor.person_id, amount_fen=fen, signals=signals,
            settings=runtime.settings,
        )  # fmt: skip
        return await withdrawals.request_withdrawal(
            session,
            person_id=actor.person_id,
            amount=fen,
            idempotency_key=key,
            settings=runtime.settings,
            risk_reasons=risk_reasons,
        )

    try:
        withdrawal = await attempt(session, withdraw)
    except XingdongError as exc:
        context = await _wallet_context(session, runtime, actor)
        context["form"] = {"amount": amount}
        return render(request, "wallet.html", context, error=exc)
    message = (
        N_("Withdrawal requested; it is on its way.")
        if withdrawal.status == "approved"
        else N_("Withdrawal requested; an operator will review it.")
    )
    return redirect("/wallet", message)


@router.get("/ops/money", response_class=HTMLResponse)
async def ops_money(
    request: Request,
    session: DbSession,
    actor: PageActor,
    account: Annotated[str, Query(max_length=120)] = "",
) -> Response:
    """Operators: money held by the platform, the ledger check, and withdrawals to review.
    ``account``: a ledger account to ask an adjustment of (a person's page links here)."""
    typed = {"account_key": account} if account else None
    return render(request, "ops_money.html", await _money_context(session, actor, typed))


HOLDER_PAGES = {"person": "/ops/people/{}", "org": "/orgs/{}", "agency": "/orgs/{}"}
HOLDER_PAGES |= {"campaign": "/campaigns/{}"}
"""Where the holder of a ledger account of each kind is seen (the key's first part)."""


def _holder_of(key: str) -> tuple[str, UUID] | None:
    """The kind and id of the holder a ledger account key names (``person:<id>:…``)."""
    kind, _, rest = key.partition(":")
    if kind not in HOLDER_PAGES:
        return None
    try:
        return kind, UUID(rest.partition(":")[0])
    except ValueError:
        return None


async def _holders(session: DbSession, keys: set[str]) -> dict[str, tuple[str, str]]:
    """Whose each ledger account is, as a name and the page to see them on: a second
    operator approves an adjustment knowing whose money moves."""
    held = {key: holder for key in keys if (holder := _holder_of(key)) is not None}
    wanted = {kind: {i for k, i in held.values() if k == kind} for kind in HOLDER_PAGES}
    names: dict[UUID, str] = {}
    if wanted["person"]:
        query = select(Person.id, Person.display_name).where(Person.id.in_(wanted["person"]))
        names |= dict((await session.execute(query)).all())
    if orgs := wanted["org"] | wanted["agency"]:
        query = select(Organisation.id, Organisation.name).where(Organisation.id.in_(orgs))
        names |= dict((await session.execute(query)).all())
    if wanted["campaign"]:
        query = select(Campaign.id, Campaign.title).where(Campaign.id.in_(wanted["campaign"]))
        names |= dict((await session.execute(query)).all())
    return {
        key: (names[holder], HOLDER_PAGES[kind].format(holder))
        for key, (kind, holder) in held.items()
        if holder in names
    }


async def _money_context(
    session: DbSession, actor: PageActor, adjustment_form: dict[str, str] | None = None
) -> dict[str, object]:
    require(actor, Action.APPROVE_MONEY)
    queue = await withdrawals.review_queue(session, actor=actor)
    pending = await adjustments.pending_adjustments(session, actor=actor)
    return {
        "totals": await service.totals_by_kind(session),
        "report": await service.verify(session),
        "queue": queue,
        "asked_by": await _who_asked(session, queue),
        "queue_size": await withdrawals.review_queue_size(session, actor=actor),
        "reason_labels": {
            **withdrawals.REVIEW_REASON_LABELS,
            **{f"risk:{code}": text for code, text in RISK_REASONS.items()},
        },
        "reconciliation": await reconciliation.latest_report(session),
        "difference_labels": reconciliation.DIFFERENCE_LABELS,
        "adjustments": pending,
        "asked_for": {
            p.id: p
            for p in await session.scalars(
                select(Person).where(Person.id.in_({a.requested_by for a in pending}))
            )
        },
        "adjustment_form": adjustment_form or {},
        "holders": await _holders(session, {a.account_key for a in pending}),
        "me": actor.person_id,
        "reasons_typed": {},
    }


def _account_and_holder(account: PayoutAccount | OrgPayoutAccount) -> str:
    holder = wallets.mask_name(account.holder_name)
    return f"{account.masked} · {holder}" if holder else account.masked


async def _who_asked(
    session: DbSession, queue: list[Withdrawal]
) -> dict[UUID, tuple[Person | None, Organisation | None, str]]:
    """Each withdrawal's person, the organisation whose money it is (if any), and the
    payout account it goes to, masked: an operator decides knowing whose money leaves
    and where to."""
    people = {
        p.id: p
        for p in await session.scalars(
            select(Person).where(Person.id.in_({w.person_id for w in queue}))
        )
    }
    orgs = {
        o.id: o
        for o in await session.scalars(
            select(Organisation).where(Organisation.id.in_({w.org_id for w in queue if w.org_id}))
        )
    }
    to_people = {
        a.person_id: _account_and_holder(a)
        for a in await session.scalars(
            select(PayoutAccount).where(PayoutAccount.person_id.in_(people))
        )
    }
    to_orgs = {
        a.org_id: _account_and_holder(a)
        for a in await session.scalars(
            select(OrgPayoutAccount).where(OrgPayoutAccount.org_id.in_(orgs))
        )
    }
    return {
        w.id: (
            people.get(w.person_id),
            orgs.get(w.org_id) if w.org_id else None,
            to_orgs.get(w.org_id, "") if w.org_id else to_people.get(w.person_id, ""),
        )
        for w in queue
    }


@router.post("/ops/withdrawals/{withdrawal_id}", dependencies=[CsrfChecked])
async def ops_decide_withdrawal(
    request: Request,
    withdrawal_id: UUID,
    session: DbSession,
    actor: PageActor,
    decision: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    try:
        if pressed(decision, ("approve", "reject")) == "approve":
            await attempt(
                session,
                lambda: withdrawals.approve_withdrawal(
                    session, actor=actor, withdrawal_id=withdrawal_id
                ),
            )
        else:
            await attempt(
                session,
                lambda: withdrawals.reject_withdrawal(
                    session, actor=actor, withdrawal_id=withdrawal_id, reason=reason
                ),
            )
    except XingdongError as exc:
        context = await _money_context(session, actor)
        # The reason typed stays in its row's field, to correct rather than type again.
        context["reasons_typed"] = {str(withdrawal_id): reason}
        return render(request, "ops_money.html", context, error=exc)
    return redirect("/ops/money", N_("Decision recorded."))


@router.post("/ops/reconciliation", dependencies=[CsrfChecked])
async def ops_reconcile_now(session: DbSession, runtime: RuntimeDep, actor: PageActor) -> Response:
    """Compare the providers' records with the ledger now, instead of at the next hour."""
    require(actor, Action.APPROVE_MONEY)
    report = await reconciliation.reconcile(
        session,
        payments=runtime.payments,
        payouts=runtime.payouts,
        days=runtime.settings.reconciliation_days,
    )
    done = (
        N_("Reconciled: differences found, listed below.")
        if report.differences
        else N_("Reconciled: no differences.")
    )
    return redirect("/ops/money#reconciliation", done)


@router.post("/ops/adjustments", dependencies=[CsrfChecked])
async def ops_request_adjustment(
    request: Request,
    session: DbSession,
    actor: PageActor,
    account_key: Annotated[str, Form()] = "",
    amount: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    typed = {"account_key": account_key, "amount": amount, "reason": reason}
    fen = fen_of_yuan(amount)
    try:
        if fen is None:
            raise ValidationFailed(
                detail=N_("Please correct the marked fields."),
                fields=adjustments.request_problems(account_key, None, reason),
            )
        await attempt(
            session,
            lambda: adjustments.request_adjustment(
                session, actor=actor, account_key=account_key.strip(), amount=fen,
                reason=reason,
            ),
        )  # fmt: skip
    except XingdongError as exc:
        return render(
            request, "ops_money.html", await _money_context(session, actor, typed), error=exc
        )
    return redirect(
        "/ops/money#adjustments", N_("Adjustment asked for: another operator must approve it.")
    )


@router.post("/ops/adjustments/{adjustment_id}", dependencies=[CsrfChecked])
async def ops_decide_adjustment(
    request: Request,
    adjustment_id: UUID,
    session: DbSession,
    actor: PageActor,
    decision: Annotated[str, Form()] = "",
) -> Response:
    try:
        if pressed(decision, ("approve", "reject")) == "approve":
            await attempt(
                session,
                lambda: adjustments.approve_adjustment(
                    session, actor=actor, adjustment_id=adjustment_id
                ),
            )
        else:
            await attempt(
                session,
                lambda: adjustments.reject_adjustment(
                    session, actor=actor, adjustment_id=adjustment_id
                ),
            )
    except XingdongError as exc:
        return render(request, "ops_money.html", await _money_context(session, actor), error=exc)
    done = N_("Adjustment applied.") if decision == "approve" else N_("Adjustment rejected.")
    return redirect("/ops/money#adjustments", done)
