"""Jobs are enqueued in the transaction of the change that causes them, and run."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, text

from tests.factories import next_phone
from xingdong.core.db import Database
from xingdong.core.jobs import build_job_app, defer_in_transaction
from xingdong.identity.models import SmsCode


async def job_count(db: Database) -> int:
    async with db.sessionmaker() as s:
        return int((await s.execute(text("SELECT count(*) FROM procrastinate_jobs"))).scalar_one())


async def test_a_code_request_enqueues_its_purge_at_expiry(
    client: httpx.AsyncClient, db: Database
) -> None:
    await client.post("/api/v1/auth/sms-codes", json={"phone": next_phone()})
    async with db.sessionmaker() as s:
        row = (
            await s.execute(text("SELECT task_name, scheduled_at, status FROM procrastinate_jobs"))
        ).one()
        expires_at = (await s.execute(select(SmsCode.expires_at))).scalar_one()
    assert row.task_name == "identity:purge_expired_sms_codes"
    assert row.status == "todo"
    assert 0 < (row.scheduled_at - expires_at).total_seconds() <= 2


async def test_a_rolled_back_change_enqueues_nothing(db: Database) -> None:
    async def change_that_fails() -> None:
        async with db.session_scope() as s:
            await defer_in_transaction(s, "identity:purge_expired_sms_codes")
            raise RuntimeError("the change fails after deferring")

    with pytest.raises(RuntimeError):
        await change_that_fails()
    assert await job_count(db) == 0
    async with db.session_scope() as s:
        await defer_in_transaction(s, "identity:purge_expired_sms_codes")
    assert await job_count(db) == 1


async def test_the_worker_purges_expired_codes_and_keeps_live_ones(
    client: httpx.AsyncClient, db: Database
) -> None:
    expired_phone, live_phone = next_phone(), next_phone()
    await client.post("/api/v1/auth/sms-codes", json={"phone": expired_phone})
    await client.post("/api/v1/auth/sms-codes", json={"phone": live_phone})
    async with db.session_scope() as s:
        await s.execute(
            text("UPDATE sms_codes SET expires_at = now() - interval '1 minute' WHERE phone = :p"),
            {"p": "+86" + expired_phone},
        )
        await s.execute(text("UPDATE procrastinate_jobs SET scheduled_at = now()"))
    job_app = build_job_app(db.url)
    async with job_app.open_async():
        await job_app.run_worker_async(wait=False, install_signal_handlers=False)
    async with db.sessionmaker() as s:
        phones = (await s.execute(select(SmsCode.phone))).scalars().all()
        statuses = (
            (await s.execute(text("SELECT status FROM procrastinate_jobs ORDER BY id")))
            .scalars()
            .all()
        )
        remaining = (await s.execute(select(func.count()).select_from(SmsCode))).scalar_one()
    assert phones == ["+86" + live_phone]
    assert remaining == 1
    # Both purges ran (the worker may also have started the periodic sweep).
    assert len(statuses) >= 2
    assert set(statuses) == {"succeeded"}


async def test_jobs_of_a_worker_gone_silent_run_again_and_a_live_workers_stay(
    db: Database,
) -> None:
    async with db.session_scope() as s:
        for _ in range(2):
            await defer_in_transaction(s, "identity:purge_expired_sms_codes")
        gone, alive = (
            (
                await s.execute(
                    text(
                        "INSERT INTO procrastinate_workers (last_heartbeat) VALUES "
                        "(now() - interval '10 minutes'), (now()) RETURNING id"
                    )
                )
            )
            .scalars()
            .all()
        )
        # Each worker had taken one of the jobs when the first went silent (killed, say).
        await s.execute(
            text(
                "UPDATE procrastinate_jobs SET status = 'doing', worker_id = CASE id "
                "WHEN (SELECT min(id) FROM procrastinate_jobs) THEN :gone ELSE :alive END"
            ),
            {"gone": gone, "alive": alive},
        )
        await defer_in_transaction(s, "core:retry_stalled_jobs")
    job_app = build_job_app(db.url)
    async with job_app.open_async():
        await job_app.run_worker_async(wait=False, install_signal_handlers=False)
    async with db.sessionmaker() as s:
        rows = (
            await s.execute(
                text("SELECT task_name, status FROM procrastinate_jobs ORDER BY id LIMIT 3")
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        ("identity:purge_expired_sms_codes", "succeeded"),  # run again, to the end
        ("identity:purge_expired_sms_codes", "doing"),  # its worker still beats
        ("core:retry_stalled_jobs", "succeeded"),
    ]


async def test_finished_jobs_are_forgotten_after_the_retention_and_the_rest_stay(
    db: Database,
) -> None:
    from xingdong.core.queue_upkeep import prune_finished

    async with db.session_scope() as s:
        for _ in range(8):
            await defer_in_transaction(s, "identity:purge_expired_sms_codes")
        ids = (await s.execute(text("SELECT id FROM procrastinate_jobs ORDER BY id"))).scalars()
        old_succeeded, old_failed, old_cancelled, old_aborted, *rest = ids.all()
        old_todo, old_doing, old_periodic, recent = rest
        statuses = {
            old_succeeded: "succeeded", old_failed: "failed", old_cancelled: "cancelled",
            old_aborted: "aborted", old_todo: "todo", old_doing: "doing",
            old_periodic: "succeeded", recent: "succeeded",
        }  # fmt: skip
        for job_id, status in statuses.items():
            await s.execute(
                text("UPDATE procrastinate_jobs SET status = :status WHERE id = :id"),
                {"status": status, "id": job_id},
            )
        # Every event of every job but the recent one is three weeks old.
        await s.execute(
            text(
                "UPDATE procrastinate_events SET at = now() - interval '21 days' WHERE job_id <> :r"
            ),
            {"r": recent},
        )
        await s.execute(
            text(
                "INSERT INTO procrastinate_periodic_defers (task_name, defer_timestamp, job_id) "
                "VALUES ('identity:purge_expired_sms_codes', 1, :j)"
            ),
            {"j": old_periodic},
        )
        events_before = (
            await s.execute(text("SELECT count(*) FROM procrastinate_events"))
        ).scalar_one()
    # Two a transaction, so the loop goes round until a short batch.
    assert await prune_finished(db, days=14, batch=2) == 5
    assert await prune_finished(db, days=14, batch=2) == 0
    async with db.sessionmaker() as s:
        left = (await s.execute(text("SELECT id FROM procrastinate_jobs ORDER BY id"))).scalars()
        events_of = (
            await s.execute(text("SELECT DISTINCT job_id FROM procrastinate_events ORDER BY 1"))
        ).scalars()
        defers = (
            await s.execute(text("SELECT job_id FROM procrastinate_periodic_defers"))
        ).scalars()
        assert left.all() == [old_todo, old_doing, recent]
        # The forgotten jobs' events went with them; procrastinate unlinked the periodic
        # job's record of its last run (its own trigger), which stays.
        assert events_of.all() == [old_todo, old_doing, recent]
        assert defers.all() == [None]
    assert events_before > 3
    # A shorter retention takes the recent one too; what is to run or running stays.
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert await prune_finished(db, days=0, now=tomorrow) == 1


async def test_the_worker_counts_its_jobs_by_task_and_outcome(
    client: httpx.AsyncClient,  # the app's runtime, which the jobs read
    db: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from prometheus_client import REGISTRY

    def ran(task: str, outcome: str) -> float:
        labels = {"task": task, "outcome": outcome}
        return REGISTRY.get_sample_value("xingdong_jobs_total", labels) or 0.0

    purge, deliver = "identity:purge_expired_sms_codes", "insights:deliver_webhook"
    before = (ran(purge, "succeeded"), ran(deliver, "error"), ran(deliver, "succeeded"))
    timed_before = REGISTRY.get_sample_value("xingdong_job_seconds_count", {"task": purge}) or 0
    async with db.session_scope() as s:
        await defer_in_transaction(s, purge)
        # No such delivery can be read from this id: the attempt raises.
        await defer_in_transaction(s, deliver, args={"delivery_id": "not-a-uuid"}, queue="webhooks")
    job_app = build_job_app(db.url)
    with caplog.at_level(logging.INFO):
        async with job_app.open_async():
            await job_app.run_worker_async(wait=False, install_signal_handlers=False)
    after = (ran(purge, "succeeded"), ran(deliver, "error"), ran(deliver, "succeeded"))
    # The failed attempt is a warning of ours, with what raised (procrastinate's own line
    # for it is INFO, which XINGDONG_LOG_LEVELS leaves out by default).
    warned = [r.msg for r in caplog.records if isinstance(r.msg, dict)]
    failures = [m for m in warned if m.get("event") == "job_attempt_failed"]
    assert [(m["task"], m["attempt"]) for m in failures] == [(deliver, 1)]
    assert failures[0]["exc_info"] is True
    chatter = [r for r in caplog.records if r.name.startswith("procrastinate")]
    assert all(r.levelno >= logging.WARNING for r in chatter), [r.getMessage() for r in chatter]
    assert not [
        r
        for r in caplog.records
        if r.name.startswith("procrastinate") and r.levelno < logging.WARNING
    ]
    purged, failed, delivered = (b - a for a, b in zip(before, after, strict=True))
    # The worker may also have deferred and run the periodic purge.
    assert purged >= 1
    assert (failed, delivered) == (1.0, 0.0)
    timed = REGISTRY.get_sample_value("xingdong_job_seconds_count", {"task": purge}) or 0
    assert timed - timed_before == purged
