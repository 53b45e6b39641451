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
