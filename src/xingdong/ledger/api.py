"""REST endpoints of the ledger: organisation balances and top-ups, the payment
provider's notifications, and the operators' check."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field, computed_field

from xingdong.core.client_signals import signals_of
from xingdong.core.pagination import Page, next_cursor
from xingdong.core.policy import Action, Actor, can, require
from xingdong.core.runtime import Runtime
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
from xingdong.risk import service as risk
from xingdong.web.deps import (
    ApiActor,
    ApiPerson,
    CursorQuery,
    DbSession,
    IdempotencyKey,
    LimitQuery,
    RuntimeDep,
)

router = APIRouter(prefix="/api/v1", tags=["ledger"])


class VerifyOut(BaseModel):
    ok: bool
    accounts: int
    transfers: int
    problems: list[str]


class BalanceOut(BaseModel):
    currency: str
    available_fen: int
    reserved_fen: int


class DepositIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_fen: int = Field(strict=True, gt=0, le=10**12)


class DepositOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    org_id: UUID
    amount: int
    """The amount in fen; ``amount_fen`` says the same, in the request's words."""
    status: str
    created_at: datetime
    paid_at: datetime | None
    checkout_url: str | None = None
    expires_at: datetime | None = None
    """While it waits for payment: when it closes on its own if still unpaid."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def amount_fen(self) -> int:
        return self.amount


@router.get("/ops/ledger/verify", tags=["ops"])
async def verify_ledger(actor: ApiActor, session: DbSession) -> VerifyOut:
    """Check every ledger invariant now (operators)."""
    require(actor, Action.STAFF_CONSOLE)
    report = await service.verify(session)
    return VerifyOut(
        ok=report.ok,
        accounts=report.accounts,
        transfers=report.transfers,
        problems=report.problems,
    )


@router.get("/orgs/{org_id}/balance")
async def organisation_balance(org_id: UUID, actor: ApiActor, session: DbSession) -> BalanceOut:
    """The organisation's balance: what it may spend, and what is reserved."""
    require(actor, Action.ORG_READ, org_id=org_id)
    balance = await deposits.org_balance(session, org_id)
    return BalanceOut(
        currency=balance.asset,
        available_fen=balance.available,
        reserved_fen=balance.debits_pending,
    )


@router.post("/orgs/{org_id}/deposits", status_code=status.HTTP_201_CREATED)
async def create_deposit(
    org_id: UUID,
    body: DepositIn,
    actor: ApiActor,
    session: DbSession,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey,
) -> DepositOut:
    """Start a top-up (owners). Answers with the provider's checkout address; the balance
    grows when the provider confirms payment. Retrying with the same ``Idempotency-Key``
    returns the same deposit."""
    require(actor, Action.ORG_MANAGE_FUNDS, org_id=org_id)
    deposit = await deposits.request_deposit(
        session,
        org_id=org_id,
        requested_by=actor.person_id,
        amount=body.amount_fen,
        idempotency_key=idempotency_key,
        provider=runtime.payments.name,
        min_amount=runtime.settings.deposit_min_fen,
        max_amount=runtime.settings.deposit_max_fen,
    )
    return deposit_out(deposit, runtime, actor)


@router.post("/orgs/{org_id}/deposits/{deposit_id}/close")
async def close_deposit(
    org_id: UUID, deposit_id: UUID, actor: ApiActor, session: DbSession, runtime: RuntimeDep
) -> DepositOut:
    """Close a top-up waiting for payment (owners): its checkout can no longer be paid.
    Closing it again answers the same; a paid one is ``deposit_not_open`` (refund it)."""
    deposit = await deposits.close_deposit(
        session, actor=actor, org_id=org_id, deposit_id=deposit_id, payments=runtime.payments
    )
    return deposit_out(deposit, runtime, actor)


