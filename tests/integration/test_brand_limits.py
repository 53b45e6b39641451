"""What a brand's systems may do how often: an organisation's API key is limited in how
many requests it makes (``XINGDONG_RATE_LIMIT_API_KEY``): past the limit it is told when
to try again, another key of the organisation and its owner's own token go on working;
a campaign is paused and resumed a limited number of times
(``XINGDONG_RATE_LIMIT_CAMPAIGN_TOGGLES``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.brand_world import bearer
from tests.integration.conftest import make_settings
from tests.integration.test_api_keys import make_key
from tests.lifecycle_world import World, build_world
from xingdong.core.settings import Settings


@pytest.fixture
def settings() -> Settings:
    return make_settings(rate_limit_api_key="3/minute", rate_limit_campaign_toggles="3/hour")


@pytest.fixture
async def world(client: httpx.AsyncClient, clean_db: str) -> AsyncIterator[World]:
    built = await build_world(clean_db, make_settings(), workers=1, funds=100_000)
    yield built
    await built.db.dispose()


async def test_a_key_past_its_limit_waits_and_others_go_on(
    client: httpx.AsyncClient, world: World
) -> None:
    owner = await bearer(world, world.owner)
    busy, _ = await make_key(client, world, owner, access="read")
    other, _ = await make_key(client, world, owner, access="read")
    path = f"/api/v1/orgs/{world.org_id}/balance"
    english = {**busy, "Accept-Language": "en"}
    answers = [await client.get(path, headers=english) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.json()["code"] == "rate_limited"
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert "This API key has made as many requests" in refused.json()["detail"]
    assert (await client.get(path, headers=other)).status_code == 200
    for _ in range(5):
        assert (await client.get(path, headers=owner)).status_code == 200


async def test_a_campaign_switched_on_and_off_too_often_waits(
    client: httpx.AsyncClient, world: World
) -> None:
    """Each pause and resume sends the brand's systems an event; past
    ``rate_limit_campaign_toggles`` (here 3 an hour) the switch is refused and the
    campaign stays as it was, and no event is made."""
    from sqlalchemy import func, select

    from tests.lifecycle_world import live_campaign
    from xingdong.insights.models import Event

    owner = {**await bearer(world, world.owner), "Accept-Language": "en"}
    campaign = await live_campaign(world)
    base = f"/api/v1/campaigns/{campaign.id}"
    steps = [
        await client.post(f"{base}/{step}", headers=owner)
        for step in ("pause", "resume", "pause", "resume")
    ]
    assert [s.status_code for s in steps] == [200, 200, 200, 429]
    assert steps[-1].json()["code"] == "rate_limited"
    assert "paused and resumed as often" in steps[-1].json()["detail"]
    assert (await client.get(base, headers=owner)).json()["status"] == "paused"
    async with world.db.sessionmaker() as s:
        told = await s.scalar(
            select(func.count())
            .select_from(Event)
            .where(
                Event.org_id == world.org_id,
                Event.type.in_(("campaign.paused", "campaign.resumed")),
            )
        )
    assert told == 3
