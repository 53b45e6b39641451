"""The job queue as operators see it (``/ops/jobs``, ``GET /api/v1/ops/jobs``): how many
jobs wait, run, succeeded or failed, the jobs of one status and task newest first, and a
failed job run again (every job is idempotent, so running one again is safe).

The rows are procrastinate's (``procrastinate_jobs`` and its events); finished ones are
kept ``XINGDONG_JOB_RETENTION_DAYS`` (``core.queue_upkeep``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.audit import record_audit
from xingdong.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from xingdong.core.i18n import N_
from xingdong.core.jobs import another_waits
from xingdong.core.pagination import CursorPage, sequence_cursor, sequence_cut
from xingdong.core.policy import Action, Actor, require
from xingdong.core.queue_upkeep import STALLED_AFTER_S

PAGE_SIZE = 50
STATUS_LABELS: dict[str, str] = {
    "failed": N_("Failed"),
    "todo": N_("Waiting"),
    "doing": N_("Running"),
    "succeeded": N_("Succeeded"),
    "cancelled": N_("Cancelled"),
    "aborted": N_("Aborted"),
}
"""procrastinate's statuses, the one an operator looks for first listed first."""
EVENT_LABELS: dict[str, str] = {
    "deferred": N_("Queued"),
    "scheduled": N_("Scheduled"),
    "started": N_("Started"),
    "deferred_for_retry": N_("To be retried"),
    "failed": N_("Failed"),
    "succeeded": N_("Succeeded"),
    "cancelled": N_("Cancelled"),
    "abort_requested": N_("Asked to stop"),
    "aborted": N_("Aborted"),
    "retried": N_("Run again"),
}
"""procrastinate's events of a job, in words (a code it adds later is shown as it is)."""


class JobNotFailed(Conflict):
    code = "job_not_failed"
    title = N_("Only a failed job can be run again")


NOT_FAILED: dict[str, str] = {
    "todo": N_("This job is waiting for a worker already: it will run."),
    "doing": N_("This job is running now."),
    "succeeded": N_("This job succeeded: its work is done."),
    "cancelled": N_("This job was cancelled; only a failed job can be run again."),
    "aborted": N_("This job was aborted; only a failed job can be run again."),
}


class JobAlreadyWaiting(Conflict):
    code = "job_already_waiting"
    title = N_("A job of this kind is already waiting")