@router.post("/orgs/{org_id}/deposits/{deposit_id}/check")
async def check_deposit(
    org_id: UUID, deposit_id: UUID, actor: ApiActor, session: DbSession, runtime: RuntimeDep
) -> DepositOut:
    """Ask the payment provider about a top-up still waiting for payment (owners): one it
    says was paid is credited now, as its notice would have been (a notice lost on the
    way). One already paid or closed is answered as it is."""
    deposit = await deposits.check_deposit(
        session, actor=actor, org_id=org_id, deposit_id=deposit_id, payments=runtime.payments
    )
    return deposit_out(deposit, runtime, actor)


def deposit_out(deposit: Deposit, runtime: Runtime, actor: Actor) -> DepositOut:
    """A top-up as the API shows it: while it waits for payment, with the address to pay
    it at, for those who may top up (the link is not lost with the first answer)."""
    out = DepositOut.model_validate(deposit)
    out.expires_at = deposits.expires_at(deposit, runtime.settings.deposit_expiry_hours)
    if deposit.status == "created" and can(actor, Action.ORG_MANAGE_FUNDS, org_id=deposit.org_id):
        out.checkout_url = runtime.payments.checkout_url(
            order_id=str(deposit.id), amount=deposit.amount
        )
    return out


class RefundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    deposit_id: UUID
    amount: int
    """The amount in fen; ``amount_fen`` says the same, in the request's words."""
    status: str
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def amount_fen(self) -> int:
        return self.amount


class DepositPageOut(BaseModel):
    items: list[DepositOut]
    next_cursor: str | None = None


DepositStatus = Literal["created", "paid", "closed"]


@router.get("/orgs/{org_id}/deposits")
async def list_deposits(
    org_id: UUID,
    actor: ApiActor,
    session: DbSession,
    runtime: RuntimeDep,
    status: DepositStatus | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 20,
) -> DepositPageOut:
    """The organisation's top-ups, newest first (``status`` keeps one state)."""
    require(actor, Action.ORG_READ, org_id=org_id)
    page = await deposits.deposits_page(session, org_id, status=status, cursor=cursor, limit=limit)
    return DepositPageOut(
        items=[deposit_out(d, runtime, actor) for d in page.items], next_cursor=page.next_cursor
    )


class DepositWithRefundsOut(DepositOut):
    refunds: list[RefundOut]
    """Its refunds, oldest first, failed ones included (their money came back)."""
    refundable_fen: int
    """What can still be refunded: nothing unless it was paid, less what refunds took."""


@router.get("/orgs/{org_id}/deposits/{deposit_id}")
async def read_deposit(
    org_id: UUID, deposit_id: UUID, actor: ApiActor, session: DbSession, runtime: RuntimeDep
) -> DepositWithRefundsOut:
    """One top-up with its refunds and what can still be refunded (members)."""
    require(actor, Action.ORG_READ, org_id=org_id)
    deposit = await deposits.get_deposit(session, deposit_id, org_id=org_id)
    made = (await refunds.refunds_of_deposits(session, [deposit.id])).get(deposit.id, [])
    return DepositWithRefundsOut(
        **deposit_out(deposit, runtime, actor).model_dump(exclude={"amount_fen"}),
        refunds=[RefundOut.model_validate(r) for r in made],
        refundable_fen=refunds.left_to_refund(deposit, made),
    )


class MovementOut(BaseModel):
    transfer_id: int
    at: datetime
    account: str
    amount: int
    asset: str
    code: str
    reference: str | None
    state: str


class WalletOut(BaseModel):
    pending_fen: int
    available_fen: int
    reserved_fen: int
    points: int
    movements: list[MovementOut]
    next_cursor: str | None = None


class PayoutAccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(max_length=10)
    """``alipay`` or ``bank``."""
    number: str = Field(max_length=60)
    holder_name: str = Field(max_length=60)
    """The holder's name as the bank or Alipay has it: payouts go to this name."""

    def form(self) -> withdrawals.PayoutAccountForm:
        return withdrawals.PayoutAccountForm(self.kind, self.number, self.holder_name)


class PayoutAccountOut(BaseModel):
    kind: str
    masked: str
    holder_masked: str | None
    """The holder's name, its first character only (None: bound before names were asked)."""

    @classmethod
    def of(cls, account: PayoutAccount | OrgPayoutAccount) -> PayoutAccountOut:
        return cls(
            kind=account.kind,
            masked=account.masked,
            holder_masked=wallets.mask_name(account.holder_name),
        )


class WithdrawalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_fen: int = Field(strict=True, gt=0, le=10**12)


class WithdrawalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    person_id: UUID
    org_id: UUID | None = Field(description="Set when the money is an organisation's.")
    amount: int
    fee: int
    status: str
    approvals_needed: int
    review_reasons: list[str]
    failure_reason: str | None
    created_at: datetime


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(max_length=200)


@router.get("/me/wallet")
async def my_wallet(
    person: ApiPerson, session: DbSession, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> WalletOut:
    """Balances (in hold, withdrawable, reserved for withdrawals, points) and a page of
    movements, newest first; ``next_cursor`` leads to older ones."""
    found = await wallets.wallet(session, person.id, limit=limit, cursor=cursor)
    return WalletOut(
        pending_fen=found.pending,
        available_fen=found.available,
        reserved_fen=found.reserved,
        points=found.points,
        movements=[MovementOut(**vars(m)) for m in found.movements],
        next_cursor=found.next_cursor,
    )


@router.put("/me/payout-account", status_code=status.HTTP_201_CREATED)
async def bind_payout_account(
    body: PayoutAccountIn, person: ApiPerson, session: DbSession, runtime: RuntimeDep
) -> PayoutAccountOut:
    """Bind the account withdrawals go to (once)."""
    account = await withdrawals.bind_payout_account(
        session, person_id=person.id, form=body.form(), settings=runtime.settings
    )
    return PayoutAccountOut.of(account)


@router.post("/me/withdrawals", status_code=status.HTTP_201_CREATED)
async def request_withdrawal(
    request: Request,
    body: WithdrawalIn,
    person: ApiPerson,
    session: DbSession,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey,
) -> WithdrawalOut:
    """Withdraw to the bound payout account (fee included in the amount). The risk check
    runs first: a block refuses, a review holds the withdrawal for an operator."""
    risk_reasons = await risk.screen_withdrawal(
        session, person_id=person.id, amount_fen=body.amount_fen, signals=signals_of(request),
        settings=runtime.settings,
    )  # fmt: skip
    withdrawal = await withdrawals.request_withdrawal(
        session,
        person_id=person.id,
        amount=body.amount_fen,
        idempotency_key=idempotency_key,
        settings=runtime.settings,
        risk_reasons=risk_reasons,
    )
    return WithdrawalOut.model_validate(withdrawal)


@router.get("/me/withdrawals")
async def my_withdrawals(
    person: ApiPerson, session: DbSession, cursor: CursorQuery = None, limit: LimitQuery = 20
) -> Page[WithdrawalOut]:
    """Your own withdrawals, newest first, a page at a time."""
    rows = await withdrawals.withdrawals_of(session, person.id, limit=limit + 1, cursor=cursor)
    return withdrawals_page(rows, limit)


def withdrawals_page(rows: list[Withdrawal], limit: int) -> Page[WithdrawalOut]:
    """A page of withdrawals read with ``limit + 1`` rows."""
    return Page[WithdrawalOut](
        items=[WithdrawalOut.model_validate(w) for w in rows[:limit]],
        next_cursor=next_cursor(rows, limit),
    )


@router.get("/ops/withdrawals", tags=["ops"])
async def withdrawals_to_review(actor: ApiActor, session: DbSession) -> list[WithdrawalOut]:
    """Withdrawals waiting for an operator (operators)."""
    return [
        WithdrawalOut.model_validate(w)
        for w in await withdrawals.review_queue(session, actor=actor)
    ]


@router.post("/ops/withdrawals/{withdrawal_id}/approve", tags=["ops"])
async def approve_withdrawal(
    withdrawal_id: UUID, actor: ApiActor, session: DbSession
) -> WithdrawalOut:
    """Approve; above the four-eyes amount a second, different operator must too."""
    withdrawal = await withdrawals.approve_withdrawal(
        session, actor=actor, withdrawal_id=withdrawal_id
    )
    return WithdrawalOut.model_validate(withdrawal)


@router.post("/ops/withdrawals/{withdrawal_id}/reject", tags=["ops"])
async def reject_withdrawal(
    withdrawal_id: UUID, body: RejectIn, actor: ApiActor, session: DbSession
) -> WithdrawalOut:
    """Reject with a reason; the money goes back to the wallet."""
    withdrawal = await withdrawals.reject_withdrawal(
        session, actor=actor, withdrawal_id=withdrawal_id, reason=body.reason
    )
    return WithdrawalOut.model_validate(withdrawal)


class AdjustmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account_key: str = Field(max_length=120)
    amount_fen: int = Field(strict=True, ge=-(10**12), le=10**12)
    reason: str = Field(max_length=200)


class AdjustmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    account_key: str
    amount: int
    reason: str
    status: str
    requested_by: UUID
    approved_by: UUID | None
    created_at: datetime


class ReconciliationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    checked: int
    differences: list[dict[str, object]]
    created_at: datetime


@router.get("/ops/adjustments", tags=["ops"])
async def list_adjustments(actor: ApiActor, session: DbSession) -> list[AdjustmentOut]:
    """Adjustments waiting for a second operator."""
    rows = await adjustments.pending_adjustments(session, actor=actor)
    return [AdjustmentOut.model_validate(a) for a in rows]


@router.post("/ops/adjustments", tags=["ops"], status_code=status.HTTP_201_CREATED)
async def request_adjustment(
    body: AdjustmentIn, actor: ApiActor, session: DbSession
) -> AdjustmentOut:
    """Ask for a manual correction (positive credits the account); another operator must
    approve it before money moves."""
    adjustment = await adjustments.request_adjustment(
        session,
        actor=actor,
        account_key=body.account_key,
        amount=body.amount_fen,
        reason=body.reason,
    )
    return AdjustmentOut.model_validate(adjustment)


@router.post("/ops/adjustments/{adjustment_id}/approve", tags=["ops"])
async def approve_adjustment(
    adjustment_id: UUID, actor: ApiActor, session: DbSession
) -> AdjustmentOut:
    adjustment = await adjustments.approve_adjustment(
        session, actor=actor, adjustment_id=adjustment_id
    )
    return AdjustmentOut.model_validate(adjustment)


@router.post("/ops/adjustments/{adjustment_id}/reject", tags=["ops"])
async def reject_adjustment(
    adjustment_id: UUID, actor: ApiActor, session: DbSession
) -> AdjustmentOut:
    adjustment = await adjustments.reject_adjustment(
        session, actor=actor, adjustment_id=adjustment_id
    )
    return AdjustmentOut.model_validate(adjustment)


@router.post("/ops/reconciliation", tags=["ops"], status_code=status.HTTP_201_CREATED)
async def run_reconciliation(
    actor: ApiActor, session: DbSession, runtime: RuntimeDep
) -> ReconciliationOut:
    """Compare the providers' records with the ledger now (operators)."""
    require(actor, Action.APPROVE_MONEY)
    report = await reconciliation.reconcile(
        session,
        payments=runtime.payments,
        payouts=runtime.payouts,
        days=runtime.settings.reconciliation_days,
    )
    return ReconciliationOut.model_validate(report)


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_fen: int = Field(strict=True, gt=0, le=10**12)


@router.post("/orgs/{org_id}/deposits/{deposit_id}/refunds", status_code=status.HTTP_201_CREATED)
async def refund_deposit(
    org_id: UUID,
    deposit_id: UUID,
    body: RefundIn,
    actor: ApiActor,
    session: DbSession,
    idempotency_key: IdempotencyKey,
) -> RefundOut:
    """Give unspent money back to the payer of a paid top-up (owners). The amount is
    reserved now and refunded by the provider shortly after."""
    refund = await refunds.request_refund(
        session,
        actor=actor,
        org_id=org_id,
        deposit_id=deposit_id,
        amount=body.amount_fen,
        idempotency_key=idempotency_key,
    )
    return RefundOut.model_validate(refund)
