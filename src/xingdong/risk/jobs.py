"""Background jobs of the risk domain: the batch detectors over recorded traffic."""

from __future__ import annotations

import procrastinate

from xingdong.core.logging import get_logger

NAMESPACE = "risk"
blueprint = procrastinate.Blueprint()
log = get_logger(__name__)


@blueprint.periodic(cron="23 * * * *")
@blueprint.task(name="scan_cases", queueing_lock="risk_scan")
async def scan_cases(timestamp: int | None = None) -> int:  # noqa: ARG001
    # procrastinate passes the periodic run's timestamp; the scan reads the clock itself.
    """Every hour: judge the accounts of the last week's traffic, keep the cases."""
    from xingdong.core.runtime import current_runtime
    from xingdong.risk import cases

    runtime = current_runtime()
    async with runtime.db.session_scope() as session:
        result = await cases.scan(session, rules_file=runtime.settings.risk_rules_file)
    log.info("risk_cases_scanned", opened=result.cases_opened, updated=result.cases_updated)
    return result.cases_opened


@blueprint.periodic(cron="47 19 * * *")  # 03:47 in China, when little else runs
@blueprint.task(name="prune_events", queueing_lock="risk_prune")
async def prune_events(timestamp: int | None = None) -> int:  # noqa: ARG001
    """Every night: forget recorded risk events older than their retention period."""
    from xingdong.core.runtime import current_runtime
    from xingdong.risk import service

    runtime = current_runtime()
    pruned = await service.prune_events(runtime.db, settings=runtime.settings)
    if pruned:
        log.info("risk_events_pruned", count=pruned)
    return pruned
