"""What the feed learns from its own past: a serving process starts from the exposure log
of the last days, and the nightly job seeds the pacing prices from the optimum of the last
day's visits, which every serving process picks up."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from uuid import UUID

import httpx
import numpy as np
import pytest
from sqlalchemy import insert, select
from typer.testing import CliRunner

from tests.integration.loop_stalls import timed_beside_a_ticker
from tests.integration.work_support import bearer
from tests.lifecycle_world import World, add_worker, live_campaign
from xingdong.cli import app
from xingdong.core.clock import utcnow
from xingdong.core.settings import Settings, get_settings
from xingdong.dispatch import history, nightly
from xingdong.dispatch.arrays import sigmoid
from xingdong.dispatch.live import LiveDispatch
from xingdong.dispatch.models import SeededPrice, ShownFeed
from xingdong.work import service as work


@pytest.fixture
def workers() -> int:
    return 4


async def log_showings(
    world: World, campaign_ids: list[UUID], *, times: int, start: datetime
) -> None:
    """``times`` feeds of these campaigns in this order, one a minute, spread over the
    world's workers."""
    rows = [
        {
            "person_id": world.workers[n % len(world.workers)].id,
            "shown_at": start + timedelta(minutes=n),
            "campaign_ids": campaign_ids,
            "reasons": ["interest_match"] * len(campaign_ids),
        }
        for n in range(times)
    ]
    async with world.db.session_scope() as s:
        await s.execute(insert(ShownFeed), rows)


def chance_at_top(live: LiveDispatch, task_id: str, person_id: str) -> float:
    """The model's chance that the person takes the task at the top (labels aside)."""
    dispatcher = live.dispatcher
    slot = np.array([dispatcher.index.slot_of[task_id]], dtype=np.int64)
    return float(sigmoid(dispatcher.model.log_odds(slot, person_id, []))[0])


async def test_a_showing_counts_as_taken_when_claimed_within_the_hour(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, title="领取过的任务", interests=["美妆"])
    now = utcnow()
    worker = world.workers[0]
    async with world.db.session_scope() as s:
        await s.execute(
            insert(ShownFeed),
            [
                {"person_id": worker.id, "shown_at": at, "campaign_ids": [campaign.id],
                 "reasons": ["interest_match"]}
                for at in (now - timedelta(hours=3), now - timedelta(minutes=1))
            ],
        )  # fmt: skip
    claimed = await client.post(
        f"/api/v1/tasks/{campaign.id}/claims", headers=await bearer(world, worker)
    )
    assert claimed.status_code == 201, claimed.text
    async with world.db.sessionmaker() as s:
        shown = await history.showings(
            s, since=now - timedelta(days=1), until=utcnow() + timedelta(seconds=1), limit=10
        )
        latest_only = await history.showings(
            s, since=now - timedelta(days=1), until=utcnow() + timedelta(seconds=1), limit=1
        )
    assert [s.taken for s in shown] == [False, True]  # the old showing was not what sold
    assert shown[1].person.id == str(worker.id)
    assert shown[1].person.region == worker.region
    assert latest_only == shown[1:]


async def test_a_new_process_starts_from_the_exposure_log(world: World, settings: Settings) -> None:
    shunned = await live_campaign(world, title="没人做的任务", interests=["美妆"])
    await log_showings(world, [shunned.id], times=300, start=utcnow() - timedelta(hours=20))
    person = str(world.workers[0].id)

    fresh = LiveDispatch(world.db, settings.model_copy(update={"dispatch_history_days": 0}))
    learned = LiveDispatch(world.db, settings)
    async with world.db.sessionmaker() as s:
        await fresh.sync(s, utcnow(), max_age_s=0)
        await learned.sync(s, utcnow(), max_age_s=0)
    before = chance_at_top(fresh, str(shunned.id), person)
    after = chance_at_top(learned, str(shunned.id), person)
    # 300 showings without a single claim: the model no longer expects it to sell.
    assert after < before * 0.7


