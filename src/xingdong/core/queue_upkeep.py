"""Jobs that look after the job queue itself."""

from __future__ import annotations

import procrastinate

from xingdong.core.logging import get_logger

NAMESPACE = "core"
blueprint = procrastinate.Blueprint()
log = get_logger(__name__)

STALLED_AFTER_S = 120.0
"""A worker silent this long is taken for gone. Workers beat every 10 s
(procrastinate's default); two minutes leaves room for a busy database."""


@blueprint.periodic(cron="*/5 * * * *")
@blueprint.task(name="retry_stalled_jobs", queueing_lock="core_retry_stalled", pass_context=True)
async def retry_stalled_jobs(
    context: procrastinate.JobContext,
    timestamp: int | None = None,  # noqa: ARG001 - the periodic run's, not needed
) -> int:
    """Run again the jobs left ``doing`` by a worker that stopped beating: killed, out of
    memory, its host lost, or stopped a second time while they ran. Every job is
    idempotent. Without this, a one-off job (reading a screenshot, forgetting an erased
    person's last traces) lost that way never ran again."""
    manager = context.app.job_manager
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_S))
    for job in stalled:
        await manager.retry_job(job)
    if stalled:
        log.warning("stalled_jobs_retried", jobs=[f"{job.task_name}[{job.id}]" for job in stalled])
    return len(stalled)
