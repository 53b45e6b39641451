"""Events for an organisation's money: a top-up paid, a refund of one done or failed, a
payout of its earnings (an agency's) paid or failed.

The ledger settles these in its own transactions (a payment notice is applied by a
database function, in batches; a refund by the provider's answer), so they are told
afterwards: a job finds what was settled in the last day and not yet told, and tells it
once (each event names its deposit or refund in ``source``, which is unique)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, cast, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from xingdong.core.clock import utc_text, utcnow
from xingdong.insights import service
from xingdong.insights.models import Event
from xingdong.ledger.models import Deposit, Refund, Withdrawal

WINDOW = timedelta(days=1)
"""How far back the job looks. Events are kept at least a day, so a settled top-up or
refund is never told twice; one settled while the jobs were stopped longer is not told."""
BATCH = 500


async def _untold(
    session: AsyncSession,
    model: type[Deposit] | type[Refund] | type[Withdrawal],
    kind: str,
    settled_at: InstrumentedAttribute[datetime] | InstrumentedAttribute[datetime | None],
    since: datetime,
    *settled: ColumnElement[bool],
) -> Sequence[Any]:
    """Rows of ``model`` settled since ``since`` with no event whose source is
    ``<kind>:<id>`` yet, the earliest first."""
    told = exists().where(Event.source == func.concat(f"{kind}:", cast(model.id, String)))
    query = (
        select(model).where(*settled, settled_at >= since, ~told).order_by(settled_at).limit(BATCH)
    )
    return (await session.scalars(query)).all()


async def announce(session: AsyncSession, *, now: datetime | None = None) -> int:
    """Tell every top-up paid, and every refund and organisation payout settled, within
    :data:`WINDOW` that was not told yet. Answers how many events were made."""
    # One announcer at a time: two would both find the same deposit untold.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext("money_events"))))
    since = (now or utcnow()) - WINDOW
    deposits = await _untold(
        session, Deposit, "deposit", Deposit.paid_at, since, Deposit.status == "paid"
    )
    for deposit in deposits:
        await service.emit(
            session, org_id=deposit.org_id, type="balance.topped_up",
            source=f"deposit:{deposit.id}",
            data={
                "deposit_id": str(deposit.id), "amount_fen": deposit.amount,
                "provider": deposit.provider, "paid_at": utc_text(deposit.paid_at),
            },
        )  # fmt: skip
    refunds = await _untold(
        session, Refund, "refund", Refund.updated_at, since,
        Refund.status.in_(("refunded", "failed")),
    )  # fmt: skip
    for refund in refunds:
        await service.emit(
            session, org_id=refund.org_id,
            type="balance.refunded" if refund.status == "refunded" else "balance.refund_failed",
            source=f"refund:{refund.id}",
            data={
                "refund_id": str(refund.id), "deposit_id": str(refund.deposit_id),
                "amount_fen": refund.amount, "reference": refund.provider_ref,
            },
        )  # fmt: skip
    payouts = await _untold(
        session, Withdrawal, "withdrawal", Withdrawal.updated_at, since,
        Withdrawal.org_id.is_not(None), Withdrawal.status.in_(("paid", "failed", "rejected")),
    )  # fmt: skip
    for payout in payouts:
        await service.emit(
            session, org_id=payout.org_id,
            type="balance.paid_out" if payout.status == "paid" else "balance.payout_failed",
            source=f"withdrawal:{payout.id}",
            data={
                "withdrawal_id": str(payout.id), "amount_fen": payout.amount,
                "fee_fen": payout.fee, "status": payout.status,
                "reference": payout.provider_ref, "reason": payout.failure_reason,
            },
        )  # fmt: skip
    return len(deposits) + len(refunds) + len(payouts)
