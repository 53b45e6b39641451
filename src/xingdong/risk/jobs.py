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
