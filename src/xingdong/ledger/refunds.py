"""Refunds: an organisation owner gives unspent money back to the payer of a paid
top-up. The amount is reserved at once; the ``ledger:execute_refund`` job (enqueued in
the same transaction) asks the payment provider, keyed by the refund id, and settles:
refunded (the reservation is posted) or failed (released). A crash in between is
repaired by asking the provider again."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.audit import record_audit
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from xingdong.core.i18n import N_
from xingdong.core.ids import new_id
from xingdong.core.jobs import defer_in_transaction
from xingdong.core.money import yuan
from xingdong.core.policy import Action, Actor, require
from xingdong.ledger import service as ledger
from xingdong.ledger.deposits import DEPOSITS_ACCOUNT, org_account
from xingdong.ledger.errors import IdempotencyKeyReused
from xingdong.ledger.idempotency import claim_key
from xingdong.ledger.models import Deposit, LedgerAccount, Refund
from xingdong.ledger.payments import PaymentProvider

EXECUTE_JOB = "ledger:execute_refund"

STATUS_LABELS = {
    "requested": N_("being refunded"),
    "processing": N_("being refunded"),
    "refunded": N_("refunded"),
    "failed": N_("refund failed, the money is back in the balance"),
}
"""A refund's status as the organisation page says it."""


class NotRefundable(Conflict):
    code = "not_refundable"
    title = N_("This top-up cannot be refunded for that amount")


async def request_refund(
    session: AsyncSession,
    *,
    actor: Actor,
    org_id: UUID,
    deposit_id: UUID,
    amount: int,
    idempotency_key: str,
) -> Refund:
    require(actor, Action.ORG_MANAGE_FUNDS, org_id=org_id)
    request_hash = ledger.request_digest({"deposit": str(deposit_id), "amount": amount})
    await claim_key(session, person_id=actor.person_id, key=idempotency_key, kind="refund")
    earlier = (
        await session.execute(
            select(Refund).where(
                Refund.requested_by == actor.person_id, Refund.idempotency_key == idempotency_key
            )
        )
    ).scalar_one_or_none()
    if earlier is not None:
        if earlier.request_hash != request_hash:
            raise IdempotencyKeyReused(
                detail=N_("This idempotency key was used for a different request.")
            )
        return earlier
    deposit = await session.get(Deposit, deposit_id, with_for_update=True, populate_existing=True)
    if deposit is None or deposit.org_id != org_id:
        raise NotFound(detail=N_("No such deposit."))
    if amount <= 0:
        raise ValidationFailed(
            detail=N_("Please correct the marked fields."),
            fields=[FieldError("amount_fen", N_("Out of range."), "out_of_range")],
        )
    refunded = int(
        (
            await session.execute(
                select(func.coalesce(func.sum(Refund.amount), 0)).where(
                    Refund.deposit_id == deposit_id, Refund.status != "failed"
                )
            )
        ).scalar_one()
    )
    if deposit.status != "paid":
        raise NotRefundable(
            detail=N_("Only a paid top-up can be refunded; this one was never paid."),
            extra={"left": 0, "left_yuan": yuan(0), "deposit_status": deposit.status},
        )
    left = max(0, deposit.amount - refunded)
    if refunded + amount > deposit.amount:
        raise NotRefundable(
            detail=N_("At most ¥{left_yuan} of this top-up can still be refunded."),
            extra={"left": left, "left_yuan": yuan(left)},
        )
    return await _reserve(
        session,
        deposit=deposit,
        amount=amount,
        requested_by=actor.person_id,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
    )


async def _reserve(
    session: AsyncSession,
    *,
    deposit: Deposit,
    amount: int,
    requested_by: UUID,
    idempotency_key: str,
    request_hash: str,
) -> Refund:
    """Reserve ``amount`` of the organisation's balance for a refund of ``deposit`` (its row
    held, the amount checked) and have the job ask the provider."""
    org_id, deposit_id = deposit.org_id, deposit.id
    refund_id = new_id()
    reservation = await ledger.transfer(
        session,
        ledger.TransferRequest(
            idempotency_key=f"refund:{refund_id}",
            debit=org_account(org_id),
            credit=DEPOSITS_ACCOUNT,
            amount=amount,
            code="refund",
            reference=f"deposit:{deposit_id}",
            pending=True,
        ),
    )
    refund = Refund(
        id=refund_id,
        deposit_id=deposit_id,
        org_id=org_id,
        amount=amount,
        status="requested",
        requested_by=requested_by,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        reservation_id=reservation.id,
    )
    session.add(refund)
    await session.flush()
    await defer_in_transaction(session, EXECUTE_JOB, args={"refund_id": str(refund_id)})
    await record_audit(
        session,
        actor_id=requested_by,
        action="ledger.refund_requested",
        object_type="organisation",
        object_id=org_id,
        data={"refund": str(refund_id), "deposit": str(deposit_id), "amount": amount},
    )
    return refund


