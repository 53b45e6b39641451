"""Jobs that look after the job queue itself."""

from __future__ import annotations

from datetime import datetime, timedelta

import procrastinate
from sqlalchemy import text

from xingdong.core.clock import utcnow
from xingdong.core.db import DELETE_BATCH, Database, delete_in_batches
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


_PRUNE_FINISHED = text(
    """
    -- The status again outside: a job run again while this waited for its row lock is
    -- waiting now, and only this condition is checked again on the row as it is then.
    -- (procrastinate's own trigger unlinks a periodic job's record of its last run.)
    DELETE FROM procrastinate_jobs
    WHERE status IN ('succeeded', 'failed', 'cancelled', 'aborted') AND id IN (
        SELECT job.id FROM procrastinate_jobs AS job
        WHERE job.status IN ('succeeded', 'failed', 'cancelled', 'aborted')
          AND NOT EXISTS (
              SELECT FROM procrastinate_events AS event
              WHERE event.job_id = job.id AND event.at >= :cutoff
          )
        ORDER BY job.id
        LIMIT :batch
    )
    """
)


async def prune_finished(
    db: Database, *, days: int, now: datetime | None = None, batch: int = DELETE_BATCH
) -> int:
    """Delete the jobs that finished (succeeded, failed, were cancelled or aborted) more
    than ``days`` ago, with their events; those still to run or running stay."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    return await delete_in_batches(db, _PRUNE_FINISHED, {"cutoff": cutoff}, batch=batch)


@blueprint.periodic(cron="37 20 * * *")  # 04:37 in China, when little else runs
@blueprint.task(name="prune_finished_jobs", queueing_lock="core_prune_finished_jobs")
async def prune_finished_jobs(timestamp: int | None = None) -> int:  # noqa: ARG001
    """Forget finished jobs after XINGDONG_JOB_RETENTION_DAYS: procrastinate keeps every
    job and its events for ever, some ten thousand a day from the periodic jobs alone."""
    from xingdong.core.runtime import current_runtime

    runtime = current_runtime()
    pruned = await prune_finished(runtime.db, days=runtime.settings.job_retention_days)
    if pruned:
        log.info("finished_jobs_pruned", count=pruned)
    return pruned
