"""Reconciliation: compare what the payment and payout providers recorded with what the
ledger holds, and report every difference to operators."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.clock import utcnow
from xingdong.core.i18n import N_
from xingdong.ledger.models import Deposit, ReconciliationReport, Refund, Withdrawal

__all__ = ["ReconciliationReport", "latest_report", "reconcile"]
from xingdong.ledger.payments import PaymentProvider, PayoutProvider

DIFFERENCE_LABELS = {
    "deposit_not_credited": N_(
        "The provider says a top-up was paid; the ledger has not credited it (its notice was "
        "lost). An owner's “Paid already? Check” credits it at once, and the expiry sweep "
        "when the top-up would have closed; for one closed already, ask the provider to "
        "resend its notice."
    ),
    "deposit_without_payment": N_(
        "A top-up is credited, but the provider has no payment. Investigate before the "
        "money is spent."
    ),
    "deposit_amount_differs": N_("A top-up's amount differs from the provider's. Investigate."),
    "payout_not_settled": N_(
        "The provider paid a withdrawal the ledger has not settled. The recovery job settles "
        "it within minutes; if it stays, investigate."
    ),
    "settled_without_payout": N_(
        "A withdrawal is settled as paid, but the provider has no payout. Investigate."
    ),
    "refund_not_settled": N_(
        "The provider refunded a top-up the ledger has not settled. Investigate."
    ),
    "refund_without_provider": N_(
        "A refund is settled, but the provider has no refund. Investigate."
    ),
}
"""Each difference as an operator reads it on the money page: what it means, what to do."""


UNDER_WAY = {
    Deposit: ("created",),
    Withdrawal: ("requested", "approved", "processing"),
    Refund: ("requested", "processing"),
}
"""Statuses whose row is compared whatever its age: what the providers say of it may still
change."""


def _compared(model: type[Deposit | Withdrawal | Refund], since: datetime | None) -> Select[Any]:
    """The rows of ``model`` started or settled since ``since`` (all with None), and those
    under way: a withdrawal approved a week after it was asked for, or a top-up paid the
    day after it was started, is compared in the week after it settled, when what the
    provider says of a settled row can first differ."""
    query = select(model).order_by(model.created_at)
    if since is None:
        return query
    if model is Deposit:
        recent = or_(Deposit.created_at >= since, Deposit.paid_at >= since)
    else:
        recent = or_(model.created_at >= since, model.updated_at >= since)  # type: ignore[union-attr]
    return query.where(or_(recent, model.status.in_(UNDER_WAY[model])))


async def reconcile(
    session: AsyncSession,
    *,
    payments: PaymentProvider,
    payouts: PayoutProvider,
    days: int | None,
) -> ReconciliationReport:
    """Ask the providers about every top-up, withdrawal and refund of the last ``days``
    days (all of them with None) and every one still under way, and store the differences.
    An hourly run need not ask again about a year of settled rows, each asked a hundred
    times already; the command can (``--days``)."""
    since = utcnow() - timedelta(days=days) if days is not None else None
    differences: list[dict[str, Any]] = []
    deposits = (await session.execute(_compared(Deposit, since))).scalars().all()
    for deposit in deposits:
        record = await payments.query_order(order_id=str(deposit.id))
        provider_paid = record is not None and record.status == "paid"
        if provider_paid and deposit.status != "paid":
            differences.append(
                {"kind": "deposit_not_credited", "id": str(deposit.id), "amount": deposit.amount}
            )
        elif deposit.status == "paid" and not provider_paid:
            differences.append(
                {"kind": "deposit_without_payment", "id": str(deposit.id), "amount": deposit.amount}
            )
        elif record is not None and provider_paid and record.amount != deposit.amount:
            differences.append(
                {
                    "kind": "deposit_amount_differs",
                    "id": str(deposit.id),
                    "provider": record.amount,
                    "ledger": deposit.amount,
                }
            )
    withdrawals = (await session.execute(_compared(Withdrawal, since))).scalars().all()
    for withdrawal in withdrawals:
        result = await payouts.query(payout_id=str(withdrawal.id))
        provider_paid = result is not None and result.status == "paid"
        if provider_paid and withdrawal.status != "paid":
            differences.append(
                {
                    "kind": "payout_not_settled",
                    "id": str(withdrawal.id),
                    "status": withdrawal.status,
                }
            )
        elif withdrawal.status == "paid" and not provider_paid:
            differences.append(
                {
                    "kind": "settled_without_payout",
                    "id": str(withdrawal.id),
                    "amount": withdrawal.amount,
                }
            )
    refunds = (await session.execute(_compared(Refund, since))).scalars().all()
    for refund in refunds:
        outcome = await payments.query_refund(refund_id=str(refund.id))
        provider_refunded = outcome is not None and outcome.status == "refunded"
        if provider_refunded and refund.status != "refunded":
            differences.append(
                {"kind": "refund_not_settled", "id": str(refund.id), "status": refund.status}
            )
        elif refund.status == "refunded" and not provider_refunded:
            differences.append(
                {"kind": "refund_without_provider", "id": str(refund.id), "amount": refund.amount}
            )
    report = ReconciliationReport(
        checked=len(deposits) + len(withdrawals) + len(refunds), differences=differences
    )
    session.add(report)
    await session.flush()
    return report


async def latest_report(session: AsyncSession) -> ReconciliationReport | None:
    return (
        await session.execute(
            select(ReconciliationReport).order_by(ReconciliationReport.id.desc()).limit(1)
        )
    ).scalar_one_or_none()
