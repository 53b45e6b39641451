"""The feed's index reads from the database only what moved: the campaigns whose row
changed (any writer: the trigger stamps ``changed_at``) or whose window opened or closed
since its last read, and every live campaign now and then."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.lifecycle_world import World, live_campaign
from xingdong.core.clock import utcnow
from xingdong.core.settings import Settings
from xingdong.dispatch import live as live_module
from xingdong.dispatch.live import LiveDispatch


async def sync(live: LiveDispatch, world: World, now_offset: timedelta) -> None:
    async with world.db.session_scope() as s:
        await live.sync(s, utcnow() + now_offset, max_age_s=0)


async def sql(world: World, statement: str, **values: object) -> None:
    async with world.db.session_scope() as s:
        await s.execute(text(statement), values)


async def test_reads_between_full_reads_take_what_moved(
    world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No look back: the campaigns were written a moment before the first read, and a
    # read that looked back would find them whether or not anything moved.
    monkeypatch.setattr(live_module, "CHANGE_LOOKBACK", timedelta(0))
    now = utcnow()
    running = await live_campaign(world, title="进行中")
    later = await live_campaign(
        world,
        title="一小时后开始",
        starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(hours=2),
    )
    serving = LiveDispatch(world.db, settings)
    await sync(serving, world, timedelta(0))
    full_read = serving._full_read_s  # which way each read went
    assert str(running.id) in serving.units_left and str(later.id) not in serving.units_left
    assert serving.units_left[str(running.id)] == 5

    # Written by anyone, here plain SQL: the trigger stamps the row, the next read has it.
    await sql(
        world, "UPDATE campaigns SET units_open = units_open + 2 WHERE id = :id", id=running.id
    )
    await sync(serving, world, timedelta(seconds=1))
    assert serving.units_left[str(running.id)] == 3

    # Its window opens: no row changed, the read still finds it.
    await sync(serving, world, timedelta(hours=1, seconds=1))
    assert str(later.id) in serving.units_left

    # Paused: gone at the next read. The other's window closes: gone too.
    await sql(world, "UPDATE campaigns SET status = 'paused' WHERE id = :id", id=running.id)
    await sync(serving, world, timedelta(hours=2, seconds=1))
    assert serving.units_left == {}
    assert serving._full_read_s == full_read

    # Live again (a resumed campaign): read in full as a new one.
    await sql(world, "UPDATE campaigns SET status = 'live' WHERE id = :id", id=running.id)
    await sync(serving, world, timedelta(hours=2, seconds=2))
    assert serving.units_left == {str(running.id): 3}
    assert serving.campaigns[str(running.id)].title == "进行中"
    assert serving._full_read_s == full_read

    # Rows that go without a write (the table emptied, as a test run does between tests):
    # the live count no longer matches, so the read is a full one at once.
    await sql(world, "TRUNCATE campaigns CASCADE")
    await sync(serving, world, timedelta(hours=2, seconds=3))
    assert serving.units_left == {}
    assert serving._full_read_s > full_read


async def test_a_full_read_comes_now_and_then_and_when_the_clock_goes_back(
    world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = await live_campaign(world, title="进行中")
    serving = LiveDispatch(world.db, settings)
    await sync(serving, world, timedelta(0))
    first = serving._full_read_s
    # A change whose stamp is older than the look back (a transaction that took longer
    # than that to commit): the reads between full reads miss it, the full read has it.
    await sql(world, "ALTER TABLE campaigns DISABLE TRIGGER campaigns_stamp_change")
    try:
        await sql(
            world,
            "UPDATE campaigns SET units_open = 1, changed_at = now() - interval '1 hour' "
            "WHERE id = :id",
            id=running.id,
        )
    finally:
        await sql(world, "ALTER TABLE campaigns ENABLE TRIGGER campaigns_stamp_change")
    await sync(serving, world, timedelta(seconds=1))
    assert serving.units_left[str(running.id)] == 5
    # The clock went back: what crossed a window boundary cannot be said, so all is read.
    await sync(serving, world, timedelta(seconds=-30))
    assert serving._full_read_s > first
    assert serving.units_left[str(running.id)] == 4
    # And every FULL_READ_S whatever happens.
    await sql(world, "ALTER TABLE campaigns DISABLE TRIGGER campaigns_stamp_change")
    try:
        await sql(
            world,
            "UPDATE campaigns SET units_open = 2, changed_at = now() - interval '1 hour' "
            "WHERE id = :id",
            id=running.id,
        )
    finally:
        await sql(world, "ALTER TABLE campaigns ENABLE TRIGGER campaigns_stamp_change")
    monkeypatch.setattr(live_module, "FULL_READ_S", 0.0)
    await sync(serving, world, timedelta(seconds=-29))
    assert serving.units_left[str(running.id)] == 3


async def test_a_sync_that_fails_halfway_is_followed_by_a_full_read(
    world: World, settings: Settings
) -> None:
    running = await live_campaign(world, title="进行中")
    serving = LiveDispatch(world.db, settings)
    await sync(serving, world, timedelta(0))
    # The database ends the sync's connection under it (a restart, a failover).
    async with world.db.sessionmaker() as s:
        pid = (await s.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        await sql(world, "SELECT pg_terminate_backend(:pid)", pid=pid)
        with pytest.raises(DBAPIError):
            await serving.sync(s, utcnow() + timedelta(seconds=1), max_age_s=0)
    assert serving._full_read_s == float("-inf")
    await sql(world, "UPDATE campaigns SET units_open = 1 WHERE id = :id", id=running.id)
    await sync(serving, world, timedelta(seconds=2))
    assert serving._full_read_s > 0
    assert serving.units_left[str(running.id)] == 4
