"""The feed API's own route (a plain Starlette route ahead of FastAPI's): its bodies are
byte for byte what the response model would send, its serialised items follow the live
index (a paused or filled campaign's are forgotten, units left are current), and its
refusals are the API's usual problems."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import httpx
from sqlalchemy import func, select

from tests.integration.conftest import make_settings
from tests.integration.work_support import bearer, set_columns, work_settings
from tests.lifecycle_world import World, add_worker, build_world, live_campaign
from xingdong.campaigns.models import Campaign
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.dispatch.delivery import times_shown
from xingdong.dispatch.exposures import ExposureLog
from xingdong.dispatch.feed import Dispatcher
from xingdong.dispatch.live import (
    LiveDispatch,
    drain_exposures,
    live_dispatch,
    prepare_live_dispatch,
)
from xingdong.dispatch.models import CampaignShowings, ShownFeed
from xingdong.identity.models import Person
from xingdong.work.schemas import TaskFeedOut


def live_of(client: httpx.AsyncClient) -> LiveDispatch:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return live_dispatch(runtime.db, runtime.settings)


async def feed(client: httpx.AsyncClient, auth: dict[str, str]) -> dict:  # type: ignore[type-arg]
    response = await client.get("/api/v1/tasks", headers=auth)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict = response.json()  # type: ignore[type-arg]
    return body


async def test_the_body_is_what_the_response_model_sends(
    client: httpx.AsyncClient, world: World
) -> None:
    await live_campaign(world, title='引号"和\\反斜杠 与 "seconds_left":-1 🎉')
    await live_campaign(world, title="第二个任务")
    auth = await bearer(world, world.workers[0])
    for language in ("zh-CN", "en"):
        response = await client.get("/api/v1/tasks", headers={**auth, "Accept-Language": language})
        assert response.status_code == 200
        raw = response.content
        # Read into the model and written out again, the bytes do not change: the same
        # fields in the same order, the same dates, numbers and escapes.
        assert TaskFeedOut.model_validate_json(raw).model_dump_json().encode() == raw
        assert len(response.json()["items"]) == 2
    empty = await client.get("/api/v1/tasks?type=shoot", headers=auth)
    assert TaskFeedOut.model_validate_json(empty.content).model_dump_json().encode() == (
        empty.content
    )
    assert [r["code"] for r in empty.json()["reasons"]] == ["no_tasks_of_type"]


async def test_cached_items_follow_the_live_index(client: httpx.AsyncClient, world: World) -> None:
    # Late in their window, so a claim does not put them ahead of their delivery plan.
    window = {"starts_at": utcnow() - timedelta(days=6), "ends_at": utcnow() + timedelta(days=1)}
    paused = await live_campaign(world, title="将暂停", quantity=5, **window)
    filling = await live_campaign(world, title="将满额", quantity=5, **window)
    auth = await bearer(world, world.workers[0])
    first = await feed(client, auth)
    left = {item["campaign_id"]: item["units_left"] for item in first["items"]}
    assert left == {str(paused.id): 5, str(filling.id): 5}
    bodies = live_of(client).bodies
    assert bodies.holds(str(paused.id)) and bodies.holds(str(filling.id))

    # Another worker holds a unit: the same cached item shows one unit fewer.
    other = await bearer(world, world.workers[1])
    claimed = await client.post(f"/api/v1/tasks/{filling.id}/claims", headers=other)
    assert claimed.status_code == 201, claimed.text
    second = await feed(client, auth)
    assert {i["campaign_id"]: i["units_left"] for i in second["items"]}[str(filling.id)] == 4

    await set_columns(world, Campaign, paused.id, status="paused")
    await set_columns(world, Campaign, filling.id, units_done=4)
    third = await feed(client, auth)
    assert third["items"] == []
    assert not bodies.holds(str(paused.id))
    assert not bodies.holds(str(filling.id))

    # Resumed, the campaign is read again and serialised afresh.
    await set_columns(world, Campaign, paused.id, status="live", title="已恢复")
    fourth = await feed(client, auth)
    assert [(i["campaign_id"], i["title"]) for i in fourth["items"]] == [(str(paused.id), "已恢复")]


async def test_refusals_are_the_apis_problems(client: httpx.AsyncClient, world: World) -> None:
    no_token = await client.get("/api/v1/tasks")
    assert no_token.status_code == 401
    assert no_token.headers["content-type"].startswith("application/problem+json")
    assert no_token.json()["code"] == "not_authenticated"
    unknown = await client.get("/api/v1/tasks", headers={"Authorization": "Bearer nonsense"})
    assert unknown.status_code == 401
    assert unknown.json()["code"] == "session_expired"

    auth = await bearer(world, world.workers[0])
    too_long = await client.get("/api/v1/tasks?type=" + "x" * 21, headers=auth)
    assert too_long.status_code == 422
    assert too_long.headers["content-type"].startswith("application/problem+json")
    assert [(e["field"], e["code"]) for e in too_long.json()["errors"]] == [
        ("type", "string_too_long")
    ]
    assert (await client.head("/api/v1/tasks", headers=auth)).status_code == 405
    posted = await client.post("/api/v1/tasks", headers=auth)
    assert posted.status_code == 405
    assert posted.headers["allow"] == "GET"  # RFC 9110: a 405 says what is allowed
    assert posted.json()["code"] == "method_not_allowed"

    await set_columns(world, Person, world.workers[0].id, is_active=False)
    # The process drops the person's kept facts when the database's notice of the change
    # arrives (xingdong.dispatch.facts_cache): within milliseconds, not always before the
    # next request of the same client.
    for _ in range(100):
        inactive = await client.get("/api/v1/tasks", headers=auth)
        if inactive.status_code != 200:
            break
        await asyncio.sleep(0.02)
    assert inactive.status_code == 401
    assert inactive.json()["code"] == "session_expired"


async def test_the_feed_answers_as_through_the_full_stack(
    client: httpx.AsyncClient, world: World
) -> None:
    app = client.app  # type: ignore[attr-defined]
    assert "/api/v1/tasks" in [route.path for route, _ in app.direct]
    auth = await bearer(world, world.workers[0])
    asked = [
        ("GET", "/api/v1/tasks", {}),
        ("GET", "/api/v1/tasks", {"Authorization": "Bearer nonsense", "Accept-Language": "en"}),
        ("GET", "/api/v1/tasks?type=" + "x" * 21, auth),
        ("POST", "/api/v1/tasks", auth),
        ("GET", "/api/v1/tasks?type=shoot", auth),
        ("GET", "/api/v1/tasks?type=shoot", {**auth, "Accept-Language": "en"}),
    ]
    answers = []
    direct = app.direct
    try:
        for stacks in (direct, ()):
            app.direct = stacks
            answered = []
            for method, path, headers in asked:
                response = await client.request(
                    method, path, headers={**headers, "X-Request-ID": "fixed"}
                )
                answered.append((response.status_code, dict(response.headers), response.content))
            answers.append(answered)
    finally:
        app.direct = direct
    assert answers[0] == answers[1]
    assert [status for status, _, _ in answers[0]] == [401, 401, 422, 405, 200, 200]


async def test_the_persons_language_is_used_unless_the_request_chooses(
    client: httpx.AsyncClient, world: World
) -> None:
    newcomer = await add_worker(world, birth_year=None)
    await set_columns(world, Person, newcomer.id, locale="en")
    auth = await bearer(world, newcomer)
    theirs = await feed(client, auth)
    assert theirs["reasons"][0]["message"] == "Add your birth year on your profile first."
    chosen = (await client.get("/api/v1/tasks?lang=zh-CN", headers=auth)).json()
    assert chosen["reasons"][0]["code"] == "age_unknown"
    assert not chosen["reasons"][0]["message"].isascii()


async def test_a_stale_index_is_refreshed_behind_the_request(
    client: httpx.AsyncClient, clean_db: str, tmp_path: Path
) -> None:
    settings = make_settings(**work_settings(tmp_path / "slow"), dispatch_sync_seconds=60)
    world = await build_world(clean_db, settings)
    try:
        live = LiveDispatch(world.db, settings)
        first = await live_campaign(world, title="早的任务")
        await live.refresh(utcnow())
        assert set(live.campaigns) == {str(first.id)}
        second = await live_campaign(world, title="晚的任务")
        await live.refresh(utcnow())  # fresh: nothing read
        assert set(live.campaigns) == {str(first.id)}
        live._synced_s = time.monotonic() - 40  # past half the allowed age
        await live.refresh(utcnow())
        await live.stop()  # the read started behind the request
        assert set(live.campaigns) == {str(first.id), str(second.id)}
        await set_columns(world, Campaign, second.id, status="paused")
        live._synced_s = time.monotonic() - 61  # past the allowed age: read before serving
        await live.refresh(utcnow())
        assert set(live.campaigns) == {str(first.id)}
    finally:
        await world.db.dispose()


async def test_exposures_are_copied_in_as_they_were_shown(world: World) -> None:
    campaign = await live_campaign(world, title="曝光记录")
    person = world.workers[0]
    moment = utcnow()
    log = ExposureLog(world.db)
    # Text COPY's special characters survive (codes never hold them; the writer is safe).
    log.add(
        str(person.id),
        moment,
        [(str(campaign.id), 'a\tb\\c\nd"{,}'), (str(campaign.id), "new_this_hour")],
    )
    await log.drain()
    async with world.db.sessionmaker() as s:
        rows = (await s.scalars(select(ShownFeed))).all()
    assert [(r.person_id, r.shown_at, r.campaign_ids, r.reasons) for r in rows] == [
        (person.id, moment, [campaign.id, campaign.id], ['a\tb\\c\nd"{,}', "new_this_hour"])
    ]


async def test_feeds_beyond_a_batch_are_all_copied_in(world: World) -> None:
    campaign = await live_campaign(world, title="曝光分批")
    moment = utcnow()
    log = ExposureLog(world.db, max_batch=3)
    for n in range(7):
        person = world.workers[n % 2]
        log.add(str(person.id), moment + timedelta(seconds=n), [(str(campaign.id), f"r{n}")])
    await log.drain()
    async with world.db.sessionmaker() as s:
        rows = (await s.execute(select(ShownFeed.person_id, ShownFeed.reasons))).all()
    assert sorted(rows) == sorted((world.workers[n % 2].id, [f"r{n}"]) for n in range(7))


async def test_two_writers_count_each_campaign_s_showings_per_hour_exactly(
    world: World,
) -> None:
    # As the two server processes do: two logs writing the same campaigns at once, in
    # many small batches and many rounds of counts, across an hour's edge.
    first = await live_campaign(world, title="计数一")
    second = await live_campaign(world, title="计数二")
    edge = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    logs = [
        ExposureLog(world.db, max_batch=5, max_delay_s=0.01, count_every_s=0.05) for _ in range(2)
    ]
    expected: Counter[tuple[UUID, datetime]] = Counter()

    async def show(log: ExposureLog, offset: int) -> None:
        for n in range(120):
            moment = edge + timedelta(seconds=(n - 60) * 7 + offset)
            shown = [first.id, second.id] if n % 3 else [second.id]
            log.add(str(world.workers[n % 2].id), moment, [(str(c), "recommended") for c in shown])
            for campaign_id in shown:
                expected[(campaign_id, moment.replace(minute=0, second=0))] += 1
            await asyncio.sleep(0.002)

    await asyncio.gather(show(logs[0], 0), show(logs[1], 1))
    # Counted as they go, not only when drained.
    await asyncio.sleep(0.3)
    async with world.db.sessionmaker() as s:
        counted = await s.scalar(select(func.sum(CampaignShowings.shown)))
    assert counted and counted > 0
    await asyncio.gather(*(log.drain() for log in logs))
    async with world.db.sessionmaker() as s:
        rows = (await s.execute(select(CampaignShowings))).scalars().all()
        feeds = await s.scalar(select(func.count()).select_from(ShownFeed))
    assert feeds == 240
    assert {(r.campaign_id, r.hour): r.shown for r in rows} == dict(expected)
    assert {hour for _, hour in expected} == {edge - timedelta(hours=1), edge}
    async with world.db.sessionmaker() as s:
        assert await times_shown(s, second.id) == 240
        assert await times_shown(s, first.id) == 160


async def test_a_served_process_reads_the_index_before_its_first_request(
    clean_db: str, tmp_path: Path
) -> None:
    settings = make_settings(**work_settings(tmp_path / "start"), dispatch_sync_seconds=60)
    world = await build_world(clean_db, settings)
    try:
        campaign = await live_campaign(world, title="开门即有")
        log = ExposureLog(world.db)
        log.add(str(world.workers[0].id), utcnow() - timedelta(hours=1), [(str(campaign.id), "x")])
        await log.drain()
        assert await prepare_live_dispatch(world.db, settings)
        live = live_dispatch(world.db, settings)
        # The index holds the campaign and the history was learned: the first request
        # finds a fresh index and waits for nothing.
        assert set(live.campaigns) == {str(campaign.id)}
        untrained = Dispatcher()
        untrained.upsert_task(live.spec(str(campaign.id)))
        assert live.dispatcher.model.exposures_weight(
            live.dispatcher.index.slot_of[str(campaign.id)]
        ) > untrained.model.exposures_weight(untrained.index.slot_of[str(campaign.id)])
    finally:
        await drain_exposures(world.db)
        await world.db.dispose()
    unreachable = Database("postgresql://nobody@127.0.0.1:9/none", pool_size=1)
    try:
        assert not await prepare_live_dispatch(unreachable, settings)
    finally:
        await drain_exposures(unreachable)
        await unreachable.dispose()
