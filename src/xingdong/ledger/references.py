"""What a ledger transfer's reference names, in words its account holder knows.

Transfers carry references such as ``deposit:<id>`` (a top-up, and its refunds),
``adjustment:<id>`` (an operator's correction) or ``withdrawal:<id>`` (a payout). A
statement shows the payment provider's number of a top-up (what the payer's own records
show), the reason written for a correction and the provider's number of a payout, instead
of our internal ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.ledger.models import Adjustment, Deposit, Withdrawal


def _ids_of(references: Iterable[str], kind: str) -> dict[UUID, str]:
    found: dict[UUID, str] = {}
    for reference in references:
        prefix, _, raw = reference.partition(":")
        if prefix != kind:
            continue
        try:
            found[UUID(raw)] = reference
        except ValueError:
            continue
    return found


def _short(identifier: UUID) -> str:
    """The first eight hex digits of an id, upper case: enough to tell one from another
    on a statement when the provider gave no number."""
    return identifier.hex[:8].upper()


async def reference_names(session: AsyncSession, references: Iterable[str]) -> dict[str, str]:
    """For each ``deposit:``, ``adjustment:`` and ``withdrawal:`` reference among
    ``references``: the payment's number, the correction's reason, the payout's number.
    References of other kinds, or naming nothing that exists, are left out."""
    wanted = list(references)
    names: dict[str, str] = {}
    deposits = _ids_of(wanted, "deposit")
    if deposits:
        paid = await session.execute(
            select(Deposit.id, Deposit.provider_txn).where(Deposit.id.in_(deposits))
        )
        for deposit_id, number in paid:
            names[deposits[deposit_id]] = number or _short(deposit_id)
    adjustments = _ids_of(wanted, "adjustment")
    if adjustments:
        corrections = await session.execute(
            select(Adjustment.id, Adjustment.reason).where(Adjustment.id.in_(adjustments))
        )
        for adjustment_id, reason in corrections:
            names[adjustments[adjustment_id]] = reason
    withdrawals = _ids_of(wanted, "withdrawal")
    if withdrawals:
        payouts = await session.execute(
            select(Withdrawal.id, Withdrawal.provider_ref).where(Withdrawal.id.in_(withdrawals))
        )
        for withdrawal_id, number in payouts:
            names[withdrawals[withdrawal_id]] = number or _short(withdrawal_id)
    return names
