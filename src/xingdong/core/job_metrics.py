"""What the job workers did, for Prometheus: a worker middleware (procrastinate's) that
counts every job a process's worker runs by task and outcome and times it.

The in-process worker's figures are on the server's ``/metrics``; a dedicated worker
serves its own with ``xingdong worker --metrics-port``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import procrastinate
from procrastinate.exceptions import JobAborted
from prometheus_client import Counter, Histogram

from xingdong.core.logging import get_logger

log = get_logger(__name__)

JOBS = Counter(
    "xingdong_jobs_total",
    "Background jobs this process's worker ran, by task and outcome (succeeded; error: "
    "the attempt raised, and the job is retried or failed; aborted; interrupted: the "
    "worker stopped under it, and it runs again)",
    ["task", "outcome"],
)
JOB_SECONDS = Histogram(
    "xingdong_job_seconds",
    "Time a background job's attempt took, by task",
    ["task"],
    buckets=(0.01, 0.05, 0.25, 1.0, 5.0, 30.0, 120.0, 600.0),
)


async def measured(
    call_next: Callable[[], Awaitable[Any]],
    context: procrastinate.JobContext,
    worker: Any,  # noqa: ARG001 - procrastinate passes it; the figures do not need it
) -> Any:
    task = context.job.task_name
    started = time.perf_counter()
    outcome = "error"
    try:
        result = await call_next()
    except JobAborted:
        outcome = "aborted"
        raise
    except asyncio.CancelledError:
        outcome = "interrupted"
        raise
    except Exception:
        # procrastinate says this at INFO when the job is to be retried (ERROR only for
        # the last attempt), which XINGDONG_LOG_LEVELS leaves out by default with its
        # lines for every job; every failing attempt is worth a warning.
        log.warning(
            "job_attempt_failed",
            task=task,
            job_id=context.job.id,
            attempt=context.job.attempts + 1,
            exc_info=True,
        )
        raise
    else:
        outcome = "succeeded"
        return result
    finally:
        JOBS.labels(task=task, outcome=outcome).inc()
        JOB_SECONDS.labels(task=task).observe(time.perf_counter() - started)