async def refunds_of_deposits(
    session: AsyncSession, deposit_ids: list[UUID]
) -> dict[UUID, list[Refund]]:
    """The refunds of each of ``deposit_ids``, oldest first."""
    result = await session.execute(
        select(Refund)
        .where(Refund.deposit_id.in_(deposit_ids))
        .order_by(Refund.created_at, Refund.id)
    )
    found: dict[UUID, list[Refund]] = {}
    for refund in result.scalars():
        found.setdefault(refund.deposit_id, []).append(refund)
    return found


async def refund_closed_balances(session: AsyncSession) -> int:
    """Give back money that reached a closed organisation's balance: a top-up the payer
    paid after it was closed (the provider's notice is credited, as the money did
    arrive). Its paid top-ups are refunded, newest first, up to what the balance holds,
    in the name of the owner who closed it (or who made it, if an operator closed it). A
    refund that fails puts the money back, and the next run asks again. The refunds
    requested."""
    from xingdong.identity.models import Organisation

    due = (
        await session.execute(
            # In the name of the owner who closed it; closed by an operator on request,
            # of the one who made it.
            select(Organisation.id, func.coalesce(Organisation.closed_by, Organisation.created_by))
            .join(
                LedgerAccount,
                LedgerAccount.key == func.concat("org:", Organisation.id, ":available"),
            )
            .where(
                Organisation.closed_at.is_not(None),
                LedgerAccount.credits_posted
                - LedgerAccount.debits_posted
                - LedgerAccount.debits_pending
                > 0,
            )
        )
    ).all()
    requested = 0
    for org_id, closed_by in due:
        requested += await _refund_closed_balance(session, org_id, closed_by)
    return requested


async def _refund_closed_balance(session: AsyncSession, org_id: UUID, closed_by: UUID) -> int:
    # The balance held as a movement holds it, so two sweeps at once refund it once.
    account = await session.scalar(
        select(LedgerAccount)
        .where(LedgerAccount.key == org_account(org_id))
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    assert account is not None
    left = account.credits_posted - account.debits_posted - account.debits_pending
    paid = (
        await session.scalars(
            select(Deposit)
            .where(Deposit.org_id == org_id, Deposit.status == "paid")
            .order_by(Deposit.paid_at.desc(), Deposit.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).all()
    earlier = await refunds_of_deposits(session, [d.id for d in paid])
    requested = 0
    for deposit in paid:
        amount = min(left, left_to_refund(deposit, earlier.get(deposit.id, [])))
        if amount <= 0:
            continue
        tries = len(earlier.get(deposit.id, []))
        await _reserve(
            session,
            deposit=deposit,
            amount=amount,
            requested_by=closed_by,
            idempotency_key=f"closed-balance:{deposit.id}:{tries}",
            request_hash=ledger.request_digest({"deposit": str(deposit.id), "amount": amount}),
        )
        left -= amount
        requested += 1
        if left <= 0:
            break
    return requested


def left_to_refund(deposit: Deposit, refunds: list[Refund]) -> int:
    """What of a top-up can still be refunded: nothing unless it was paid, and not what
    refunds have taken or are taking (a failed one gave its money back)."""
    if deposit.status != "paid":
        return 0
    return max(0, deposit.amount - sum(r.amount for r in refunds if r.status != "failed"))


async def execute_refund(db: Database, provider: PaymentProvider, refund_id: UUID) -> str:
    """Ask the provider to refund, then settle. Safe to run twice."""
    async with db.session_scope() as session:
        refund = await session.get(Refund, refund_id, with_for_update=True, populate_existing=True)
        if refund is None:
            raise NotFound(detail=N_("No such refund."))
        await session.refresh(refund)
        if refund.status not in ("requested", "processing"):
            return refund.status
        refund.status = "processing"
        refund.updated_at = utcnow()
        order_id, amount = str(refund.deposit_id), refund.amount
    result = await provider.refund(order_id=order_id, refund_id=str(refund_id), amount=amount)
    async with db.session_scope() as session:
        refund = await session.get(Refund, refund_id, with_for_update=True, populate_existing=True)
        assert refund is not None
        await session.refresh(refund)
        if refund.status != "processing":
            return refund.status
        if result.status == "refunded":
            await ledger.post_pending(
                session,
                idempotency_key=f"refund:{refund_id}:post",
                pending_id=refund.reservation_id,
            )
        else:
            await ledger.void_pending(
                session,
                idempotency_key=f"refund:{refund_id}:void",
                pending_id=refund.reservation_id,
            )
        refund.status = result.status
        refund.provider_ref = result.reference
        refund.updated_at = utcnow()
        await record_audit(
            session,
            actor_id=None,
            action=f"ledger.refund_{result.status}",
            object_type="organisation",
            object_id=refund.org_id,
            data={"refund": str(refund_id), "reference": result.reference},
        )
        return refund.status


async def settle_stuck_refunds(
    db: Database, provider: PaymentProvider, *, older_than: timedelta = timedelta(minutes=2)
) -> int:
    async with db.sessionmaker() as session:
        stuck = (
            (
                await session.execute(
                    select(Refund.id).where(
                        Refund.status == "processing", Refund.updated_at < utcnow() - older_than
                    )
                )
            )
            .scalars()
            .all()
        )
    for refund_id in stuck:
        await execute_refund(db, provider, refund_id)
    return len(stuck)
