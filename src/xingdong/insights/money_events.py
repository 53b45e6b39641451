"""Events for an organisation's money: a top-up paid, a refund of one done or failed, a
payout of its earnings (an agency's) paid or failed.

The ledger settles these in its own transactions (a payment notice is applied by a
database function, in batches; a refund by the provider's answer), so they are told
afterwards: a job finds what was settled in the last day and not yet told, and tells it
once (each event names its deposit or refund in ``source``, which is unique)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, cast, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.clock import utc_text, utcnow
from xingdong.insights import service
from xingdong.insights.models import Event
from xingdong.ledger.models import Deposit, Refund, Withdrawal

WINDOW = timedelta(days=1)
"""How far back the job looks. Events are kept at least a day, so a settled top-up or
refund is never told twice; one settled while the jobs were stopped longer is not told."""
BATCH = 500


async def announce(session: AsyncSession, *, now: datetime | None = None) -> int:
    """Tell every top-up paid and every refund settled within :data:`WINDOW` that was not
    told yet. Answers how many events were made."""
    # One announcer at a time: two would both find the same deposit untold.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext("money_events"))))
    since = (now or utcnow()) - WINDOW
    made = 0
    paid = await session.scalars(
        select(Deposit)
        .where(
            Deposit.status == "paid",
            Deposit.paid_at >= since,
            ~exists().where(Event.source == func.concat("deposit:", cast(Deposit.id, String))),
        )
        .order_by(Deposit.paid_at)
        .limit(BATCH)
    )
    for deposit in paid.all():
        await service.emit(
            session, org_id=deposit.org_id, type="balance.topped_up",
            source=f"deposit:{deposit.id}",
            data={
                "deposit_id": str(deposit.id), "amount_fen": deposit.amount,
                "provider": deposit.provider, "paid_at": utc_text(deposit.paid_at),
            },
        )  # fmt: skip
        made += 1
    settled = await session.scalars(
        select(Refund)
        .where(
            Refund.status.in_(("refunded", "failed")),
            Refund.updated_at >= since,
            ~exists().where(Event.source == func.concat("refund:", cast(Refund.id, String))),
        )
        .order_by(Refund.updated_at)
        .limit(BATCH)
    )
    for refund in settled.all():
        await service.emit(
            session, org_id=refund.org_id,
            type="balance.refunded" if refund.status == "refunded" else "balance.refund_failed",
            source=f"refund:{refund.id}",
            data={
                "refund_id": str(refund.id), "deposit_id": str(refund.deposit_id),
                "amount_fen": refund.amount, "reference": refund.provider_ref,
            },
        )  # fmt: skip
        made += 1
    payouts = await session.scalars(
        select(Withdrawal)
        .where(
            Withdrawal.org_id.is_not(None),
            Withdrawal.status.in_(("paid", "failed", "rejected")),
            Withdrawal.updated_at >= since,
            ~exists().where(
                Event.source == func.concat("withdrawal:", cast(Withdrawal.id, String))
            ),
        )
        .order_by(Withdrawal.updated_at)
        .limit(BATCH)
    )
    for payout in payouts.all():
        assert payout.org_id is not None
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
        made += 1
    return made
