"""Purchase tasks (CPS) through the whole lifecycle on a real PostgreSQL and the sandbox
shop: the reward checked against the product's price, the tracked link, verification of
the order, a hold as long as the return period, and a returned order clawed back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from uuid import UUID

import pytest
from pydantic import ValidationError
from sqlalchemy import update

from tests.integration.conftest import make_settings
from tests.lifecycle_world import (
    BRAND_HANDLE,
    World,
    balance,
    build_world,
    draft,
    live_campaign,
    window_nearly_over,
)
from xingdong.campaigns import service as campaigns
from xingdong.campaigns.errors import ComplianceBlocked
from xingdong.campaigns.models import Campaign
from xingdong.core.clock import utcnow
from xingdong.core.settings import RETURN_PERIOD_HOURS
from xingdong.identity import service as identity
from xingdong.identity.models import Person
from xingdong.ledger import service as ledger
from xingdong.ledger import wallets
from xingdong.ledger.withdrawals import REVENUE_ACCOUNT
from xingdong.platforms.sandbox import service as sandbox
from xingdong.platforms.sandbox.models import SandboxOrder
from xingdong.work import service as work
from xingdong.work.models import Assignment
from xingdong.work.schemas import TaskOut

PRICE = 12_900
UNIT_PRICE = 2_000
"""The worker earns ¥16.00 (80%), 12.4% of the price: within the default 30%."""


@pytest.fixture
async def world(clean_db: str) -> AsyncIterator[World]:
    built = await build_world(clean_db, make_settings(hold_hours=24), funds=1_000_000)
    yield built
    await built.db.dispose()


async def product_of(world: World) -> UUID:
    async with world.db.session_scope() as s:
        shop = await sandbox.get_account(s, handle=BRAND_HANDLE)
        product = await sandbox.create_product(
            s, account=shop, title="保湿精华 30ml", price_fen=PRICE
        )
        return product.id


def purchase(product_id: UUID, **overrides: object) -> dict[str, object]:
    return {
        "title": "新品精华体验",
        "task_type": "purchase",
        "target": f"/sandbox/products/{product_id}",
        "brief": "通过任务链接购买新品精华，收货后正常使用。无需好评。",
        "unit_price": UNIT_PRICE,
        "pacing_per_hour": None,
        **overrides,
    }


async def claim(world: World, worker: Person, campaign: Campaign) -> Assignment:
    async with world.db.session_scope() as s:
        found = await work.claim(s, person=worker, campaign_id=campaign.id, settings=world.settings)
        # A person takes a minute to buy: older than the too-fast-to-be-true check.
        await s.execute(
            update(Assignment)
            .where(Assignment.id == found.id)
            .values(claimed_at=found.claimed_at - timedelta(minutes=1))
        )
    async with world.db.sessionmaker() as s:
        row = await s.get(Assignment, found.id)
        assert row is not None
        return row


async def buy(world: World, worker: Person, product_id: UUID, *, ref: str) -> UUID:
    async with world.db.session_scope() as s:
        [bound] = await identity.platform_accounts(s, person=worker)
        me = await sandbox.get_account(s, handle=bound.handle)
        product = await sandbox.get_product(s, product_id=product_id)
        order = await sandbox.buy(s, account=me, product=product, ref=ref)
        return order.id


async def hand_in(world: World, worker: Person, assignment: Assignment) -> Assignment:
    async with world.db.session_scope() as s:
        return await work.submit(
            s, person=worker, assignment_id=assignment.id,
            evidence=work.Evidence(link="https://sandbox.example/order"),
            settings=world.settings, now=assignment.claimed_at + timedelta(minutes=2),
        )  # fmt: skip


async def settle(world: World, at: object) -> dict[str, int]:
    async with world.db.session_scope() as s:
        return await work.settle_holds(s, now=at)  # type: ignore[arg-type]


async def assert_sound(world: World) -> None:
    async with world.db.sessionmaker() as s:
        report = await ledger.verify(s)
    assert report.ok, report.problems


async def test_a_kept_purchase_is_paid_once_the_return_period_is_over(world: World) -> None:
    product_id = await product_of(world)
    campaign = await live_campaign(world, **purchase(product_id))
    assert (campaign.target_kind, campaign.target_price_fen, campaign.reward) == (
        "product",
        PRICE,
        1_600,
    )
    # Before the claim the worker is told what they pay, as well as what they earn.
    out = TaskOut.of(campaign, units_left=5, taken_by_me=0, now=utcnow(), locale="zh_CN")
    assert (out.product_price_fen, out.reward_fen) == (PRICE, 1_600)
    worker = world.workers[0]
    assignment = await claim(world, worker, campaign)
    link = work.task_link(campaign, assignment)
    code = work.tracking_code(assignment.id)
    assert link == f"/sandbox/products/{product_id}?ref={code}"

    order_id = await buy(world, worker, product_id, ref=code)
    done = await hand_in(world, worker, assignment)
    assert (done.status, done.review_reason) == ("approved", "platform_verified")
    assert done.verification["detail"] == "order_found"
    assert done.reviewed_at is not None and done.hold_until is not None
    # The hold covers the shop's return period, not the 24 hours of other tasks.
    assert done.hold_until - done.reviewed_at == timedelta(hours=192)
    assert world.settings.purchase_hold_hours == 192

    after_day = done.reviewed_at + timedelta(hours=25)
    assert await settle(world, after_day) == {"released": 0, "clawed_back": 0, "waiting": 0}
    assert await settle(world, done.hold_until + timedelta(seconds=1)) == {
        "released": 1,
        "clawed_back": 0,
        "waiting": 0,
    }
    assert (await balance(world.db, wallets.available_account(worker.id))).posted == 1_600
    async with world.db.sessionmaker() as s:
        order = await s.get(SandboxOrder, order_id)
    assert order is not None and order.ref == code
    await assert_sound(world)


async def test_an_order_returned_during_the_hold_is_clawed_back(world: World) -> None:
    product_id = await product_of(world)
    campaign = await live_campaign(world, **purchase(product_id))
    escrow = campaigns.escrow_account(campaign.id)
    before = await balance(world.db, escrow)
    worker = world.workers[1]
    assignment = await claim(world, worker, campaign)
    order_id = await buy(world, worker, product_id, ref=work.tracking_code(assignment.id))
    done = await hand_in(world, worker, assignment)
    assert done.status == "approved" and done.hold_until is not None
    assert (await balance(world.db, REVENUE_ACCOUNT)).posted == 400

    async with world.db.session_scope() as s:
        [bound] = await identity.platform_accounts(s, person=worker)
        me = await sandbox.get_account(s, handle=bound.handle)
        await sandbox.refund(s, account=me, order_id=order_id)
    assert (await settle(world, done.hold_until + timedelta(seconds=1)))["clawed_back"] == 1
    async with world.db.sessionmaker() as s:
        row = await s.get(Assignment, assignment.id)
    assert row is not None
    assert (row.status, row.settle_reason) == ("clawed_back", "undone_order_refunded")
    assert (await balance(world.db, wallets.pending_account(worker.id))).posted == 0
    assert (await balance(world.db, REVENUE_ACCOUNT)).posted == 0
    assert (await balance(world.db, escrow)).available == before.available
    await assert_sound(world)


async def test_an_order_bought_again_after_the_hand_in_does_not_stand_in(
    world: World,
) -> None:
    """Returning the verified order and buying again through the same link shortly before
    the hold ends (to return that one too once paid) is clawed back all the same."""
    product_id = await product_of(world)
    campaign = await live_campaign(world, **purchase(product_id))
    worker = world.workers[1]
    assignment = await claim(world, worker, campaign)
    code = work.tracking_code(assignment.id)
    order_id = await buy(world, worker, product_id, ref=code)
    done = await hand_in(world, worker, assignment)
    assert done.status == "approved" and done.hold_until is not None
    async with world.db.session_scope() as s:
        [bound] = await identity.platform_accounts(s, person=worker)
        me = await sandbox.get_account(s, handle=bound.handle)
        await sandbox.refund(s, account=me, order_id=order_id)
        product = await sandbox.get_product(s, product_id=product_id)
        again = await sandbox.buy(
            s, account=me, product=product, ref=code, now=done.hold_until - timedelta(hours=1)
        )
        assert again.ref == code and again.refunded_at is None

    assert (await settle(world, done.hold_until + timedelta(seconds=1)))["clawed_back"] == 1
    async with world.db.sessionmaker() as s:
        row = await s.get(Assignment, assignment.id)
    assert row is not None
    assert (row.status, row.settle_reason) == ("clawed_back", "undone_order_refunded")
    assert (await balance(world.db, wallets.available_account(worker.id))).posted == 0
    await assert_sound(world)


async def test_a_hand_in_without_an_order_goes_to_a_reviewer(world: World) -> None:
    product_id = await product_of(world)
    campaign = await live_campaign(world, **purchase(product_id))
    worker = world.workers[2]
    assignment = await claim(world, worker, campaign)
    done = await hand_in(world, worker, assignment)
    assert done.status == "submitted"
    assert "platform_no_order" in done.risk_reasons
    assert done.hold_until is None


async def test_an_order_not_made_through_the_claims_link_is_not_verified(world: World) -> None:
    product_id = await product_of(world)
    campaign = await live_campaign(
        world, **purchase(product_id, per_person_limit=2), **window_nearly_over()
    )
    worker = world.workers[0]
    first = await claim(world, worker, campaign)
    await buy(world, worker, product_id, ref=work.tracking_code(first.id))
    assert (await hand_in(world, worker, first)).status == "approved"
    # The same order cannot pay for a second claim, nor can one bought without the link.
    second = await claim(world, worker, campaign)
    await buy(world, worker, product_id, ref="")
    again = await hand_in(world, worker, second)
    assert again.status == "submitted"
    assert again.verification["detail"] == "order_not_tracked"
    assert "platform_order_not_tracked" in again.risk_reasons


async def create(world: World, **overrides: object) -> Campaign:
    owner = await world.actor(world.owner)
    async with world.db.session_scope() as s:
        return await campaigns.create_campaign(
            s, actor=owner, org_id=world.org_id, draft=draft(**overrides), settings=world.settings
        )


async def test_a_reward_near_the_price_cannot_be_submitted(world: World) -> None:
    product_id = await product_of(world)
    # ¥50.00 pays the worker ¥40.00, 31% of ¥129.00.
    campaign = await create(world, **purchase(product_id, unit_price=5_000))
    codes = [(f["code"], f["field"], f["excerpt"]) for f in campaign.compliance]
    assert ("purchase_reward_too_high", "unit_price", "¥40.00") in codes
    owner = await world.actor(world.owner)
    with pytest.raises(ComplianceBlocked):
        async with world.db.session_scope() as s:
            await campaigns.submit_campaign(
                s, actor=owner, campaign_id=campaign.id, settings=world.settings
            )
    async with world.db.sessionmaker() as s:
        row = await s.get(Campaign, campaign.id)
    assert row is not None and row.status == "draft"
    # ¥48.00 pays ¥38.40, under 30%: the same product passes.
    fair = await create(world, **purchase(product_id, unit_price=4_800))
    assert fair.compliance == []


async def test_a_brief_that_buys_a_good_review_is_refused(world: World) -> None:
    product_id = await product_of(world)
    campaign = await create(
        world, **purchase(product_id, brief="下单后给五星好评，截图找客服全额返款。")
    )
    found = {(f["code"], f["excerpt"]) for f in campaign.compliance}
    assert ("fake_order", "五星好评") in found
    assert ("fake_order", "全额返款") in found
    assert all(f["severity"] == "block" for f in campaign.compliance)


async def test_the_preview_checks_the_reward_against_the_price(world: World) -> None:
    product_id = await product_of(world)
    owner = await world.actor(world.owner)
    async with world.db.session_scope() as s:
        preview = await campaigns.preview_campaign(
            s, actor=owner, org_id=world.org_id,
            draft=draft(**purchase(product_id, unit_price=9_000)), settings=world.settings,
        )  # fmt: skip
    assert preview.target.price_fen == PRICE
    assert [f.code for f in preview.findings] == ["purchase_reward_too_high"]


def test_a_purchase_holds_at_least_the_return_period() -> None:
    with pytest.raises(ValidationError, match="purchase_hold_hours"):
        make_settings(purchase_hold_hours=RETURN_PERIOD_HOURS - 1)
    short = make_settings(hold_hours=24)
    assert (work.hold_hours(short, "follow"), work.hold_hours(short, "purchase")) == (24, 192)
    long = make_settings(hold_hours=300, purchase_hold_hours=200)
    assert (work.hold_hours(long, "follow"), work.hold_hours(long, "purchase")) == (300, 300)
    assert work.hold_period(long, "purchase") == timedelta(hours=300)
