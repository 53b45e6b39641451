"""A rejection sent from the workbench without a reason asks for one; a reason code the
app does not know is still called unknown."""

from __future__ import annotations

import httpx

from tests.integration.answers import csrf_from
from tests.integration.work_support import browse_as
from tests.lifecycle_world import World, live_campaign, window_nearly_over
from xingdong.work import service as work


async def submitted(world: World) -> str:
    campaign = await live_campaign(world, review_policy="manual", **window_nearly_over())
    worker = world.workers[0]
    async with world.db.session_scope() as s:
        claimed = await work.claim(
            s, person=worker, campaign_id=campaign.id, settings=world.settings
        )
    async with world.db.session_scope() as s:
        handed_in = await work.submit(
            s,
            person=worker,
            assignment_id=claimed.id,
            evidence=work.Evidence(link="https://sandbox.example/proof"),
            settings=world.settings,
        )
    assert handed_in.status == "submitted"
    return str(handed_in.id)


def reason_error(page: str) -> str:
    return page.split('data-error-for="reason">', 1)[1].split("</span>", 1)[0]


async def test_rejecting_without_a_reason_asks_to_choose_one(
    client: httpx.AsyncClient, world: World
) -> None:
    assignment_id = await submitted(world)
    await browse_as(client, world, world.reviewer)
    bench = await client.get(f"/review?item={assignment_id}&lang=en")
    url = f"/review/{assignment_id}/decision"
    token = csrf_from(bench.text)
    none_chosen = await client.post(url, data={"csrf_token": token, "decision": "reject"})
    assert none_chosen.status_code == 422
    assert reason_error(none_chosen.text) == "Choose a reason."
    chinese = await client.post(
        url + "?lang=zh_CN", data={"csrf_token": token, "decision": "reject", "reason": ""}
    )
    assert reason_error(chinese.text) == "请选择原因。"
    stale = await client.post(
        url + "?lang=en", data={"csrf_token": token, "decision": "reject", "reason": "made_up"}
    )
    assert reason_error(stale.text) == "Unknown reason."
