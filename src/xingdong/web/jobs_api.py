"""The job queue in the API (operators): ``GET /api/v1/ops/jobs``, one job, and a failed
job run again (``core.job_board``)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from xingdong.core import job_board
from xingdong.core.pagination import Page
from xingdong.web.deps import ApiActor, DbSession

router = APIRouter(prefix="/api/v1", tags=["ops"])

JobId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The job's number")]
"""A job's number as the database can hold it: a larger one is no job (not a fault)."""


class JobOut(BaseModel):
    id: int
    task: str
    queue: str
    status: str
    attempts: int
    scheduled_at: datetime | None
    last_event: str | None
    last_event_at: datetime | None
    args: dict[str, Any]

    @classmethod
    def of(cls, job: job_board.QueuedJob) -> JobOut:
        return cls(**asdict(job))


class QueueHealthOut(BaseModel):
    workers: int
    """Workers that beat in the last two minutes (a server's own worker counts)."""
    last_heartbeat_at: datetime | None
    oldest_due_at: datetime | None
    """When the job waiting longest past its due time fell due (none: nothing due waits)."""
    waited_seconds: float
    behind: bool
    """No worker beats, or a due job has waited more than two minutes."""

    @classmethod
    def of(cls, health: job_board.QueueHealth) -> QueueHealthOut:
        return cls(
            workers=health.workers,
            last_heartbeat_at=health.last_heartbeat_at,
            oldest_due_at=health.oldest_due_at,
            waited_seconds=round(health.waited_seconds, 1),
            behind=health.behind,
        )


class JobBoardOut(Page[JobOut]):
    counts: dict[str, int]
    """Jobs of each status (of the task asked for, if one was)."""
    tasks: dict[str, int]
    """Every task in the queue and its jobs of the status asked for."""
    health: QueueHealthOut
    """Whether the queue is being worked."""


StatusQuery = Annotated[
    str,
    Query(
        max_length=16,
        description="failed (the default), todo, doing, succeeded, cancelled, aborted; "
        "empty for every status",
    ),
]


@router.get("/ops/jobs")
async def list_jobs(
    actor: ApiActor,
    session: DbSession,
    status: StatusQuery = "failed",
    task: Annotated[str, Query(max_length=128)] = "",
    cursor: Annotated[str | None, Query(max_length=20)] = None,
) -> JobBoardOut:
    """Background jobs, newest first, fifty a page (operators): of one status and one task
    (``identity:purge_expired_sms_codes``), with how many there are of each. Finished jobs
    are kept ``XINGDONG_JOB_RETENTION_DAYS``."""
    board = await job_board.job_board(session, actor=actor, status=status, task=task, cursor=cursor)
    assert board.health is not None
    return JobBoardOut(
        items=[JobOut.of(j) for j in board.items],
        next_cursor=board.next_cursor,
        counts=board.counts,
        tasks=board.tasks,
        health=QueueHealthOut.of(board.health),
    )


@router.get("/ops/jobs/{job_id}")
async def read_job(job_id: JobId, actor: ApiActor, session: DbSession) -> JobOut:
    """One background job (operators)."""
    return JobOut.of(await job_board.job(session, actor=actor, job_id=job_id))


@router.post("/ops/jobs/{job_id}/run-again")
async def run_job_again(job_id: JobId, actor: ApiActor, session: DbSession) -> JobOut:
    """Put a failed job back in its queue to run at once (operators; written to the audit
    log as ``core.job_run_again``). Any other status is refused (``job_not_failed``, 409):
    a job waiting or running will run, and one that succeeded did its work."""
    return JobOut.of(await job_board.run_again(session, actor=actor, job_id=job_id))
