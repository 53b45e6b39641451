"""The process's job app: every domain's jobs, however many times it is asked for, on the
database asked for last."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from xingdong.core.jobs import (
    FORCED_EXIT,
    JOB_MODULES,
    RESTART_FIRST_S,
    RESTART_MOST_S,
    STEADY_AFTER_S,
    build_job_app,
    keep_running,
    until_signalled,
)


def test_asking_again_gives_the_same_jobs_on_the_new_database() -> None:
    first = build_job_app("postgresql://u@127.0.0.1:5432/first")
    first_connector = first.connector
    second = build_job_app("postgresql://u@127.0.0.1:5432/second")
    # Adding a blueprint renames its tasks in place: a second app built afresh had none.
    assert second is first
    assert {"dispatch:seed_prices", "dispatch:resolve_prices"} <= set(second.tasks)
    namespaces = {name.split(":")[0] for name in second.tasks}
    assert namespaces >= {module.split(".")[1] for module in JOB_MODULES}
    # Moved to the second database: jobs are read and written there.
    assert second.connector is not first_connector
    assert second.job_manager.connector is second.connector


async def test_a_worker_that_stops_on_its_own_is_started_again_with_growing_waits() -> None:
    waits: list[float] = []
    now = [0.0]
    starts = 0
    forever = asyncio.Event()

    async def run() -> None:
        nonlocal starts
        starts += 1
        now[0] += 1.0  # each start runs a second
        if starts == 1:
            raise ConnectionError("deadlock detected")  # a side task failed: it stops
        if starts == 2:
            raise RuntimeError("connection lost")
        if starts == 3:
            return  # stopped with no error
        if starts == 4:
            now[0] += STEADY_AFTER_S  # ran for long before stopping
            raise ConnectionError("again")
        await forever.wait()  # then it keeps going

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    task = asyncio.create_task(keep_running(run, name="test", sleep=sleep, clock=lambda: now[0]))
    for _ in range(50):
        await asyncio.sleep(0)
    assert starts == 5
    # 1, 2, 4 while it keeps failing; after a long run, back to the first wait.
    assert waits == [RESTART_FIRST_S, 2.0, 4.0, RESTART_FIRST_S]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task  # stopping the server stops it for good
    assert starts == 5


async def test_the_waits_stop_growing_at_thirty_seconds() -> None:
    waits: list[float] = []

    async def run() -> None:
        raise ConnectionError("down")

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 8:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await keep_running(run, name="test", sleep=sleep, clock=lambda: 0.0)
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, RESTART_MOST_S, RESTART_MOST_S, RESTART_MOST_S]


async def test_a_stop_signal_lets_running_jobs_finish_and_a_second_leaves_at_once() -> None:
    left: list[int] = []
    stopping = asyncio.Event()
    jobs_done = asyncio.Event()

    async def worker() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            # As a procrastinate worker does when cancelled: no new job, the running
            # ones finish, then it stops.
            stopping.set()
            await jobs_done.wait()
            raise

    runner = asyncio.create_task(until_signalled(worker(), name="test", leave=left.append))
    await asyncio.sleep(0)  # its handlers are in place
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(stopping.wait(), 5)
    await asyncio.sleep(0.05)
    assert not runner.done()  # waiting for the running jobs, not started again
    assert left == []
    os.kill(os.getpid(), signal.SIGINT)
    await asyncio.sleep(0.05)
    assert left == [FORCED_EXIT]
    jobs_done.set()
    await asyncio.wait_for(runner, 5)  # a stop asked for is no error
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
