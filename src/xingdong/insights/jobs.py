"""Background jobs of insights: webhook deliveries, the sweep for lost ones, and forgetting
old events."""

from __future__ import annotations

from uuid import UUID

import procrastinate

from xingdong.core.logging import get_logger

NAMESPACE = "insights"
blueprint = procrastinate.Blueprint()
log = get_logger(__name__)


@blueprint.task(name="deliver_webhook", queue="webhooks")
async def deliver_webhook(delivery_id: str) -> str:
    """Attempt one webhook delivery (retries queue themselves)."""
    from xingdong.core.runtime import current_runtime
    from xingdong.insights import delivery

    runtime = current_runtime()
    outcome = await delivery.attempt(runtime.db, UUID(delivery_id), settings=runtime.settings)
    if outcome == "failed":
        log.warning("webhook_failed", delivery=delivery_id)
    return outcome


@blueprint.periodic(cron="*/5 * * * *")
@blueprint.task(name="sweep_webhooks")
async def sweep_webhooks(timestamp: int | None = None) -> int:  # noqa: ARG001
    """Queue again the deliveries whose job was lost (a worker that died mid-attempt)."""
    from xingdong.core.clock import utcnow
    from xingdong.core.runtime import current_runtime
    from xingdong.insights import delivery, service

    async with current_runtime().db.session_scope() as session:
        lost = await delivery.overdue(session, now=utcnow())
        for delivery_id in lost:
            await service.queue_delivery(session, delivery_id)
    if lost:
        log.info("webhooks_requeued", count=len(lost))
    return len(lost)


@blueprint.periodic(cron="17 20 * * *")  # 04:17 in China, when little else runs
@blueprint.task(name="prune_events")
async def prune_events(timestamp: int | None = None) -> int:  # noqa: ARG001
    """Forget events older than the retention period, with their deliveries."""
    from xingdong.core.runtime import current_runtime
    from xingdong.insights import service

    runtime = current_runtime()
    pruned = await service.prune_events(runtime.db, settings=runtime.settings)
    if pruned:
        log.info("events_pruned", count=pruned)
    return pruned


@blueprint.periodic(cron="* * * * *")
@blueprint.task(name="announce_money")
async def announce_money(timestamp: int | None = None) -> int:  # noqa: ARG001
    """Tell organisations of top-ups paid and refunds settled (balance.* events)."""
    from xingdong.core.runtime import current_runtime
    from xingdong.insights import money_events

    async with current_runtime().db.session_scope() as session:
        made = await money_events.announce(session)
    if made:
        log.info("money_events_told", count=made)
    return made
