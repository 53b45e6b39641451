"""The feed API keeps each person's facts in the process until the database's
notifications say they changed (``xingdong.dispatch.facts_cache``): kept facts answer
without a query, every table the facts come from announces its changes, a read that
raced a change is not kept, and a lost channel means reading every time until it is back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from uuid import UUID

import httpx
import psycopg
import pytest
from prometheus_client import REGISTRY

from tests.integration.work_support import bearer, set_columns
from tests.lifecycle_world import World, live_campaign
from xingdong.core.clock import utcnow
from xingdong.core.db import libpq_url
from xingdong.core.settings import Settings
from xingdong.dispatch.facts_cache import CHANNEL, FactsCache
from xingdong.dispatch.live import live_dispatch
from xingdong.identity.errors import SessionExpired
from xingdong.identity.models import Person


def cache_of(client: httpx.AsyncClient) -> FactsCache:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return live_dispatch(runtime.db, runtime.settings).facts


async def until(check: Callable[[], bool], what: str) -> None:
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not within 5 s: {what}")


async def listening_feed(client: httpx.AsyncClient, auth: dict[str, str]) -> FactsCache:
    """Open the feed until the process listens and keeps this person's facts."""
    cache = cache_of(client)
    assert (await client.get("/api/v1/tasks", headers=auth)).status_code == 200
    await until(lambda: cache.listening, "the channel is open")
    assert (await client.get("/api/v1/tasks", headers=auth)).status_code == 200
    assert len(cache) == 1
    return cache


async def test_kept_facts_answer_until_a_change_elsewhere_is_announced(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, title="会被藏起")
    auth = await bearer(world, world.workers[0])
    cache = await listening_feed(client, auth)
    reads = cache.reads
    kept = REGISTRY.get_sample_value("xingdong_feed_facts_total", {"source": "kept"})
    shown = (await client.get("/api/v1/tasks", headers=auth)).json()
    assert [item["campaign_id"] for item in shown["items"]] == [str(campaign.id)]
    assert cache.reads == reads
    assert REGISTRY.get_sample_value("xingdong_feed_facts_total", {"source": "kept"}) == (
        (kept or 0.0) + 1
    )
    assert 'xingdong_feed_facts_total{source="kept"}' in (await client.get("/metrics")).text

    # Hidden by another process (here: SQL on another connection): the notification
    # drops the kept facts and the next feed reads them again.
    async with await psycopg.AsyncConnection.connect(
        libpq_url(world.db.url), autocommit=True
    ) as conn:
        await conn.execute(
            "INSERT INTO dispatch_feed_hides (person_id, kind, ref) VALUES (%s, 'campaign', %s)",
            (world.workers[0].id, campaign.id),
        )
    await until(lambda: len(cache) == 0, "the change is heard")
    after = (await client.get("/api/v1/tasks", headers=auth)).json()
    assert after["items"] == []
    assert cache.reads == reads + 1

    # Through this process's own API the change counts at once.
    unhidden = await client.delete(f"/api/v1/feed/hidden/campaign/{campaign.id}", headers=auth)
    assert unhidden.status_code == 204
    again = (await client.get("/api/v1/tasks", headers=auth)).json()
    assert [item["campaign_id"] for item in again["items"]] == [str(campaign.id)]


async def _notices(
    url: str, change: Callable[[psycopg.AsyncConnection], Awaitable[None]]
) -> list[str]:
    """What the channel carried for one committed change (made on its own connection)."""
    async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as ear:
        await ear.execute(f"LISTEN {CHANNEL}")
        async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as conn:
            await change(conn)
            await conn.execute(f"NOTIFY {CHANNEL}, 'end'")
        heard: list[str] = []
        async for notice in ear.notifies(timeout=5):
            if notice.payload == "end":
                return heard
            heard.append(notice.payload)
    raise AssertionError("the end marker was not heard")


async def test_every_table_of_the_facts_announces_what_the_feed_reads(
    client: httpx.AsyncClient, world: World
) -> None:
    url = world.db.url
    worker = world.workers[0]
    person = str(worker.id)
    campaign = await live_campaign(world, title="通知")
    auth = await bearer(world, worker)

    def sql(
        statement: str, *params: object
    ) -> Callable[[psycopg.AsyncConnection], Awaitable[None]]:
        async def run(conn: psycopg.AsyncConnection) -> None:
            await conn.execute(statement, params)

        return run

    assert (
        await _notices(url, sql("UPDATE people SET display_name = 'x' WHERE id = %s", worker.id))
        == []
    )
    assert await _notices(
        url, sql("UPDATE people SET region = '广东' WHERE id = %s", worker.id)
    ) == [person]
    assert await _notices(
        url, sql("UPDATE api_tokens SET revoked_at = now() WHERE person_id = %s", worker.id)
    ) == [person]
    assert (
        await _notices(
            url, sql("UPDATE consents SET ip = '10.0.0.1' WHERE person_id = %s", worker.id)
        )
        == []
    )
    assert await _notices(url, sql("DELETE FROM consents WHERE person_id = %s", worker.id)) == [
        person
    ]
    assert await _notices(
        url,
        sql(
            "UPDATE platform_accounts SET followers = followers + 1 WHERE person_id = %s", worker.id
        ),
    ) == [person]
    assert await _notices(
        url,
        sql(
            "INSERT INTO dispatch_feed_hides (person_id, kind, ref) VALUES (%s, 'brand', %s)",
            worker.id,
            campaign.org_id,
        ),
    ) == [person]
    assert await _notices(url, sql("TRUNCATE dispatch_feed_hides")) == ["*"]

    other = await bearer(world, world.workers[1])
    claimed = await client.post(f"/api/v1/tasks/{campaign.id}/claims", headers=other)
    assert claimed.status_code == 201, claimed.text
    second = str(world.workers[1].id)
    assignment = claimed.json()["id"]
    assert (
        await _notices(
            url,
            sql(
                "UPDATE assignments SET expires_at = expires_at + interval '1 hour' WHERE id = %s",
                UUID(assignment),
            ),
        )
        == []
    )
    assert await _notices(
        url, sql("UPDATE assignments SET status = 'expired' WHERE id = %s", UUID(assignment))
    ) == [second]
    assert auth  # the first worker's token was made before its revocation above


