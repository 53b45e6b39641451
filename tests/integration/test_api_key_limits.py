"""An organisation's API key is limited in how many requests it makes
(``XINGDONG_RATE_LIMIT_API_KEY``): past the limit it is told when to try again, another
key of the organisation and its owner's own token go on working."""

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
    return make_settings(rate_limit_api_key="3/minute")


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
