"""Background jobs on procrastinate, a PostgreSQL-backed queue.

Domains declare their jobs on a :class:`procrastinate.Blueprint` in their ``jobs.py``;
:func:`build_job_app` gathers them. A job caused by a change is enqueued with
:func:`defer_in_transaction` on the change's own session, so a rollback drops the job and
a commit cannot lose it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import procrastinate
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.db import libpq_url
from xingdong.core.logging import get_logger

log = get_logger(__name__)

JOB_MODULES = (
    "xingdong.core.queue_upkeep",
    "xingdong.identity.jobs",
    "xingdong.ledger.jobs",
    "xingdong.work.jobs",
    "xingdong.evidence.jobs",
    "xingdong.risk.jobs",
    "xingdong.dispatch.jobs",
    "xingdong.insights.jobs",
)

_DEFER_SQL = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, :priority, :lock, "
    ":queueing_lock, CAST(:args AS jsonb), :scheduled_at)]::procrastinate_job_to_defer_v1[])"
)


async def defer_in_transaction(
    session: AsyncSession,
    task_name: str,
    *,
    args: dict[str, Any] | None = None,
    queue: str = "default",
    scheduled_at: datetime | None = None,
    lock: str | None = None,
    queueing_lock: str | None = None,
    priority: int = 0,
) -> int:
    """Enqueue ``task_name`` on the session's connection, inside its transaction."""
    result = await session.execute(
        _DEFER_SQL,
        {
            "queue": queue,
            "task": task_name,
            "priority": priority,
            "lock": lock,
            "queueing_lock": queueing_lock,
            "args": json.dumps(args or {}),
            "scheduled_at": scheduled_at,
        },
    )
    job_ids: list[int] = result.scalar_one()
    return job_ids[0]


_APP: procrastinate.App | None = None
"""The process's job app. Adding a blueprint renames its tasks in place and each task
keeps a link to its app, so the tasks are gathered into one app, once."""


_QUEUEING_LOCK_INDEX = "procrastinate_jobs_queueing_lock_idx"
"""procrastinate's unique index of the jobs waiting with a queueing lock: a second one
waiting with the same lock is refused by it."""


def another_waits(refusal: IntegrityError) -> bool:
    """Whether putting a job in its queue was refused because another with the same
    queueing lock already waits there (any other refusal is a fault)."""
    return _QUEUEING_LOCK_INDEX in str(refusal.orig)


def build_job_app(database_url: str) -> procrastinate.App:
    """The process's job app, with every domain's jobs, on this database (a process that
    asks again for another database, as the test suite does, gets the same app moved
    there: use one database at a time)."""
    import importlib

    global _APP  # noqa: PLW0603 - one app a process, see _APP
    connector = procrastinate.PsycopgConnector(conninfo=libpq_url(database_url))
    if _APP is None:
        from xingdong.core.job_metrics import measured

        _APP = procrastinate.App(
            connector=connector, worker_defaults={"worker_middleware": [measured]}
        )
        for module_name in JOB_MODULES:
            module = importlib.import_module(module_name)
            _APP.add_tasks_from(module.blueprint, namespace=module.NAMESPACE)
        return _APP
    # What procrastinate's App.replace_connector does for the length of a block, for good.
    _APP.connector = connector
    _APP.job_manager.connector = connector
    return _APP


RESTART_FIRST_S = 1.0
RESTART_MOST_S = 30.0
STEADY_AFTER_S = 300.0
"""A worker that ran this long before stopping starts again after the first wait, not
after one grown by earlier stops."""


async def keep_running(
    run: Callable[[], Awaitable[None]],
    *,
    name: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Run a job worker (``run``) for as long as this task is not cancelled, starting it
    again when it stops on its own. A worker stops for good when one of its side tasks
    fails, and a moment's database trouble does that (a deadlock chosen its periodic
    deferrer as the victim, a dropped connection): without this, a serving process would
    take no job again until restarted. The waits between starts grow from a second to
    thirty while it keeps failing."""
    wait = RESTART_FIRST_S
    while True:
        started = clock()
        log.info("job_worker_starting", worker=name)
        try:
            await run()
            log.warning("job_worker_stopped", worker=name)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job_worker_failed", worker=name)
        if clock() - started >= STEADY_AFTER_S:
            wait = RESTART_FIRST_S
        log.info("job_worker_restarting", worker=name, in_s=wait)
        await sleep(wait)
        wait = min(wait * 2, RESTART_MOST_S)


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
FORCED_EXIT = 1


class _StopOnSignal:
    """The first stop signal cancels the worker's task, which a procrastinate worker takes
    as a request to take no new job, let the running ones finish and stop. A second one
    leaves at once: the jobs still running stay ``doing`` and, their worker silent, are
    run again by ``core:retry_stalled_jobs``."""

    def __init__(
        self, task: asyncio.Future[None], leave: Callable[[int], object], *, name: str
    ) -> None:
        self._task = task
        self._leave = leave
        self._name = name
        self.signals = 0

    def __call__(self) -> None:
        self.signals += 1
        if self.signals == 1:
            log.info("job_worker_stopping", worker=self._name)
            self._task.cancel()
        else:
            log.warning("job_worker_left_at_once", worker=self._name)
            self._leave(FORCED_EXIT)


async def until_signalled(
    work: Awaitable[None], *, name: str, leave: Callable[[int], object] = os._exit
) -> None:
    """Run ``work`` (a :func:`keep_running` worker) until SIGTERM or SIGINT
    (:class:`_StopOnSignal`). Left to itself, procrastinate's own handling of the signal
    ends ``run_worker_async`` as if the worker had stopped on its own, which
    :func:`keep_running` answers by starting it again: a dedicated worker told to stop by
    its service manager ran on until it was killed, in the middle of its jobs."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    handler = _StopOnSignal(task, leave, name=name)
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, handler)
    try:
        await task
    except asyncio.CancelledError:
        log.info("job_worker_stopped_on_signal", worker=name)
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