async def test_the_nightly_seeding_prices_the_scarce_campaign_and_processes_pick_it_up(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    # Yesterday both were shown in the same 200 visits of four people: together they
    # would likely have taken the scarce one more than once (each may take it once), and
    # it has one unit.
    scarce = await live_campaign(world, title="抢手任务", interests=["美妆"], quantity=1)
    plenty = await live_campaign(world, title="充足任务", interests=["美妆"], quantity=500)
    start = utcnow() - timedelta(hours=20)
    await log_showings(world, [scarce.id, plenty.id], times=200, start=start)

    serving = LiveDispatch(world.db, settings)
    async with world.db.sessionmaker() as s:
        await serving.sync(s, utcnow(), max_age_s=0)
    seeding = await nightly.seed_prices(world.db, settings, now=utcnow() + timedelta(seconds=1))
    assert seeding.visits == seeding.day_visits == 200
    assert seeding.exact
    assert seeding.campaigns == 2
    assert seeding.prices[str(scarce.id)] > 0.0
    assert seeding.prices[str(plenty.id)] == pytest.approx(0.0, abs=1e-9)
    async with world.db.sessionmaker() as s:
        stored = dict((await s.execute(select(SeededPrice.campaign_id, SeededPrice.price))).all())
    assert stored[scarce.id] == pytest.approx(seeding.prices[str(scarce.id)])

    # The serving process takes the new prices at its next sync.
    async with world.db.sessionmaker() as s:
        await serving.sync(s, utcnow(), max_age_s=0)
    slot = serving.dispatcher.index.slot_of[str(scarce.id)]
    expected = min(seeding.prices[str(scarce.id)], serving.dispatcher.weights.pacing_max_price)
    assert serving.dispatcher.pacer.price[slot] == pytest.approx(expected)

    # A second run replaces the first seeding rather than adding to it.
    again = await nightly.seed_prices(world.db, settings, now=utcnow() + timedelta(seconds=2))
    async with world.db.sessionmaker() as s:
        count = len((await s.execute(select(SeededPrice.campaign_id))).all())
    assert count == again.campaigns == 2


async def test_solving_again_prices_what_the_rest_of_the_day_wants_more_of_than_is_left(
    world: World, settings: Settings
) -> None:
    # The last 20 hours' visits come again from 4 hours on: the scarce campaign is wanted
    # by more of them than it has units for; the one ending in two hours is gone by then.
    scarce = await live_campaign(world, title="抢手任务", interests=["美妆"], quantity=1)
    plenty = await live_campaign(world, title="充足任务", interests=["美妆"], quantity=500)
    ending = await live_campaign(
        world, title="快结束的任务", interests=["美妆"], quantity=1,
        ends_at=utcnow() + timedelta(hours=2),
    )  # fmt: skip
    # With no feed shown yet there is nothing to solve on: the stored seeding stays.
    async with world.db.session_scope() as s:
        await s.execute(
            insert(SeededPrice).values(campaign_id=scarce.id, price=0.25, seeded_at=utcnow())
        )
    idle = await nightly.resolve_prices(world.db, settings)
    assert (idle.visits, idle.campaigns) == (0, 0)
    async with world.db.sessionmaker() as s:
        kept = dict((await s.execute(select(SeededPrice.campaign_id, SeededPrice.price))).all())
    assert kept == {scarce.id: 0.25}

    await log_showings(
        world, [scarce.id, plenty.id, ending.id], times=200, start=utcnow() - timedelta(hours=20)
    )
    serving = LiveDispatch(world.db, settings)
    async with world.db.sessionmaker() as s:
        await serving.sync(s, utcnow(), max_age_s=0)

    resolved = await nightly.resolve_prices(world.db, settings, now=utcnow() + timedelta(seconds=1))
    assert resolved.visits == 200
    assert resolved.campaigns == 3 and resolved.scarce == 1
    assert resolved.prices[str(scarce.id)] > 0.0
    assert resolved.prices[str(plenty.id)] == pytest.approx(0.0, abs=1e-9)
    assert resolved.prices[str(ending.id)] == pytest.approx(0.0, abs=1e-9)
    assert resolved.value_fen > 0

    # Stored as the seeding, and the serving process takes it at its next sync.
    async with world.db.sessionmaker() as s:
        await serving.sync(s, utcnow(), max_age_s=0)
    slot = serving.dispatcher.index.slot_of[str(scarce.id)]
    assert serving.dispatcher.pacer.price[slot] == pytest.approx(
        min(resolved.prices[str(scarce.id)], serving.dispatcher.weights.pacing_max_price)
    )

    # With its one unit claimed, it is no longer live: nothing is left to price.
    taker = await add_worker(world, handle="taker")
    async with world.db.session_scope() as s:
        await work.claim(s, person=taker, campaign_id=scarce.id, settings=settings)
    later = await nightly.resolve_prices(world.db, settings, now=utcnow() + timedelta(seconds=2))
    assert str(scarce.id) not in later.prices
    assert later.campaigns == 2


async def test_on_a_busy_day_the_seedings_solve_on_a_sample_spread_over_the_day(
    world: World, settings: Settings
) -> None:
    scarce = await live_campaign(world, title="抢手任务", interests=["美妆"], quantity=1)
    plenty = await live_campaign(world, title="充足任务", interests=["美妆"], quantity=500)
    start = utcnow() - timedelta(hours=20)
    await log_showings(world, [scarce.id, plenty.id], times=400, start=start)
    since, until = utcnow() - timedelta(days=1), utcnow()
    async with world.db.sessionmaker() as s:
        everything = await history.sampled_showings(s, since=since, until=until, feeds=400)
        day = await history.sampled_showings(s, since=since, until=until, feeds=100)
        again = await history.sampled_showings(s, since=since, until=until, feeds=100)
    assert (everything.share, everything.feeds, len(everything.showings)) == (1.0, 400, 800)
    assert (day.share, day.feeds) == (0.25, 400)
    slates = history.visits(day.showings)
    assert 50 <= len(slates) <= 160
    assert all(len(slate) == 2 for slate in slates)  # each feed whole
    # Spread over the day, not its latest hours; the same rows give the same sample.
    moments = sorted(slate[0].shown_at for slate in slates)
    assert moments[0] < start + timedelta(minutes=100)
    assert moments[-1] >= start + timedelta(minutes=300)
    assert [(x.person.id, x.shown_at) for x in again.showings] == [
        (x.person.id, x.shown_at) for x in day.showings
    ]

    busy = settings.model_copy(update={"dispatch_solve_visits": 100})
    seeding = await nightly.seed_prices(world.db, busy, now=utcnow() + timedelta(seconds=1))
    assert (seeding.visits, seeding.day_visits) == (len(slates), 400)
    assert seeding.prices[str(scarce.id)] > 0.0
    assert seeding.prices[str(plenty.id)] == pytest.approx(0.0, abs=1e-9)
    resolved = await nightly.resolve_prices(world.db, busy, now=utcnow() + timedelta(seconds=2))
    assert (resolved.visits, resolved.day_visits) == (len(slates), 400)
    assert resolved.prices[str(scarce.id)] > 0.0


def test_seed_prices_from_the_command_line(clean_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XINGDONG_DATABASE_URL", clean_db)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["dispatch", "seed-prices", "--json"])
        again = CliRunner().invoke(app, ["dispatch", "seed-prices", "--rest-of-day"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["visits"] == 0  # nothing was shown yet
    assert figures["prices"] == {}
    assert again.exit_code == 0, again.output
    assert "0 visits to come; 0 live campaigns priced" in again.output


async def test_the_event_loop_keeps_turning_while_the_prices_are_solved(
    world: World, settings: Settings
) -> None:
    """In ``serve`` the job worker shares the web server's loop: a nightly seeding on a
    busy day (three minutes) held every request that long."""
    campaigns = [
        await live_campaign(world, title=f"任务{n}", interests=["美妆"], quantity=1 + n % 3)
        for n in range(6)
    ]
    await log_showings(
        world, [c.id for c in campaigns], times=300, start=utcnow() - timedelta(hours=22)
    )
    seeding, stalls = await timed_beside_a_ticker(
        nightly.seed_prices(world.db, settings, now=utcnow())
    )
    assert seeding.visits == 300
    # Solved on the loop, the loop stood still for nine tenths of the seeding (2.7 s of
    # 2.9 s here); off it, for 1%.
    assert stalls.longest_s < 0.25 * stalls.took_s, stalls
