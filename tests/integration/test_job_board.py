"""Operators see the job queue on a page and in the API (failed jobs first, by status and
task, fifty at a time) and run a failed job again, which a worker then runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text

from tests.brand_world import bearer
from tests.integration.answers import csrf_from, problem
from tests.integration.conftest import make_settings
from tests.integration.test_money_pages import sign_in
from tests.lifecycle_world import World, build_world
from xingdong.core.clock import utcnow
from xingdong.core.jobs import build_job_app, defer_in_transaction

ENGLISH = {"Accept-Language": "en"}
PURGE = "identity:purge_expired_sms_codes"
SWEEP = "insights:sweep_webhooks"
SCAN = "risk:scan_cases"


@pytest.fixture
async def world(client: httpx.AsyncClient, clean_db: str) -> AsyncIterator[World]:
    built = await build_world(clean_db, make_settings(), workers=1, funds=100_000)
    yield built
    await built.db.dispose()


async def queue_jobs(world: World, *statuses: tuple[str, str]) -> list[int]:
    """Jobs of the tasks and statuses given, in that order (procrastinate's own rows)."""
    async with world.db.session_scope() as s:
        await s.execute(text("DELETE FROM procrastinate_jobs"))
        for task, _status in statuses:
            await defer_in_transaction(s, task)
        ids = list(
            (await s.execute(text("SELECT id FROM procrastinate_jobs ORDER BY id"))).scalars()
        )
        for job_id, (_task, status) in zip(ids, statuses, strict=True):
            await s.execute(
                text("UPDATE procrastinate_jobs SET status = :status WHERE id = :id"),
                {"status": status, "id": job_id},
            )
    return ids


async def test_an_operator_lists_failed_jobs_and_runs_one_again_which_a_worker_runs(
    client: httpx.AsyncClient, world: World
) -> None:
    failed, other_failed, waiting, done = await queue_jobs(
        world, (PURGE, "failed"), (SWEEP, "failed"), (PURGE, "todo"), (PURGE, "succeeded")
    )
    auth = await bearer(world, world.operator)
    board = (await client.get("/api/v1/ops/jobs", headers=auth)).json()
    # Failed ones first (the default), newest first; counts of every status.
    assert [j["id"] for j in board["items"]] == [other_failed, failed]
    assert board["counts"] == {
        "failed": 2, "todo": 1, "doing": 0, "succeeded": 1, "cancelled": 0, "aborted": 0,
    }  # fmt: skip
    assert board["tasks"] == {PURGE: 1, SWEEP: 1}
    purges = await client.get("/api/v1/ops/jobs", params={"task": PURGE}, headers=auth)
    assert [j["id"] for j in purges.json()["items"]] == [failed]
    assert purges.json()["counts"]["todo"] == 1 and purges.json()["counts"]["failed"] == 1
    everything = await client.get("/api/v1/ops/jobs", params={"status": ""}, headers=auth)
    assert [j["id"] for j in everything.json()["items"]] == [done, waiting, other_failed, failed]

    again = await client.post(f"/api/v1/ops/jobs/{failed}/run-again", headers=auth)
    assert again.status_code == 200, again.text
    assert (again.json()["status"], again.json()["task"]) == ("todo", PURGE)
    # Only a failed job: this one now waits, one done did its work, none is no job.
    for job_id, said in (
        (failed, "这个后台任务已在等待任务进程，会自行运行。"),
        (done, "这个后台任务已成功，工作已经完成。"),
    ):
        refused = await client.post(f"/api/v1/ops/jobs/{job_id}/run-again", headers=auth)
        assert problem(refused, 409, "job_not_failed")["detail"] == said
    problem(await client.post("/api/v1/ops/jobs/999999/run-again", headers=auth), 404, "not_found")
    past_bigint = await client.post(f"/api/v1/ops/jobs/{2**63}/run-again", headers=auth)
    assert past_bigint.status_code == 422
    async with world.db.sessionmaker() as s:
        entry = (
            await s.execute(
                text(
                    "SELECT actor_id, object_id, data FROM audit_log "
                    "WHERE action = 'core.job_run_again'"
                )
            )
        ).one()
    assert (entry.actor_id, entry.object_id) == (world.operator.id, str(failed))
    assert entry.data == {"task": PURGE, "attempts": 0}

    job_app = build_job_app(world.db.url)
    async with job_app.open_async():
        await job_app.run_worker_async(
            wait=False, install_signal_handlers=False, queues=["default"]
        )
    ran = await client.get(f"/api/v1/ops/jobs/{failed}", headers=auth)
    assert ran.json()["status"] == "succeeded"
    assert ran.json()["last_event"] == "succeeded"
    # The other failed one was left as it was.
    other = await client.get(f"/api/v1/ops/jobs/{other_failed}", headers=auth)
    assert other.json()["status"] == "failed"


async def test_the_jobs_page_shows_failures_and_runs_one_again_after_asking(
    client: httpx.AsyncClient, world: World
) -> None:
    failed, waiting = await queue_jobs(world, (PURGE, "failed"), (SWEEP, "todo"))
    await sign_in(client, world.operator.phone)
    page = await client.get("/ops/jobs", headers=ENGLISH)
    assert page.status_code == 200
    assert f'data-job="{failed}"' in page.text and f'data-job="{waiting}"' not in page.text
    assert '<strong data-job-count="failed">1</strong>' in page.text
    assert f'data-confirm="Run job #{failed} ({PURGE}) again now?"' in page.text
    assert "Background jobs" in page.text
    done = await client.post(
        f"/ops/jobs/{failed}/run-again",
        data={"csrf_token": csrf_from(page.text), "status": "failed", "task": ""},
    )
    assert done.status_code == 303
    assert done.headers["location"].startswith("/ops/jobs?status=failed&task=&done=")
    after = await client.get(done.headers["location"], headers=ENGLISH)
    assert "The job is back in its queue and runs within seconds." in after.text
    assert "No job has failed." in after.text
    # Twice: the page says why, in words, and keeps its filters.
    twice = await client.post(
        f"/ops/jobs/{failed}/run-again",
        data={"csrf_token": csrf_from(page.text), "status": "failed", "task": ""},
        headers=ENGLISH,
    )
    assert twice.status_code == 409
    assert "This job is waiting for a worker already: it will run." in twice.text
    waiting_list = await client.get("/ops/jobs", params={"status": "todo"}, headers=ENGLISH)
    assert f'data-job="{failed}"' in waiting_list.text and "data-run-again" not in waiting_list.text
    in_chinese = await client.get("/ops/jobs", params={"status": "todo"})
    assert "后台任务" in in_chinese.text and "等待中" in in_chinese.text
    bad = await client.get("/ops/jobs", params={"status": "lost"}, headers=ENGLISH)
    assert bad.status_code == 422 and 'data-error-for="status"' in bad.text
    assert "data-jobs" not in bad.text.replace("data-jobs-", "")
    # Reviewers and workers do not see it.
    client.cookies.clear()
    await sign_in(client, world.reviewer.phone)
    assert (await client.get("/ops/jobs")).status_code == 403
    worker = await bearer(world, world.workers[0])
    problem(await client.get("/api/v1/ops/jobs", headers=worker), 403, "forbidden")


async def test_jobs_come_fifty_at_a_time(client: httpx.AsyncClient, world: World) -> None:
    ids = await queue_jobs(world, *[(PURGE, "succeeded")] * 60)
    auth = await bearer(world, world.operator)
    first = (
        await client.get("/api/v1/ops/jobs", params={"status": "succeeded"}, headers=auth)
    ).json()
    assert [j["id"] for j in first["items"]] == ids[::-1][:50]
    rest = await client.get(
        "/api/v1/ops/jobs",
        params={"status": "succeeded", "cursor": first["next_cursor"]},
        headers=auth,
    )
    assert [j["id"] for j in rest.json()["items"]] == ids[::-1][50:]
    assert rest.json()["next_cursor"] is None
    for cursor in ("x", "²", "9" * 20):
        bad = await client.get("/api/v1/ops/jobs", params={"cursor": cursor}, headers=auth)
        assert [e["field"] for e in problem(bad, 422, "validation_failed")["errors"]] == ["cursor"]


async def test_a_job_of_a_kind_that_runs_alone_is_not_run_again_beside_a_waiting_one(
    client: httpx.AsyncClient, world: World
) -> None:
    """The hourly risk scan runs one at a time (a queueing lock): with the next one already
    waiting, a failed one is not put back beside it (it was a 500)."""
    async with world.db.session_scope() as s:
        await s.execute(text("DELETE FROM procrastinate_jobs"))
        for _ in range(2):
            await defer_in_transaction(s, SCAN, queueing_lock="risk_scan")
            # The first fails before the second is deferred (one waits at a time).
            await s.execute(
                text(
                    "UPDATE procrastinate_jobs SET status = 'failed' WHERE id = "
                    "(SELECT min(id) FROM procrastinate_jobs) AND status = 'todo'"
                )
            )
        failed = (await s.execute(text("SELECT min(id) FROM procrastinate_jobs"))).scalar_one()
    auth = await bearer(world, world.operator)
    refused = await client.post(f"/api/v1/ops/jobs/{failed}/run-again", headers=auth)
    problem(refused, 409, "job_already_waiting")
    still = await client.get(f"/api/v1/ops/jobs/{failed}", headers=auth)
    assert (still.json()["status"], still.json()["attempts"]) == ("failed", 0)
    async with world.db.sessionmaker() as s:
        audited = await s.execute(
            text("SELECT count(*) FROM audit_log WHERE action = 'core.job_run_again'")
        )
        assert audited.scalar_one() == 0


async def test_the_board_says_whether_the_queue_is_worked(
    client: httpx.AsyncClient, world: World
) -> None:
    auth = await bearer(world, world.operator)
    await sign_in(client, world.operator.phone)
    await queue_jobs(world, (PURGE, "succeeded"))
    async with world.db.session_scope() as s:
        await s.execute(text("DELETE FROM procrastinate_workers"))

    async def health() -> dict[str, object]:
        answer = await client.get("/api/v1/ops/jobs", headers=auth)
        found: dict[str, object] = answer.json()["health"]
        return found

    # No worker beats: nothing runs, whatever waits.
    gone = await health()
    assert (gone["workers"], gone["behind"], gone["oldest_due_at"]) == (0, True, None)
    page = await client.get("/ops/jobs", headers=ENGLISH)
    assert 'data-queue-health="no-workers"' in page.text
    assert "background jobs are not running" in page.text

    # A worker beats and nothing due waits.
    async with world.db.session_scope() as s:
        await s.execute(
            text(
                "INSERT INTO procrastinate_workers (last_heartbeat) "
                "VALUES (now() - interval '10 minutes'), (now() - interval '3 seconds')"
            )
        )
        # Due later: not waiting yet.
        await defer_in_transaction(s, PURGE, scheduled_at=utcnow() + timedelta(hours=1))
    working = await health()
    assert (working["workers"], working["behind"], working["oldest_due_at"]) == (1, False, None)
    page = await client.get("/ops/jobs", headers=ENGLISH)
    assert 'data-queue-health="ok"' in page.text and "Workers running: 1" in page.text

    # One due ten minutes ago that waits for the lock a running job holds waits by design.
    async with world.db.session_scope() as s:
        for status in ("doing", "todo"):
            await defer_in_transaction(
                s, "dispatch:seed_prices", lock="dispatch_seed_prices",
                scheduled_at=utcnow() - timedelta(minutes=10),
            )  # fmt: skip
            await s.execute(
                text(
                    "UPDATE procrastinate_jobs SET status = :status WHERE id = "
                    "(SELECT max(id) FROM procrastinate_jobs)"
                ),
                {"status": status},
            )
    locked = await health()
    assert (locked["workers"], locked["behind"], locked["oldest_due_at"]) == (1, False, None)

    # A job due ten minutes ago still waits: the workers are behind.
    async with world.db.session_scope() as s:
        await defer_in_transaction(s, SWEEP, scheduled_at=utcnow() - timedelta(minutes=10))
    behind = await health()
    assert (behind["workers"], behind["behind"]) == (1, True)
    assert 595 <= float(str(behind["waited_seconds"])) <= 660
    page = await client.get("/ops/jobs", headers=ENGLISH)
    assert "A job due 10 minutes ago still waits: the workers are behind." in page.text
    in_chinese = await client.get("/ops/jobs")
    assert 'data-queue-health="behind"' in in_chinese.text
