"""Background jobs of the ledger."""

from __future__ import annotations

import procrastinate

from xingdong.core.logging import get_logger

NAMESPACE = "ledger"
blueprint = procrastinate.Blueprint()
log = get_logger(__name__)


@blueprint.periodic(cron="* * * * *")
@blueprint.task(name="void_expired_reservations")
async def void_expired_reservations(timestamp: int | None = None) -> int:  # noqa: ARG001
    # procrastinate passes the periodic run's timestamp; the sweep does not need it.
    """Release reservations whose timeout has passed. Idempotent: each void is keyed by
    its reservation, so sweepers running at once apply it once."""
    from xingdong.core.runtime import current_runtime
    from xingdong.ledger import service

    async with current_runtime().db.session_scope() as session:
        voided = await service.void_expired_reservations(session)
    if voided:
        log.info("reservations_expired", voided=voided)
    return voided


@blueprint.task(name="pay_out_withdrawal", retry=5)
async def pay_out_withdrawal(withdrawal_id: str) -> str:
    """Pay an approved withdrawal through the payout provider. Safe to retry: the provider
    is called with the withdrawal id as its key."""
    from uuid import UUID

    from xingdong.core.runtime import current_runtime
    from xingdong.ledger import withdrawals

    runtime = current_runtime()
    status = await withdrawals.execute_payout(runtime.db, runtime.payouts, UUID(withdrawal_id))
    log.info("withdrawal_paid_out", withdrawal=withdrawal_id, status=status)
    return status


@blueprint.periodic(cron="* * * * *")
@blueprint.task(name="settle_stuck_withdrawals")
async def settle_stuck_withdrawals(timestamp: int | None = None) -> int:  # noqa: ARG001
    # procrastinate passes the periodic run's timestamp; the sweep does not need it.
    """Finish withdrawals a crash left half-way, asking the provider what happened."""
    from xingdong.core.runtime import current_runtime
    from xingdong.ledger import withdrawals

    runtime = current_runtime()
    settled = await withdrawals.settle_stuck_withdrawals(runtime.db, runtime.payouts)
    if settled:
        log.info("withdrawals_recovered", count=settled)
    return settled


@blueprint.periodic(cron="17 * * * *")
@blueprint.task(name="reconcile_providers")
async def reconcile_providers(timestamp: int | None = None) -> int:  # noqa: ARG001
    # procrastinate passes the periodic run's timestamp; the comparison does not need it.
    """Compare the providers' records with the ledger every hour; differences go to the
    operators' money page."""
    from xingdong.core.runtime import current_runtime
    from xingdong.ledger import reconciliation

    runtime = current_runtime()
    async with runtime.db.session_scope() as session:
        report = await reconciliation.reconcile(
            session,
            payments=runtime.payments,
            payouts=runtime.payouts,
            days=runtime.settings.reconciliation_days,
        )
    if report.differences:
        log.warning("reconciliation_differences", count=len(report.differences))
    return len(report.differences)


@blueprint.task(name="execute_refund", retry=5)
async def execute_refund(refund_id: str) -> str:
    """Refund through the payment provider and settle. Safe to retry."""
    from uuid import UUID

    from xingdong.core.runtime import current_runtime
    from xingdong.ledger import refunds

    runtime = current_runtime()
    return await refunds.execute_refund(runtime.db, runtime.payments, UUID(refund_id))


@blueprint.periodic(cron="* * * * *")
@blueprint.task(name="settle_stuck_refunds")
async def settle_stuck_refunds(timestamp: int | None = None) -> int:  # noqa: ARG001
    # procrastinate passes the periodic run's timestamp; the sweep does not need it.
    """Finish refunds a crash left half-way, asking the provider what happened."""
    from xingdong.core.runtime import current_runtime
    from xingdong.ledger import refunds

    runtime = current_runtime()
    return await refunds.settle_stuck_refunds(runtime.db, runtime.payments)


@blueprint.periodic(cron="*/10 * * * *")
@blueprint.task(name="refund_closed_balances")
async def refund_closed_balances(timestamp: int | None = None) -> int:  # noqa: ARG001
    # procrastinate passes the periodic run's timestamp; the sweep does not need it.
    """Refund money that reached a closed organisation's balance (a top-up paid after it
    closed)."""
    from xingdong.core.runtime import current_runtime
    from xingdong.ledger import refunds

    async with current_runtime().db.session_scope() as session:
        requested = await refunds.refund_closed_balances(session)
    if requested:
        log.info("closed_balances_refunded", refunds=requested)
    return requested


@blueprint.periodic(cron="*/10 * * * *")
@blueprint.task(name="expire_unpaid_deposits")
async def expire_unpaid_deposits(timestamp: int | None = None) -> int:  # noqa: ARG001
    # procrastinate passes the periodic run's timestamp; the sweep reads the clock itself.
    """Close top-ups left unpaid longer than ``deposit_expiry_hours``, at the provider first."""
    from xingdong.core.runtime import current_runtime
    from xingdong.ledger import deposits

    runtime = current_runtime()
    expired = await deposits.expire_unpaid_deposits(
        runtime.db, runtime.payments, expiry_hours=runtime.settings.deposit_expiry_hours
    )
    if expired:
        log.info("unpaid_top_ups_expired", count=expired)
    return expired
