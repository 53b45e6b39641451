"""Profile-ad tasks (CPM) on a real PostgreSQL and the sandbox platform: a creator claims a
thousand impressions, puts the brand's ad card on their profile through the task's link,
the platform counts who sees it (the owner never, a returning viewer once in a while,
parallel views of one viewer once), and the work is verified, held and paid once the
thousand is reached."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from uuid import UUID

import httpx
import pytest
from sqlalchemy import select, update

from tests.integration.conftest import make_settings
from tests.integration.work_support import bearer, browse_as
from tests.lifecycle_world import (
    BRAND_HANDLE,
    World,
    balance,
    build_world,
    live_campaign,
    window_nearly_over,
)
from xingdong.campaigns import service as campaigns
from xingdong.campaigns.models import Campaign
from xingdong.campaigns.policy import IMPRESSIONS_PER_UNIT
from xingdong.core.clock import utcnow
from xingdong.core.errors import ValidationFailed
from xingdong.identity import service as identity
from xingdong.identity.models import Person
from xingdong.ledger import service as ledger
from xingdong.ledger import wallets
from xingdong.ledger.withdrawals import REVENUE_ACCOUNT
from xingdong.platforms.sandbox import ads
from xingdong.platforms.sandbox import service as sandbox
from xingdong.platforms.sandbox.errors import SandboxAdNotFound
from xingdong.platforms.sandbox.models import SandboxAccount, SandboxProfileAd
from xingdong.work import labels
from xingdong.work import service as work
from xingdong.work.models import Assignment

CPM = 3_000
"""¥30.00 per thousand impressions: the creator earns ¥24.00 of it."""


@pytest.fixture
async def world(clean_db: str) -> AsyncIterator[World]:
    built = await build_world(clean_db, make_settings(hold_hours=24), funds=1_000_000)
    yield built
    await built.db.dispose()


def profile_ad(**overrides: object) -> dict[str, object]:
    return {
        "title": "主页广告位 · 星动美妆",
        "task_type": "profile_ad",
        "target": "@" + BRAND_HANDLE,
        "brief": "在你的主页展示星动美妆的广告卡片，按每千次展示计费。",
        "unit_price": CPM,
        "quantity": 4,
        "pacing_per_hour": None,
        **window_nearly_over(),
        **overrides,
    }


async def claim(world: World, worker: Person, campaign: Campaign) -> Assignment:
    async with world.db.session_scope() as s:
        found = await work.claim(s, person=worker, campaign_id=campaign.id, settings=world.settings)
        # Putting an ad up takes a person a while: older than the too-fast check.
        await s.execute(
            update(Assignment)
            .where(Assignment.id == found.id)
            .values(claimed_at=found.claimed_at - timedelta(minutes=5))
        )
    async with world.db.sessionmaker() as s:
        row = await s.get(Assignment, found.id)
        assert row is not None
        return row


async def account_of(world: World, worker: Person) -> SandboxAccount:
    async with world.db.session_scope() as s:
        [bound] = await identity.platform_accounts(s, person=worker)
        return await sandbox.get_account(s, handle=bound.handle)


async def put_up(world: World, worker: Person, *, ref: str | None) -> SandboxProfileAd:
    me = await account_of(world, worker)
    async with world.db.session_scope() as s:
        brand = await sandbox.get_account(s, handle=BRAND_HANDLE)
        return await ads.put_up(s, account=me, advertiser=brand, ref=ref)


async def view(world: World, profile: SandboxAccount, key: str) -> bool:
    async with world.db.session_scope() as s:
        return await ads.count_view(s, profile=profile, viewer=None, viewer_key=key)


async def audience(world: World, ad: SandboxProfileAd, views: int) -> None:
    async with world.db.session_scope() as s:
        await ads.show_to_audience(s, ad_id=ad.id, views=views)


async def impressions(world: World, ad: SandboxProfileAd) -> int:
    async with world.db.sessionmaker() as s:
        return await s.scalar(
            select(SandboxProfileAd.impressions).where(SandboxProfileAd.id == ad.id)
        )  # type: ignore[return-value]


async def hand_in(world: World, worker: Person, assignment: Assignment) -> Assignment:
    me = await account_of(world, worker)
    async with world.db.session_scope() as s:
        return await work.submit(
            s, person=worker, assignment_id=assignment.id,
            evidence=work.Evidence(link=f"https://sandbox.example/@{me.handle}"),
            settings=world.settings,
        )  # fmt: skip


async def test_a_thousand_impressions_are_verified_held_and_paid(world: World) -> None:
    campaign = await live_campaign(world, **profile_ad())
    assert (campaign.target_kind, campaign.reward) == ("account", 2_400)
    worker = world.workers[0]
    assignment = await claim(world, worker, campaign)
    # A claim lasts long enough for the ad to be seen a thousand times.
    assert assignment.expires_at - assignment.claimed_at == timedelta(hours=72) + timedelta(
        minutes=5
    )
    code = work.tracking_code(assignment.id)
    assert work.task_link(campaign, assignment) == f"/sandbox/@{BRAND_HANDLE}?ref={code}"
    assert await work.ad_impressions(campaign, assignment) == 0

    ad = await put_up(world, worker, ref=code)
    me = await account_of(world, worker)
    # The same viewer counts once within the half hour; the account's own views never.
    assert [await view(world, me, "v:reader") for _ in range(3)] == [True, False, False]
    async with world.db.session_scope() as s:
        assert not await ads.count_view(s, profile=me, viewer=me, viewer_key="a:" + me.id.hex)
    await audience(world, ad, IMPRESSIONS_PER_UNIT - 2)
    assert await work.ad_impressions(campaign, assignment) == IMPRESSIONS_PER_UNIT - 1

    # One short of the thousand: a reviewer sees why.
    short = await claim(world, world.workers[1], campaign)
    early = await hand_in(world, world.workers[1], short)
    assert early.status == "submitted" and "platform_no_ad" in early.risk_reasons

    assert await view(world, me, "v:another-reader")
    done = await hand_in(world, worker, assignment)
    assert (done.status, done.review_reason) == ("approved", "platform_verified")
    assert done.verification["detail"] == "impressions_reached"
    assert done.verification["impressions"] == IMPRESSIONS_PER_UNIT
    assert done.hold_until is not None

    # Taking the ad down afterwards does not undo what was seen.
    async with world.db.session_scope() as s:
        await ads.take_down(s, account=me)
    async with world.db.session_scope() as s:
        settled = await work.settle_holds(s, now=done.hold_until + timedelta(seconds=1))
    assert settled["released"] == 1
    assert (await balance(world.db, wallets.available_account(worker.id))).posted == 2_400
    assert (await balance(world.db, REVENUE_ACCOUNT)).posted == 600
    async with world.db.sessionmaker() as s:
        assert (await ledger.verify(s)).ok


async def test_an_ad_not_put_up_through_the_claims_link_is_not_counted(world: World) -> None:
    campaign = await live_campaign(world, **profile_ad())
    worker = world.workers[2]
    assignment = await claim(world, worker, campaign)
    ad = await put_up(world, worker, ref=None)
    await audience(world, ad, 5_000)
    done = await hand_in(world, worker, assignment)
    assert done.status == "submitted"
    assert done.verification["detail"] == "ad_not_tracked"
    assert "platform_ad_not_tracked" in done.risk_reasons


async def test_one_ad_at_a_time_and_a_new_one_replaces_it(world: World) -> None:
    worker = world.workers[0]
    first = await put_up(world, worker, ref="xd-first")
    second = await put_up(world, worker, ref="xd-second")
    me = await account_of(world, worker)
    async with world.db.sessionmaker() as s:
        showing = await ads.showing(s, account=me)
        old = await s.get(SandboxProfileAd, first.id)
    assert showing is not None and showing.id == second.id
    assert old is not None and old.removed_at is not None
    # Views count on the ad shown now only.
    assert await view(world, me, "v:reader")
    assert (await impressions(world, first), await impressions(world, second)) == (0, 1)
    async with world.db.session_scope() as s:
        await ads.take_down(s, account=me)
    with pytest.raises(SandboxAdNotFound):
        async with world.db.session_scope() as s:
            await ads.take_down(s, account=me)
    assert not await view(world, me, "v:reader-2")
    async with world.db.session_scope() as s:
        brand = await sandbox.get_account(s, handle=BRAND_HANDLE)
    with pytest.raises(ValidationFailed):
        async with world.db.session_scope() as s:
            await ads.put_up(s, account=brand, advertiser=brand)


async def test_parallel_views_of_one_viewer_count_once(world: World) -> None:
    worker = world.workers[1]
    ad = await put_up(world, worker, ref=None)
    me = await account_of(world, worker)
    same = await asyncio.gather(*(view(world, me, "v:one-phone") for _ in range(8)))
    assert sorted(same) == [False] * 7 + [True]
    others = await asyncio.gather(*(view(world, me, f"v:phone-{n}") for n in range(8)))
    assert all(others)
    assert await impressions(world, ad) == 9


async def test_parallel_put_ups_leave_one_ad_showing(world: World) -> None:
    worker = world.workers[2]
    await asyncio.gather(*(put_up(world, worker, ref=f"xd-{n}") for n in range(6)))
    me = await account_of(world, worker)
    async with world.db.sessionmaker() as s:
        up = (
            await s.scalars(
                select(SandboxProfileAd).where(
                    SandboxProfileAd.account_id == me.id, SandboxProfileAd.removed_at.is_(None)
                )
            )
        ).all()
    assert len(up) == 1


async def test_the_campaign_is_billed_per_thousand(world: World) -> None:
    campaign = await live_campaign(world, **profile_ad(quantity=50))
    # Escrow holds the price of fifty thousand impressions.
    assert campaign.quantity * campaign.unit_price == 150_000
    escrow = await balance(world.db, campaigns.escrow_account(campaign.id))
    assert escrow.available == 150_000


async def test_the_api_says_how_long_a_claim_lasts_and_how_often_the_ad_was_seen(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, **profile_ad())
    worker = world.workers[0]
    auth = await bearer(world, worker)
    task = await client.get(f"/api/v1/tasks/{campaign.id}", headers=auth)
    assert task.status_code == 200, task.text
    assert task.json()["claim_minutes"] == 72 * 60
    claimed = await client.post(f"/api/v1/tasks/{campaign.id}/claims", headers=auth)
    assert claimed.status_code == 201, claimed.text
    assignment_id = claimed.json()["id"]
    code = work.tracking_code(UUID(assignment_id))
    assert claimed.json()["target_url"] == f"/sandbox/@{BRAND_HANDLE}?ref={code}"

    async def seen() -> object:
        answer = await client.get(f"/api/v1/me/assignments/{assignment_id}", headers=auth)
        assert answer.status_code == 200, answer.text
        return answer.json()["impressions"]

    assert await seen() == 0
    ad = await put_up(world, worker, ref=code)
    await audience(world, ad, 412)
    assert await seen() == 412
    listed = await client.get("/api/v1/me/assignments", headers=auth)
    assert [item["impressions"] for item in listed.json()["items"]] == [None]


async def test_the_brand_sees_impressions_delivered_and_cpm_billing(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, **profile_ad())
    worker = world.workers[0]
    assignment = await claim(world, worker, campaign)
    ad = await put_up(world, worker, ref=work.tracking_code(assignment.id))
    await audience(world, ad, IMPRESSIONS_PER_UNIT)
    assert (await hand_in(world, worker, assignment)).status == "approved"

    await browse_as(client, world, world.owner)
    page = await client.get(f"/campaigns/{campaign.id}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert 'data-billing="cpm"' in page.text
    assert "Impressions delivered: 1,000." in page.text
    statement = await client.get(
        f"/campaigns/{campaign.id}/statement", headers={"Accept-Language": "en"}
    )
    assert statement.status_code == 200
    assert "1,000 impressions charged (1 × 1,000) at" in statement.text


async def test_a_claim_lasts_no_longer_than_the_campaign(world: World) -> None:
    ends = utcnow() + timedelta(hours=5)
    campaign = await live_campaign(
        world, **profile_ad(starts_at=utcnow() - timedelta(days=700), ends_at=ends)
    )
    async with world.db.session_scope() as s:
        taken = await work.claim(
            s, person=world.workers[0], campaign_id=campaign.id, settings=world.settings
        )
    assert taken.expires_at == campaign.ends_at
    assert work.claim_window(world.settings, campaign, ends - timedelta(hours=2)) == timedelta(
        hours=2
    )


async def test_a_short_count_a_reviewer_approved_is_taken_back_when_still_short(
    world: World,
) -> None:
    campaign = await live_campaign(world, **profile_ad(review_policy="manual"))
    worker = world.workers[1]
    assignment = await claim(world, worker, campaign)
    ad = await put_up(world, worker, ref=work.tracking_code(assignment.id))
    await audience(world, ad, 600)
    handed = await hand_in(world, worker, assignment)
    assert "platform_impressions_short" in handed.risk_reasons
    reviewer = await world.actor(world.reviewer)
    async with world.db.session_scope() as s:
        approved = await work.review(
            s, actor=reviewer, assignment_id=assignment.id, approve=True,
            reason="meets_requirements", note=None, settings=world.settings,
        )  # fmt: skip
    assert approved.status == "approved" and approved.hold_until is not None
    async with world.db.session_scope() as s:
        settled = await work.settle_holds(s, now=approved.hold_until + timedelta(seconds=1))
    assert settled["clawed_back"] == 1
    async with world.db.sessionmaker() as s:
        row = await s.get(Assignment, assignment.id)
    assert row is not None and row.settle_reason == "undone_impressions_short"
    assert labels.settle_label(row.settle_reason) == (
        "The platform did not count the ad's thousand impressions by the hold's end"
    )


def test_signed_out_viewers_are_told_apart_by_address_not_browser() -> None:
    secret = "s" * 32
    key = ads.viewer_key(None, "203.0.113.9", secret=secret)
    assert key == ads.viewer_key(None, "203.0.113.9", secret=secret)
    assert key != ads.viewer_key(None, "203.0.113.10", secret=secret)
    # One household's IPv6 prefix is one viewer; the secret keys the hash.
    assert ads.viewer_key(None, "2001:db8::1", secret=secret) == ads.viewer_key(
        None, "2001:db8::ffff", secret=secret
    )
    assert key != ads.viewer_key(None, "203.0.113.9", secret="t" * 32)
    assert "203.0.113.9" not in key
