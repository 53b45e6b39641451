"""What the live feed tells a worker when it holds something back: a target at its
hourly cap is neither shown nor offered, and says when it opens; an empty feed names what
to fill in on the profile and when paced tasks open, in words, not placeholders; and
bad filters and hides are refused with a problem document."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from tests.integration.answers import problem
from tests.integration.conftest import make_settings
from tests.integration.work_support import bearer, browse_as, work_settings
from tests.lifecycle_world import World, add_worker, live_campaign, window_nearly_over
from xingdong.core.clock import utcnow
from xingdong.core.ids import new_id
from xingdong.core.settings import Settings
from xingdong.work import service as work


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Feeds of two, to see the list lengthened.
    return make_settings(**work_settings(tmp_path / "evidence"), dispatch_feed_size=2)


async def feed(client: httpx.AsyncClient, auth: dict[str, str], query: str = "") -> dict:  # type: ignore[type-arg]
    response = await client.get("/api/v1/tasks" + query, headers=auth)
    assert response.status_code == 200, response.text
    body: dict = response.json()  # type: ignore[type-arg]
    return body


async def claim(client: httpx.AsyncClient, auth: dict[str, str], campaign_id: UUID) -> None:
    taken = await client.post(f"/api/v1/tasks/{campaign_id}/claims", headers=auth)
    assert taken.status_code == 201, taken.text


async def test_a_target_at_its_hourly_cap_is_not_offered_and_says_when_it_opens(
    client: httpx.AsyncClient, world: World
) -> None:
    # Windows long under way, so that the delivery plan holds nothing back.
    capped = await live_campaign(
        world, title="每小时两次", pacing_per_hour=2, **window_nearly_over()
    )
    first, second, third = [await bearer(world, w) for w in world.workers[:3]]
    await claim(client, first, capped.id)
    assert str(capped.id) in {item["campaign_id"] for item in (await feed(client, second))["items"]}
    # Another campaign about the brand's same account: its claims count against the cap.
    roomy = await live_campaign(
        world, title="每小时六十次", pacing_per_hour=60, **window_nearly_over()
    )
    await claim(client, third, roomy.id)

    shown = {item["campaign_id"] for item in (await feed(client, second))["items"]}
    assert str(capped.id) not in shown and str(roomy.id) in shown
    view = await client.get(f"/api/v1/tasks/{capped.id}", headers=second)
    assert view.status_code == 200, view.text
    body = view.json()
    assert body["can_claim"] is False
    assert body["reason"]["code"] == "target_capped"
    assert "{" not in body["reason"]["message"] and "北京时间" in body["reason"]["message"]
    refused = await client.post(f"/api/v1/tasks/{capped.id}/claims", headers=second)
    problem(refused, 429, "pacing_limit_reached")

    # It opens when the older of the two claims is an hour old.
    async with world.db.sessionmaker() as s:
        found = await work.capped_campaigns(s, [capped, roomy], utcnow())
        assert set(found) == {capped.id}
        assert timedelta(minutes=58) < found[capped.id] - utcnow() <= timedelta(hours=1)
        assert await work.capped_campaigns(s, [capped], utcnow() + timedelta(minutes=61)) == {}

    # With only the capped task left for them, the empty feed says so.
    await claim(client, second, roomy.id)
    empty = await feed(client, second)
    assert empty["items"] == []
    assert [r["code"] for r in empty["reasons"]] == ["target_capped"]


async def test_an_empty_feed_names_what_to_fill_in_and_when_paced_tasks_open(
    client: httpx.AsyncClient, world: World
) -> None:
    await live_campaign(world, title="美妆达人任务", interests=["美妆"], quantity=2)
    no_interests = await add_worker(world, handle="no_interests", interests=())
    auth = await bearer(world, no_interests)
    body = await feed(client, auth)
    assert [r["code"] for r in body["reasons"]] == ["interests_missing"]
    assert "{" not in body["reasons"][0]["message"]
    english = await feed(client, {**auth, "Accept-Language": "en"})
    assert english["reasons"][0]["message"] == (
        "Add your interests to your profile to see tasks meant for you."
    )
    await browse_as(client, world, no_interests)
    page = await client.get("/tasks")
    assert "data-complete-profile" in page.text and "{fields}" not in page.text

    # Two units over a week: once one is taken the plan holds the other back for days,
    # and the feed says until when rather than "later today".
    first, second = [await bearer(world, w) for w in world.workers[:2]]
    [only] = (await feed(client, first))["items"]
    await claim(client, first, UUID(only["campaign_id"]))
    paced = await feed(client, second)
    assert paced["items"] == []
    [reason] = paced["reasons"]
    assert reason["code"] == "paced_until"
    assert "{" not in reason["message"] and "北京时间" in reason["message"]
    assert "今天" not in reason["message"]


async def test_bad_filters_and_hides_are_refused(client: httpx.AsyncClient, world: World) -> None:
    campaign = await live_campaign(world, title="关注任务")
    auth = await bearer(world, world.workers[0])
    body = problem(
        await client.get("/api/v1/tasks?type=bogus", headers=auth), 422, "validation_failed"
    )
    assert [f["field"] for f in body["errors"]] == ["type"]
    nowhere = str(new_id())
    for kind, code in (("campaign", "campaign_not_found"), ("brand", "not_found")):
        refused = await client.post(
            "/api/v1/feed/hidden", headers=auth, json={"kind": kind, "ref": nowhere}
        )
        problem(refused, 404, code)
    # Nothing refused was kept. The list is a JSON array: a problem answered instead (an
    # object) must fail here, not read as "no items".
    listed = await client.get("/api/v1/feed/hidden", headers=auth)
    assert listed.status_code == 200, listed.text
    assert listed.json() == []
    # A brand that exists can be hidden, by its id.
    hidden = await client.post(
        "/api/v1/feed/hidden", headers=auth, json={"kind": "brand", "ref": str(campaign.org_id)}
    )
    assert hidden.status_code == 204, hidden.text

    operator = await bearer(world, world.operator)
    for weights in ({"max_per_brand": True}, {"learning_rate": 1e300}):
        refused = await client.post(
            "/api/v1/ops/dispatch/weights", headers=operator, json={"weights": weights}
        )
        problem(refused, 422, "validation_failed")


async def test_the_list_grows_on_request(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        await live_campaign(world, title=f"任务{n}", **window_nearly_over())
    auth = await bearer(world, world.workers[0])
    assert len((await feed(client, auth))["items"]) == 2
    assert len((await feed(client, auth, "?limit=3"))["items"]) == 3
    for wrong in ("0", "101", "many"):
        body = problem(
            await client.get(f"/api/v1/tasks?limit={wrong}", headers=auth), 422, "validation_failed"
        )
        assert [f["field"] for f in body["errors"]] == ["limit"]

    await browse_as(client, world, world.workers[0])
    first = await client.get("/tasks")
    assert first.text.count("data-task-type=") == 2
    assert 'href="/tasks?more=1"' in first.text
    longer = await client.get("/tasks?more=1")
    assert "data-more-tasks" not in longer.text  # three of a possible four: all there is
    assert all(f"任务{n}" in longer.text for n in range(3))
    assert "data-feed-at-most" not in longer.text
    assert (await client.get("/tasks?more=x")).status_code == 200
    # At the feed's most, it says so and how to see others.
    monkeypatch.setattr(work, "MAX_CARDS", 2)
    capped = await client.get("/tasks?lang=en")
    assert capped.text.count("data-task-type=") == 2 and "data-more-tasks" not in capped.text
    assert "These are the 2 best for you now. Choose a type above" in capped.text
