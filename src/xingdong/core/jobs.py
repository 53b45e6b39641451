"""Background jobs on procrastinate, a PostgreSQL-backed queue.

Domains declare their jobs on a :class:`procrastinate.Blueprint` in their ``jobs.py``;
:func:`build_job_app` gathers them. A job caused by a change is enqueued with
:func:`defer_in_transaction` on the change's own session, so a rollback drops the job and
a commit cannot lose it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import procrastinate
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core.db import libpq_url

JOB_MODULES = (
    "xingdong.identity.jobs",
    "xingdong.ledger.jobs",
    "xingdong.work.jobs",
    "xingdong.evidence.jobs",
    "xingdong.risk.jobs",
    "xingdong.dispatch.jobs",
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


def build_job_app(database_url: str) -> procrastinate.App:
    """The job app with every domain's jobs. Once per process: adding a blueprint renames
    its tasks in place, so a second app built the same way would find none of them."""
    import importlib

    connector = procrastinate.PsycopgConnector(conninfo=libpq_url(database_url))
    app = procrastinate.App(connector=connector)
    for module_name in JOB_MODULES:
        module = importlib.import_module(module_name)
        app.add_tasks_from(module.blueprint, namespace=module.NAMESPACE)
    return app
