"""A campaign's statement on a real PostgreSQL: the escrow's movements read from the ledger
agree with the completions charged, through approval, release, clawback and closing; the
check would see them disagree; and the CSV has one row per completion."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from uuid import UUID

import httpx
import pytest
from sqlalchemy import text, update

from tests.brand_world import bearer
from tests.integration.conftest import make_settings
from tests.lifecycle_world import (
    World,
    add_worker,
    build_world,
    follow_on_sandbox,
    live_campaign,
    unfollow_on_sandbox,
    window_nearly_over,
)
from xingdong.campaigns import service as campaigns
from xingdong.core.clock import local_time
from xingdong.core.errors import NotFound
from xingdong.core.policy import Actor
from xingdong.identity import service as identity
from xingdong.identity.models import Person
from xingdong.insights import statements
from xingdong.work import service as work
from xingdong.work.models import Assignment


@pytest.fixture
async def world(client: httpx.AsyncClient, clean_db: str) -> AsyncIterator[World]:
    built = await build_world(clean_db, make_settings(hold_hours=24), workers=3)
    yield built
    await built.db.dispose()


async def do_the_task(world: World, worker: Person, campaign_id: UUID) -> tuple[UUID, str]:
    async with world.db.session_scope() as s:
        taken = await work.claim(s, person=worker, campaign_id=campaign_id, settings=world.settings)
    async with world.db.sessionmaker() as s:
        handle = (await identity.platform_accounts(s, person=worker))[0].handle
    await follow_on_sandbox(handle, world.db)
    async with world.db.session_scope() as s:
        done = await work.submit(
            s, person=worker, assignment_id=taken.id,
            evidence=work.Evidence(link="https://sandbox.example/proof"),
            settings=world.settings, now=taken.claimed_at + timedelta(seconds=60),
        )  # fmt: skip
    assert done.status == "approved"
    return taken.id, handle


async def settle(world: World) -> None:
    async with world.db.session_scope() as s:
        await s.execute(text("UPDATE assignments SET hold_until = now() - interval '1 second'"))
    async with world.db.session_scope() as s:
        await work.settle_holds(s)


async def statement_of(world: World, campaign_id: UUID) -> statements.CampaignStatement:
    owner = await world.actor(world.owner)
    async with world.db.sessionmaker() as s:
        return await statements.campaign_statement(s, actor=owner, campaign_id=campaign_id)


async def test_the_statement_follows_the_money_through_a_campaigns_life(world: World) -> None:
    campaign = await live_campaign(world, quantity=5, unit_price=100, **window_nearly_over())
    reward, fee = campaign.reward, campaign.fee
    assert reward + fee == 100
    done = [await do_the_task(world, w, campaign.id) for w in world.workers]

    in_hold = await statement_of(world, campaign.id)
    assert in_hold.completions == {"approved": 3}
    assert (in_hold.charged_units, in_hold.final_units) == (3, 0)
    assert (in_hold.final_amount, in_hold.in_hold_amount) == (0, 300)
    assert in_hold.reconciles

    # The third worker undoes the follow before the hold ends: clawed back.
    await unfollow_on_sandbox(done[2][1], world.db)
    await settle(world)
    owner = await world.actor(world.owner)
    async with world.db.session_scope() as s:
        _closed, returned = await campaigns.close_campaign(s, actor=owner, campaign_id=campaign.id)

    final = await statement_of(world, campaign.id)
    assert final.completions == {"released": 2, "clawed_back": 1}
    assert (final.charged_units, final.final_units, final.final_amount) == (2, 2, 200)
    assert final.in_hold_amount == 0
    flows = {line.code: (line.inflow, line.outflow, line.count) for line in final.lines}
    assert flows == {
        "campaign_fund": (500, 0, 1),
        "task_reward": (0, 3 * reward, 3),
        "task_fee": (0, 3 * fee, 3),
        "task_clawback": (reward, 0, 1),
        "task_fee_refund": (fee, 0, 1),
        "campaign_return": (0, returned, 1),
    }
    assert returned == 300
    assert final.charged_by_ledger == 200
    assert final.reconciles
    assert (final.escrow_balance, final.escrow_reserved) == (0, 0)


async def test_the_check_sees_work_and_money_disagree(world: World) -> None:
    campaign = await live_campaign(world, **window_nearly_over())
    assignment_id, _handle = await do_the_task(world, world.workers[0], campaign.id)
    assert (await statement_of(world, campaign.id)).reconciles
    # As a bug that changed the work's status without moving money would leave it.
    async with world.db.session_scope() as s:
        await s.execute(
            update(Assignment).where(Assignment.id == assignment_id).values(status="rejected")
        )
    broken = await statement_of(world, campaign.id)
    assert not broken.reconciles
    assert broken.charged_by_ledger == campaign.unit_price
    assert broken.charged_units == 0


async def test_only_the_brand_and_operators_see_it(world: World) -> None:
    campaign = await live_campaign(world)
    stranger = Actor(person_id=world.workers[0].id)
    async with world.db.sessionmaker() as s:
        with pytest.raises(NotFound):
            await statements.campaign_statement(s, actor=stranger, campaign_id=campaign.id)
    operator = await world.actor(world.operator)
    async with world.db.sessionmaker() as s:
        seen = await statements.campaign_statement(s, actor=operator, campaign_id=campaign.id)
    assert seen.campaign.id == campaign.id


async def test_the_api_gives_the_statement_and_its_csv(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, **window_nearly_over())
    for worker in world.workers[:2]:
        await do_the_task(world, worker, campaign.id)
    await settle(world)
    auth = await bearer(world, world.owner)
    body = (await client.get(f"/api/v1/campaigns/{campaign.id}/statement", headers=auth)).json()
    assert body["final_units"] == 2 and body["final_fen"] == 2 * campaign.unit_price
    assert body["reconciles"] is True
    labels = {line["code"]: line["label"] for line in body["lines"]}
    assert "奖励" in labels["task_reward"]

    answer = await client.get(
        f"/api/v1/campaigns/{campaign.id}/statement.csv",
        headers={**auth, "Accept-Language": "en"},
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    assert answer.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Completion" and rows[0][-2:] == ["Billing", "Status code"]
    assert len(rows) == 3
    assert {(r[2], r[10]) for r in rows[1:]} == {("Paid out", "released")}
    assert {r[8] for r in rows[1:]} == {str(campaign.unit_price)}
    assert {r[9] for r in rows[1:]} == {"final"}
    # Pseudonyms, never who did it.
    assert all(r[1].startswith("W-") for r in rows[1:])
    assert str(world.workers[0].id) not in answer.text


async def test_statements_read_while_work_is_decided_always_reconcile(world: World) -> None:
    """Real parallel transactions: completions approved and clawed back while the brand
    reads its statement; no read catches the ledger and the work out of step."""
    campaign = await live_campaign(world, quantity=30, **window_nearly_over())
    extra = [await add_worker(world, handle=f"para_{n}_{campaign.id.hex[:6]}") for n in range(6)]
    owner = await world.actor(world.owner)
    reads: list[bool] = []
    working = True

    async def read_statements() -> None:
        while working:
            async with world.db.sessionmaker() as s:
                seen = await statements.campaign_statement(s, actor=owner, campaign_id=campaign.id)
                reads.append(seen.reconciles)
                await s.rollback()

    async def work_happens() -> None:
        nonlocal working
        try:
            done = await asyncio.gather(
                *(do_the_task(world, w, campaign.id) for w in [*world.workers, *extra])
            )
            for _assignment_id, handle in done[:3]:
                await unfollow_on_sandbox(handle, world.db)
            await settle(world)
        finally:
            working = False

    await asyncio.gather(work_happens(), read_statements(), read_statements())
    final = await statement_of(world, campaign.id)
    assert final.completions == {"released": 6, "clawed_back": 3}
    assert final.reconciles
    assert len(reads) > 5
    assert all(reads), reads.count(False)


async def test_a_completion_paid_after_an_upheld_appeal_shows_when_it_was_approved(
    client: httpx.AsyncClient, world: World
) -> None:
    """Its review still says the rejection; the operator's decision on the appeal is what
    approved it, and the completions list and the CSV say when."""
    campaign = await live_campaign(world, review_policy="manual", **window_nearly_over())
    worker = world.workers[0]
    async with world.db.session_scope() as s:
        taken = await work.claim(s, person=worker, campaign_id=campaign.id, settings=world.settings)
    async with world.db.session_scope() as s:
        await work.submit(
            s, person=worker, assignment_id=taken.id,
            evidence=work.Evidence(link="https://sandbox.example/proof"),
            settings=world.settings, now=taken.claimed_at + timedelta(seconds=60),
        )  # fmt: skip
    async with world.db.session_scope() as s:
        await work.review(
            s, actor=await world.actor(world.reviewer), assignment_id=taken.id, approve=False,
            reason="evidence_unclear", note="", settings=world.settings,
        )  # fmt: skip
    async with world.db.session_scope() as s:
        appeal = await work.appeal(
            s, person=worker, assignment_id=taken.id, reason="我确实做了",
            settings=world.settings,
        )  # fmt: skip
    async with world.db.session_scope() as s:
        decided = await work.decide_dispute(
            s, actor=await world.actor(world.operator), dispute_id=appeal.id, uphold=True,
            note="截图其实清楚", settings=world.settings,
        )  # fmt: skip
    assert decided.decided_at is not None
    auth = await bearer(world, world.owner)
    listed = (
        await client.get(f"/api/v1/campaigns/{campaign.id}/assignments", headers=auth)
    ).json()["items"]
    assert [i["status"] for i in listed] == ["approved"]
    assert datetime.fromisoformat(listed[0]["approved_at"]) == decided.decided_at
    answer = await client.get(
        f"/api/v1/campaigns/{campaign.id}/statement.csv",
        headers={**auth, "Accept-Language": "en"},
    )
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[1][2] == "Approved, in hold" and rows[1][9] == "in hold"
    assert rows[1][10] == "approved"
    assert rows[1][5] == local_time(decided.decided_at, "%Y-%m-%d %H:%M:%S")