async def test_a_read_that_raced_a_change_is_not_kept(
    client: httpx.AsyncClient, world: World
) -> None:
    auth = await bearer(world, world.workers[0])
    cache = await listening_feed(client, auth)
    cache.forget(str(world.workers[0].id))
    token = auth["Authorization"].removeprefix("Bearer ")
    url = world.db.url
    # The read waits behind a lock while a change commits and is heard; its snapshot may
    # not hold the change, so what it read is answered but not kept.
    async with await psycopg.AsyncConnection.connect(libpq_url(url)) as holder:
        await holder.execute("LOCK TABLE dispatch_feed_hides IN ACCESS EXCLUSIVE MODE")
        read = asyncio.create_task(cache.facts(token=token, now=utcnow()))
        await asyncio.sleep(0.2)
        assert not read.done()
        before = cache._notices
        await set_columns(world, Person, world.workers[1].id, region="上海")
        await until(lambda: _heard(cache, before), "the change is heard")
        await holder.rollback()
    facts = await read
    assert facts.person_id == world.workers[0].id
    assert len(cache) == 0
    # Nothing announced meanwhile: kept.
    await cache.facts(token=token, now=utcnow())
    assert len(cache) == 1


def _heard(cache: FactsCache, before: int) -> bool:
    cache.poll()
    return cache._notices > before


async def test_kept_facts_still_check_the_tokens_expiry(
    client: httpx.AsyncClient, world: World
) -> None:
    auth = await bearer(world, world.workers[0])
    cache = await listening_feed(client, auth)
    token = auth["Authorization"].removeprefix("Bearer ")
    soon = utcnow() + timedelta(minutes=1)
    async with await psycopg.AsyncConnection.connect(
        libpq_url(world.db.url), autocommit=True
    ) as conn:
        await conn.execute(
            "UPDATE api_tokens SET expires_at = %s WHERE person_id = %s",
            (soon, world.workers[0].id),
        )
    await until(lambda: len(cache) == 0, "the change is heard")
    await cache.facts(token=token, now=utcnow())
    assert len(cache) == 1
    reads = cache.reads
    with pytest.raises(SessionExpired):
        await cache.facts(token=token, now=soon + timedelta(seconds=1))
    assert cache.reads == reads
    assert len(cache) == 0


async def test_a_lost_channel_reads_every_time_until_it_is_back(
    client: httpx.AsyncClient, world: World
) -> None:
    auth = await bearer(world, world.workers[0])
    cache = await listening_feed(client, auth)
    cache.retry_seconds = 0.5
    pid = cache._conn.pgconn.backend_pid  # type: ignore[union-attr]
    # Counted before the connection goes: the process may notice the loss at once.
    lost = REGISTRY.get_sample_value("xingdong_feed_facts_channel_lost_total") or 0.0
    async with await psycopg.AsyncConnection.connect(
        libpq_url(world.db.url), autocommit=True
    ) as conn:
        await conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    await until(lambda: not cache.listening, "the loss is noticed")
    assert REGISTRY.get_sample_value("xingdong_feed_facts_channel_lost_total") == lost + 1
    assert len(cache) == 0
    reads = cache.reads
    for _ in range(2):
        assert (await client.get("/api/v1/tasks", headers=auth)).status_code == 200
    assert cache.reads == reads + 2
    await asyncio.sleep(0.6)
    assert (await client.get("/api/v1/tasks", headers=auth)).status_code == 200
    await until(lambda: cache.listening, "the channel is open again")
    assert cache._conn.pgconn.backend_pid != pid  # type: ignore[union-attr]


async def test_nothing_is_kept_when_switched_off_and_at_most_the_size(
    world: World, settings: Settings
) -> None:
    tokens = []
    for worker in world.workers[:3]:
        tokens.append((await bearer(world, worker))["Authorization"].removeprefix("Bearer "))
    off = FactsCache(world.db, settings.model_copy(update={"dispatch_facts_cache_seconds": 0}))
    small = FactsCache(world.db, settings.model_copy(update={"dispatch_facts_cache_size": 2}))
    try:
        await small.facts(token=tokens[0], now=utcnow())
        await until(lambda: small.listening, "the channel is open")
        for token in tokens:
            await off.facts(token=token, now=utcnow())
            await off.facts(token=token, now=utcnow())
            await small.facts(token=token, now=utcnow())
        assert (len(off), off.reads, off.listening) == (0, 6, False)
        assert len(small) == 2
        reads = small.reads
        await small.facts(token=tokens[2], now=utcnow())
        assert small.reads == reads
        await small.facts(token=tokens[0], now=utcnow())
        assert small.reads == reads + 1
    finally:
        await off.stop()
        await small.stop()


async def test_a_token_revoked_here_is_refused_at_once(
    client: httpx.AsyncClient, world: World
) -> None:
    auth = await bearer(world, world.workers[0])
    cache = await listening_feed(client, auth)
    assert (await client.delete("/api/v1/auth/tokens/current", headers=auth)).status_code == 204
    assert len(cache) == 0
    refused = await client.get("/api/v1/tasks", headers=auth)
    assert refused.status_code == 401
    assert refused.json()["code"] == "session_expired"
