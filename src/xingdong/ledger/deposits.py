"""Brand top-ups: a deposit is requested, the payer pays at the provider, and the
provider's signed notification moves the money into the organisation's balance.

Duplicate and out-of-order notifications are harmless: the ledger movement is keyed by
the deposit, and a deposit, once paid, stays paid.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.audit import record_audit
from xingdong.core.clock import utcnow
from xingdong.core.errors import Conflict, FieldError, NotFound
from xingdong.core.i18n import N_
from xingdong.core.ids import new_id
from xingdong.ledger import service as ledger
from xingdong.ledger.errors import IdempotencyKeyReused, InvalidTransfer
from xingdong.ledger.models import Deposit
from xingdong.ledger.payments import PaymentNotice

DEPOSITS_ACCOUNT = "external:deposits"


class AmountMismatch(Conflict):
    code = "amount_mismatch"
    title = N_("The provider reported a different amount")


def org_account(org_id: UUID) -> str:
    return f"org:{org_id}:available"


async def open_org_account(session: AsyncSession, org_id: UUID) -> None:
    await ledger.open_account(session, ledger.AccountSpec(DEPOSITS_ACCOUNT))
    await ledger.open_account(session, ledger.AccountSpec(org_account(org_id), no_overdraft=True))


async def org_balance(session: AsyncSession, org_id: UUID) -> ledger.Balance:
    account = await ledger.account_by_key(session, org_account(org_id))
    if account is None:
        return ledger.Balance(org_account(org_id), "CNY", 0, 0, 0, 0)
    return ledger.balance_of(account)


async def request_deposit(
    session: AsyncSession,
    *,
    org_id: UUID,
    requested_by: UUID,
    amount: int,
    idempotency_key: str,
    provider: str,
    min_amount: int,
    max_amount: int,
) -> Deposit:
    """Create a deposit waiting for payment; a retry with the same key returns it."""
    if not idempotency_key or len(idempotency_key) > 160:
        raise InvalidTransfer(
            detail=N_("Send an Idempotency-Key header of 1 to 160 characters."),
            fields=[FieldError("Idempotency-Key", N_("Required."))],
        )
    request_hash = ledger.request_digest({"org": str(org_id), "amount": amount})
    earlier = (
        await session.execute(
            select(Deposit).where(
                Deposit.requested_by == requested_by, Deposit.idempotency_key == idempotency_key
            )
        )
    ).scalar_one_or_none()
    if earlier is not None:
        if earlier.request_hash != request_hash:
            raise IdempotencyKeyReused(
                detail=N_("This idempotency key was used for a different request.")
            )
        return earlier
    if not min_amount <= amount <= max_amount:
        raise InvalidTransfer(
            detail=N_("A top-up is between {low} and {high} fen."),
            fields=[FieldError("amount_fen", N_("Out of range."), "out_of_range")],
            extra={"low": min_amount, "high": max_amount},
        )
    await open_org_account(session, org_id)
    deposit = Deposit(
        id=new_id(),
        org_id=org_id,
        requested_by=requested_by,
        amount=amount,
        provider=provider,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
    )
    session.add(deposit)
    await session.flush()
    return deposit


async def record_payment_notice(session: AsyncSession, *, notice: PaymentNotice) -> Deposit:
    """Apply a verified provider notification. Safe to receive twice or out of order."""
    try:
        deposit_id = UUID(notice.order_id)
    except ValueError:
        raise NotFound(detail=N_("No such deposit.")) from None
    deposit = await session.get(Deposit, deposit_id, with_for_update=True)
    if deposit is None:
        raise NotFound(detail=N_("No such deposit."))
    if notice.amount != deposit.amount:
        raise AmountMismatch(
            detail=N_("The provider reported {reported} fen for a deposit of {amount} fen."),
            extra={"reported": notice.amount, "amount": deposit.amount},
        )
    if deposit.status == "paid":
        return deposit
    if notice.status == "closed":
        deposit.status = "closed"
        await session.flush()
        return deposit
    # Paid, also after a "closed": the money did arrive, so it is credited.
    await ledger.transfer(
        session,
        ledger.TransferRequest(
            idempotency_key=f"deposit:{deposit.id}",
            debit=DEPOSITS_ACCOUNT,
            credit=org_account(deposit.org_id),
            amount=deposit.amount,
            code="deposit",
            reference=f"deposit:{deposit.id}",
        ),
    )
    deposit.status = "paid"
    deposit.paid_at = utcnow()
    deposit.provider_txn = notice.provider_txn
    await record_audit(
        session,
        actor_id=None,
        action="ledger.deposit_paid",
        object_type="organisation",
        object_id=deposit.org_id,
        data={"deposit": str(deposit.id), "amount": deposit.amount, "txn": notice.provider_txn},
    )
    await session.flush()
    return deposit


async def get_deposit(
    session: AsyncSession, deposit_id: UUID, *, org_id: UUID | None = None
) -> Deposit:
    deposit = await session.get(Deposit, deposit_id)
    if deposit is None or (org_id is not None and deposit.org_id != org_id):
        raise NotFound(detail=N_("No such deposit."))
    return deposit


async def deposits_of(session: AsyncSession, org_id: UUID, limit: int = 20) -> list[Deposit]:
    result = await session.execute(
        select(Deposit)
        .where(Deposit.org_id == org_id)
        .order_by(Deposit.created_at.desc(), Deposit.id.desc())
        .limit(limit)
    )
    return list(result.scalars())


# Deposit states shown on pages.
STATUS_LABELS = (N_("created"), N_("paid"), N_("closed"))
