"""What the operators' campaign and dispute queues, the compliance findings and a worker's
wallet say once a campaign runs: confirmations before deciding, the reviewer's decision
under its own name, task types by their label, and a reward that links to its task."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.brand_world import bearer, create_draft
from tests.integration.answers import csrf_from, problem
from tests.integration.conftest import make_settings
from tests.integration.test_campaign_pages import browser_of, create, form_fields, post_form
from tests.integration.test_campaigns_api import approved_completion
from tests.lifecycle_world import World, build_world
from xingdong.campaigns import service as campaigns


@pytest.fixture
async def world(client: httpx.AsyncClient, clean_db: str) -> AsyncIterator[World]:
    built = await build_world(clean_db, make_settings(), workers=2, funds=100_000)
    yield built
    await built.db.dispose()


def question_of(page: str, marker: str) -> str:
    """The question the app asks before the button (or form) marked ``marker`` sends."""
    match = re.search(rf"<(?:form|button) [^>]*{marker}[^>]*>", page)
    assert match, f"nothing marked {marker}"
    asked = re.search(r'data-confirm="([^"]+)"', match.group(0))
    assert asked, f"{marker} asks nothing"
    return html.unescape(asked.group(1))


async def test_deciding_a_campaign_asks_first(client: httpx.AsyncClient, world: World) -> None:
    waiting = await create(world)
    async with world.db.session_scope() as s:
        await campaigns.submit_campaign(
            s,
            actor=await world.actor(world.owner),
            campaign_id=waiting.id,
            settings=world.settings,
        )
    async with browser_of(client, world.operator) as operator:
        page = (await operator.get("/ops/campaigns?lang=en")).text
    # Each button asks what it does.
    assert "opens to workers" in question_of(page, "data-approve")
    assert "budget goes back to the brand" in question_of(page, "data-reject")


async def test_deciding_a_dispute_asks_first_and_names_the_reviewers_decision(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign, done = await approved_completion(world)
    async with browser_of(client, world.owner) as owner:
        page = await owner.get(f"/campaigns/{campaign.id}")
        contested = await owner.post(
            f"/campaigns/{campaign.id}/assignments/{done.id}/contest",
            data={"csrf_token": csrf_from(page.text), "reason": "小号刷的"},
        )
        assert contested.status_code == 303
    async with browser_of(client, world.operator) as operator:
        english = (await operator.get("/ops/disputes?lang=en")).text
        chinese = (await operator.get("/ops/disputes?lang=zh_CN")).text
    assert question_of(english, "data-uphold").startswith("Uphold the complaint?")
    assert question_of(english, "data-dismiss").startswith("Dismiss the complaint?")
    assert question_of(english, "data-dismiss").endswith("cannot be undone.")
    assert "<dt>Reviewer's decision</dt>" in english
    # 审核方式 is the review policy's label ("Review"), not what the reviewer decided.
    assert "审核方式" not in chinese


async def test_a_task_type_finding_names_the_type_on_the_page_and_in_the_api(
    client: httpx.AsyncClient, world: World
) -> None:
    wanted = "Tasks of type “Follow an account” must be shown only to people"
    untargeted: dict[str, str | list[str]] = {"min_age": "", "interests": []}
    async with browser_of(client, world.owner) as owner:
        english = await post_form(owner, world, "review", **untargeted)
        await owner.get("/?lang=zh_CN")
        page = await owner.get(f"/orgs/{world.org_id}/campaigns/new")
        data = {**form_fields(**untargeted), "action": "review", "csrf_token": csrf_from(page.text)}
        chinese = await owner.post(f"/orgs/{world.org_id}/campaigns/new", data=data)
    assert english.status_code == chinese.status_code == 200
    assert wanted in english.text and "“follow”" not in english.text
    assert "“关注账号”类任务" in chinese.text and "“follow”" not in chinese.text

    auth = await bearer(world, world.owner)
    in_english = {**auth, "Accept-Language": "en"}
    draft = await create_draft(client, world, in_english, interests=[])
    (finding,) = [f for f in draft["compliance"] if f["code"] == "targeting_required"]
    assert finding["excerpt"] == "follow"
    assert finding["message"].startswith(wanted)
    refused = await client.post(
        f"/api/v1/campaigns/{draft['id']}/submit",
        headers={**in_english, "Idempotency-Key": "untargeted"},
    )
    body = problem(refused, 422, "compliance_blocked")
    assert [f["message"] for f in body["findings"]] == [finding["message"]]


async def test_a_reward_in_the_wallet_links_to_its_task(
    client: httpx.AsyncClient, world: World
) -> None:
    _campaign, done = await approved_completion(world)
    async with browser_of(client, world.workers[0]) as worker:
        wallet = (await worker.get("/wallet?lang=en")).text
        row = wallet.split('data-movement="task_reward"', 1)[1].split("</tr>", 1)[0]
        assert "Task reward" in row
        assert f'<a href="/me/tasks/{done.id}" data-movement-task>' in row
        assert "assignment:" not in wallet
        assert (await worker.get(f"/me/tasks/{done.id}")).status_code == 200