@dataclass(frozen=True)
class QueuedJob:
    id: int
    task: str
    queue: str
    status: str
    attempts: int
    scheduled_at: datetime | None
    """When it is (or was) to run; none for a job to run at once."""
    last_event: str | None
    """procrastinate's last event of the job (``deferred``, ``started``, ``failed`` …)."""
    last_event_at: datetime | None
    args: dict[str, Any]

    @property
    def args_text(self) -> str:
        return json.dumps(self.args, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class QueueHealth:
    """Whether the queue is being worked: the workers beating, and how long the job that
    has been due longest has waited."""

    workers: int
    """Workers that beat within ``STALLED_AFTER_S`` (a server's in-process worker counts)."""
    last_heartbeat_at: datetime | None
    oldest_due_at: datetime | None
    """When the job waiting longest past its due time fell due (one waiting for a lock a
    running job holds left out); none when nothing due waits."""
    now: datetime

    @property
    def waited_seconds(self) -> float:
        if self.oldest_due_at is None:
            return 0.0
        return max(0.0, (self.now - self.oldest_due_at).total_seconds())

    @property
    def behind(self) -> bool:
        """Nothing works the queue, or a due job has waited longer than a worker's silence
        takes to count as gone: what an operator must look into."""
        return self.workers == 0 or self.waited_seconds > STALLED_AFTER_S


@dataclass(frozen=True)
class JobBoard(CursorPage[QueuedJob]):
    counts: dict[str, int] = field(default_factory=dict)
    """Jobs of each status (the filter's task only, when one is chosen)."""
    tasks: dict[str, int] = field(default_factory=dict)
    """Every task in the queue and how many jobs of the chosen status it has."""
    health: QueueHealth | None = None


_COUNTS = text(
    "SELECT task_name, status::text AS status, count(*) AS jobs "
    "FROM procrastinate_jobs GROUP BY task_name, status"
)
_JOBS = text(
    """
    SELECT job.id, job.task_name, job.queue_name, job.status::text AS status, job.attempts,
           job.scheduled_at, job.args, last.type::text AS last_event, last.at AS last_event_at
    FROM procrastinate_jobs AS job
    LEFT JOIN LATERAL (
        SELECT event.type, event.at FROM procrastinate_events AS event
        WHERE event.job_id = job.id ORDER BY event.at DESC, event.id DESC LIMIT 1
    ) AS last ON true
    WHERE (:status = '' OR job.status::text = :status)
      AND (:task = '' OR job.task_name = :task)
      AND (CAST(:below AS bigint) IS NULL OR job.id < :below)
      AND (CAST(:job_id AS bigint) IS NULL OR job.id = :job_id)
    ORDER BY job.id DESC
    LIMIT :limit
    """
)


_HEALTH = text(
    """
    SELECT now() AS now,
           (SELECT count(*) FROM procrastinate_workers
            WHERE last_heartbeat >= now() - make_interval(secs => :stalled)) AS workers,
           (SELECT max(last_heartbeat) FROM procrastinate_workers) AS last_heartbeat_at,
           (SELECT min(due.at) FROM (
                SELECT coalesce(job.scheduled_at, (
                    SELECT min(event.at) FROM procrastinate_events AS event
                    WHERE event.job_id = job.id
                )) AS at
                FROM procrastinate_jobs AS job WHERE job.status = 'todo'
                  -- One waiting for its lock (the seeding's, held by a running seeding)
                  -- waits by design, not because the workers are behind.
                  AND NOT EXISTS (
                      SELECT FROM procrastinate_jobs AS holder
                      WHERE holder.status = 'doing' AND holder.lock = job.lock
                  )
            ) AS due WHERE due.at <= now()) AS oldest_due_at
    """
)


async def queue_health(session: AsyncSession) -> QueueHealth:
    row = (await session.execute(_HEALTH, {"stalled": STALLED_AFTER_S})).one()
    return QueueHealth(
        workers=int(row.workers),
        last_heartbeat_at=row.last_heartbeat_at,
        oldest_due_at=row.oldest_due_at,
        now=row.now,
    )


def _job(row: Any) -> QueuedJob:
    return QueuedJob(
        id=int(row.id),
        task=row.task_name,
        queue=row.queue_name,
        status=row.status,
        attempts=int(row.attempts),
        scheduled_at=row.scheduled_at,
        last_event=row.last_event,
        last_event_at=row.last_event_at,
        args=dict(row.args or {}),
    )


def _refuse_status(status: str) -> None:
    if status and status not in STATUS_LABELS:
        said = N_("Choose one of the statuses listed.")
        raise ValidationFailed(
            detail=N_("Please correct the marked fields."), fields=[FieldError("status", said)]
        )


def _staff_only(actor: Actor | None) -> None:
    """Staff with the console, or (None) the command line, which runs where the database's
    address is known and so is trusted as ``xingdong admin`` is."""
    if actor is not None:
        require(actor, Action.STAFF_CONSOLE)


async def job_board(
    session: AsyncSession,
    *,
    actor: Actor | None,
    status: str = "failed",
    task: str = "",
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> JobBoard:
    """The jobs of ``status`` (every status when empty) and ``task`` (every task when
    empty), newest first, with the counts the filters offer."""
    _staff_only(actor)
    _refuse_status(status)
    below = sequence_cursor(cursor)
    counts = dict.fromkeys(STATUS_LABELS, 0)
    tasks: dict[str, int] = {}
    for row in await session.execute(_COUNTS):
        tasks.setdefault(row.task_name, 0)
        if not status or row.status == status:
            tasks[row.task_name] += int(row.jobs)
        if not task or row.task_name == task:
            counts[row.status] = counts.get(row.status, 0) + int(row.jobs)
    rows = await session.execute(
        _JOBS,
        {"status": status, "task": task, "below": below, "job_id": None, "limit": limit + 1},
    )
    jobs, next_cursor = sequence_cut([_job(row) for row in rows], limit, lambda j: j.id)
    return JobBoard(
        items=jobs,
        next_cursor=next_cursor,
        counts=counts,
        tasks=dict(sorted(tasks.items())),
        health=await queue_health(session),
    )


async def job(session: AsyncSession, *, actor: Actor | None, job_id: int) -> QueuedJob:
    _staff_only(actor)
    row = (
        await session.execute(
            _JOBS, {"status": "", "task": "", "below": None, "job_id": job_id, "limit": 1}
        )
    ).first()
    if row is None:
        raise NotFound(detail=N_("No such job."))
    return _job(row)


async def run_again(session: AsyncSession, *, actor: Actor | None, job_id: int) -> QueuedJob:
    """Put a failed job back in its queue to run at once (procrastinate counts the attempt);
    written to the audit log. A job in any other status is refused: one waiting or running
    will run, and one that succeeded did its work."""
    _staff_only(actor)
    found = (
        await session.execute(
            text(
                "SELECT task_name, status::text AS status, attempts FROM procrastinate_jobs "
                "WHERE id = :id FOR UPDATE"
            ),
            {"id": job_id},
        )
    ).first()
    if found is None:
        raise NotFound(detail=N_("No such job."))
    if found.status != "failed":
        raise JobNotFailed(
            detail=NOT_FAILED.get(found.status, N_("Only a failed job can be run again.")),
            extra={"status": found.status},
        )
    try:
        async with session.begin_nested():
            await session.execute(
                text("SELECT procrastinate_retry_job_v2(:id, now(), NULL, NULL, NULL)"),
                {"id": job_id},
            )
    except IntegrityError as exc:
        # A job that runs once at a time (a periodic one, the price seeding) with another
        # of its kind waiting: that one will do the work.
        if not another_waits(exc):
            raise
        raise JobAlreadyWaiting(
            detail=N_("Another job of this kind is waiting to run; it will do this work.")
        ) from None
    await record_audit(
        session,
        actor_id=actor.person_id if actor is not None else None,
        action="core.job_run_again",
        object_type="job",
        object_id=str(job_id),
        data={"task": found.task_name, "attempts": int(found.attempts)},
    )
    return await job(session, actor=actor, job_id=job_id)
