"""A brand's overview across its campaigns on a real PostgreSQL: campaigns by status, the
hand-ins waiting and those of today (Beijing time), what was paid this month and what is
in hold, what the escrows hold (as the ledger says), the balance, and the live campaigns
behind their plan; on the campaigns list as it opens and in the API; members and keys
read it, strangers find nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from uuid import UUID

import httpx
import pytest
from sqlalchemy import update

from tests.integration.conftest import make_settings
from tests.integration.test_account_statements import build_stranger
from tests.integration.test_campaign_pages import browser_of
from tests.integration.test_personal_data import token_of
from tests.integration.test_statement_pages import PRICE, two_final_one_in_hold
from tests.lifecycle_world import World, balance, build_world, draft, live_campaign
from tests.lifecycle_world import window_nearly_over as long_running
from xingdong.campaigns import service as campaigns
from xingdong.core.clock import CHINA_TIME, utcnow
from xingdong.identity.models import Person
from xingdong.insights.brand_overview import brand_overview
from xingdong.ledger.deposits import org_account
from xingdong.work import service as work
from xingdong.work.models import Assignment


@pytest.fixture
async def world(clean_db: str) -> AsyncIterator[World]:
    built = await build_world(clean_db, make_settings(hold_hours=24), workers=3)
    yield built
    await built.db.dispose()


async def test_the_overview_adds_up_every_campaign_of_the_brand(
    client: httpx.AsyncClient, world: World
) -> None:
    followed, done = await two_final_one_in_hold(world)
    reviewed = await live_campaign(
        world, title="关注（人工审核）", review_policy="manual", quantity=4, unit_price=300,
        **long_running(),
    )  # fmt: skip
    newcomer = world.workers[0]
    async with world.db.session_scope() as s:
        taken = await work.claim(
            s, person=newcomer, campaign_id=reviewed.id, settings=world.settings
        )
    waiting = await hand_in_for_review(world, newcomer, taken.id)
    actor = await world.actor(world.owner)
    async with world.db.session_scope() as s:
        await campaigns.create_campaign(
            s, actor=actor, org_id=world.org_id, draft=draft(title="草稿一则"),
            settings=world.settings,
        )  # fmt: skip

    auth = {"Authorization": f"Bearer {await token_of(client, world.owner)}"}
    answer = await client.get(f"/api/v1/orgs/{world.org_id}/overview", headers=auth)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["campaigns"] == {
        "draft": 1, "pending_approval": 0, "live": 2, "paused": 0, "rejected": 0, "closed": 0,
    }  # fmt: skip
    assert body["live_planned"] == 5 + 4
    # Done: approved, in hold or paid; under way: claimed or waiting for review.
    assert (body["live_done"], body["live_under_way"]) == (3, 1)
    assert (body["waiting_for_review"], body["in_dispute"]) == (1, 0)
    assert (body["paid_this_month"], body["paid_this_month_fen"]) == (2, 2 * PRICE)
    assert (body["in_hold"], body["in_hold_fen"]) == (1, PRICE)
    escrows = [
        await balance(world.db, campaigns.escrow_account(c.id)) for c in (followed, reviewed)
    ]
    assert body["escrow_fen"] == sum(e.posted for e in escrows) > 0
    assert body["available_fen"] == (await balance(world.db, org_account(world.org_id))).available
    # Both live windows have nearly ended: 3 of 5 and 1 of 4 taken is far behind the plan.
    assert body["behind_count"] == 2
    assert {c["title"] for c in body["behind"]} == {followed.title, "关注（人工审核）"}

    # Today is Beijing's day: a hand-in at 23:30 the day before is not today's.
    moment = utcnow()
    midnight = moment.astimezone(CHINA_TIME).replace(hour=0, minute=0, second=0, microsecond=0)
    async with world.db.session_scope() as s:
        await s.execute(
            update(Assignment)
            .where(Assignment.id == waiting)
            .values(submitted_at=midnight - timedelta(minutes=30))
        )
        await s.execute(
            update(Assignment)
            .where(Assignment.id.in_(done))
            .values(submitted_at=midnight + timedelta(minutes=1))
        )
    async with world.db.sessionmaker() as s:
        seen = await brand_overview(s, actor=actor, org_id=world.org_id, now=moment)
    assert seen.handed_in_today == 3

    async with browser_of(client, world.owner) as owner:
        page = await owner.get(f"/orgs/{world.org_id}/campaigns?lang=en")
        filtered = await owner.get(f"/orgs/{world.org_id}/campaigns?status=live&lang=en")
    assert page.status_code == 200
    assert "data-overview" in page.text
    assert f'data-tile="paid" data-fen="{2 * PRICE}"' in page.text
    assert 'data-behind="2"' in page.text
    assert f'href="/campaigns/{reviewed.id}#delivery"' in page.text
    assert "data-overview" not in filtered.text  # the overview heads the whole list only

    # A read-only API key reads it; a closed campaign's escrow still counts what its
    # hand-in waiting for review may be paid.
    key = await client.post(
        f"/api/v1/orgs/{world.org_id}/api-keys", json={"name": "看板", "access": "read"},
        headers=auth,
    )  # fmt: skip
    key_auth = {"Authorization": f"Bearer {key.json()['key']}"}
    async with world.db.session_scope() as s:
        await campaigns.close_campaign(s, actor=actor, campaign_id=reviewed.id)
    later = (await client.get(f"/api/v1/orgs/{world.org_id}/overview", headers=key_auth)).json()
    held = await balance(world.db, campaigns.escrow_account(reviewed.id))
    assert held.posted == 300  # the hand-in's price, the rest went back
    assert later["campaigns"]["closed"] == 1 and later["campaigns"]["live"] == 1
    followed_escrow = await balance(world.db, campaigns.escrow_account(followed.id))
    assert later["escrow_fen"] == held.posted + followed_escrow.posted

    stranger = await build_stranger(client)
    hidden = await client.get(f"/api/v1/orgs/{world.org_id}/overview", headers=stranger)
    assert hidden.status_code == 404


async def hand_in_for_review(world: World, worker: Person, assignment_id: UUID) -> UUID:
    """Hand in a claim of a campaign a reviewer decides: it waits for review."""
    async with world.db.session_scope() as s:
        handed = await work.submit(
            s, person=worker, assignment_id=assignment_id,
            evidence=work.Evidence(link="https://sandbox.example/proof", note="已评论"),
            settings=world.settings, now=utcnow() + timedelta(seconds=90),
        )  # fmt: skip
    assert handed.status == "submitted"
    return handed.id
