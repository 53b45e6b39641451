"""Manual corrections of balances, under the four-eyes rule: one operator asks, a
different operator approves, and only then does money move."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.audit import record_audit
from xingdong.core.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from xingdong.core.i18n import N_
from xingdong.core.ids import new_id
from xingdong.core.money import yuan
from xingdong.core.policy import Action, Actor, require
from xingdong.ledger import service as ledger
from xingdong.ledger.errors import AccountClosed, InsufficientFunds, UnknownAccount
from xingdong.ledger.models import Adjustment, LedgerAccount

ADJUSTMENTS_ACCOUNT = "platform:adjustments"


class OwnAdjustment(Forbidden):
    code = "own_adjustment"
    title = N_("Another operator must approve an adjustment")


class AdjustmentNotPending(Conflict):
    code = "adjustment_not_pending"
    title = N_("This adjustment was already decided")


def _refuse_closed(account: LedgerAccount) -> None:
    if account.closed_at is not None:
        raise AccountClosed(detail=N_("This account is closed: its owner's account was erased."))


async def pending_adjustments_count(session: AsyncSession, account_keys: list[str]) -> int:
    """Adjustments to these accounts that wait for a second operator."""
    count = await session.scalar(
        select(func.count())
        .select_from(Adjustment)
        .where(Adjustment.account_key.in_(account_keys), Adjustment.status == "requested")
    )
    return count or 0


REASON_MAX = 200

ADJUSTMENT_MAX_FEN = 10_000_000
"""The largest correction two operators may make in one adjustment (¥100,000): a typo of a
few zeros is refused, not applied; a larger sum is several adjustments, each agreed."""


def _refuse_overdraft(account: LedgerAccount, amount: int) -> None:
    """A correction that takes money out may not take an account of ours below zero (the
    outside world's ``external:`` accounts run negative by design)."""
    if amount < 0 and not account.key.startswith("external:"):
        held = ledger.balance_of(account).available
        if held + amount < 0:
            raise InsufficientFunds(
                detail=N_(
                    "The account holds ¥{held_yuan}; a correction cannot take it below zero."
                ),
                extra={"held": held, "held_yuan": yuan(held)},
            )


def request_problems(account_key: str, amount: int | None, reason: str) -> list[FieldError]:
    """Everything wrong with an adjustment asked for, all at once (``amount`` None: what
    was typed is not an amount)."""
    errors = []
    if not account_key.strip():
        errors.append(FieldError("account_key", N_("Required.")))
    if amount is None:
        errors.append(
            FieldError("amount_fen", N_("Enter an amount in yuan, like 12.50 or -12.50."))
        )
    elif amount == 0:
        errors.append(FieldError("amount_fen", N_("The amount cannot be zero.")))
    elif abs(amount) > ADJUSTMENT_MAX_FEN:
        errors.append(
            FieldError("amount_fen", N_("At most ¥100,000 in one adjustment; make several."))
        )
    if not reason.strip():
        errors.append(FieldError("reason", N_("Required.")))
    elif len(reason.strip()) > REASON_MAX:
        errors.append(FieldError("reason", N_("Keep the reason to 200 characters.")))
    return errors


async def request_adjustment(
    session: AsyncSession, *, actor: Actor, account_key: str, amount: int, reason: str
) -> Adjustment:
    require(actor, Action.APPROVE_MONEY)
    errors = request_problems(account_key, amount, reason)
    if errors:
        raise ValidationFailed(detail=N_("Please correct the marked fields."), fields=errors)
    account = await ledger.account_by_key(session, account_key)
    if account is None:
        raise UnknownAccount(
            detail=N_("No such ledger account."),
            fields=[FieldError("account_key", N_("No such ledger account."))],
        )
    _refuse_closed(account)
    _refuse_overdraft(account, amount)
    adjustment = Adjustment(
        id=new_id(),
        account_key=account_key,
        amount=amount,
        reason=reason.strip(),
        requested_by=actor.person_id,
    )
    session.add(adjustment)
    await session.flush()
    await record_audit(
        session,
        actor_id=actor.person_id,
        action="ledger.adjustment_requested",
        object_type="adjustment",
        object_id=adjustment.id,
        data={"account": account_key, "amount": amount, "reason": adjustment.reason},
    )
    return adjustment


async def _locked(session: AsyncSession, adjustment_id: UUID) -> Adjustment:
    adjustment = await session.get(
        Adjustment, adjustment_id, with_for_update=True, populate_existing=True
    )
    if adjustment is None:
        raise NotFound(detail=N_("No such adjustment."))
    await session.refresh(adjustment)
    if adjustment.status != "requested":
        raise AdjustmentNotPending(detail=N_("This adjustment was already decided."))
    return adjustment


async def approve_adjustment(
    session: AsyncSession, *, actor: Actor, adjustment_id: UUID
) -> Adjustment:
    require(actor, Action.APPROVE_MONEY)
    adjustment = await _locked(session, adjustment_id)
    if adjustment.requested_by == actor.person_id:
        raise OwnAdjustment(detail=N_("Another operator must approve an adjustment."))
    account = await ledger.account_by_key(session, adjustment.account_key)
    if account is not None:
        _refuse_closed(account)
        # Checked again: the balance may have moved since the request.
        _refuse_overdraft(account, adjustment.amount)
    await ledger.open_account(session, ledger.AccountSpec(ADJUSTMENTS_ACCOUNT))
    credit = adjustment.amount > 0
    result = await ledger.transfer(
        session,
        ledger.TransferRequest(
            idempotency_key=f"adjustment:{adjustment.id}",
            debit=ADJUSTMENTS_ACCOUNT if credit else adjustment.account_key,
            credit=adjustment.account_key if credit else ADJUSTMENTS_ACCOUNT,
            amount=abs(adjustment.amount),
            code="adjustment",
            reference=f"adjustment:{adjustment.id}",
        ),
    )
    adjustment.status = "applied"
    adjustment.approved_by = actor.person_id
    adjustment.transfer_id = result.id
    await record_audit(
        session,
        actor_id=actor.person_id,
        action="ledger.adjustment_applied",
        object_type="adjustment",
        object_id=adjustment.id,
        data={"transfer": result.id},
    )
    await session.flush()
    return adjustment


async def reject_adjustment(
    session: AsyncSession, *, actor: Actor, adjustment_id: UUID
) -> Adjustment:
    require(actor, Action.APPROVE_MONEY)
    adjustment = await _locked(session, adjustment_id)
    adjustment.status = "rejected"
    adjustment.approved_by = actor.person_id if actor.person_id != adjustment.requested_by else None
    await record_audit(
        session,
        actor_id=actor.person_id,
        action="ledger.adjustment_rejected",
        object_type="adjustment",
        object_id=adjustment.id,
    )
    await session.flush()
    return adjustment


async def pending_adjustments(session: AsyncSession, *, actor: Actor) -> list[Adjustment]:
    require(actor, Action.APPROVE_MONEY)
    result = await session.execute(
        select(Adjustment).where(Adjustment.status == "requested").order_by(Adjustment.created_at)
    )
    return list(result.scalars())
