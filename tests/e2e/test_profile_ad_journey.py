"""A creator on a phone takes a profile-ad task (CPM): the task's link opens the brand's
page on the sandbox platform with the claim's code, putting the ad card up asks first,
the card shows on their profile labelled 广告 with its count, the task page follows the
count to the thousand, and the hand-in is approved by the platform's count."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from uuid import UUID

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_foundation_journey import fits_the_screen
from tests.e2e.test_sandbox_journey import run_async
from tests.e2e.test_work_journey import FAST_SUBMIT_SECONDS, phone, sign_in  # noqa: F401
from tests.integration.conftest import make_settings
from tests.lifecycle_world import BRAND_HANDLE, build_world, live_campaign
from xingdong.campaigns.policy import IMPRESSIONS_PER_UNIT
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.identity import service as identity
from xingdong.platforms.sandbox import ads
from xingdong.platforms.sandbox.models import SandboxProfileAd
from xingdong.work import service as work
from xingdong.work.models import Assignment

pytestmark = pytest.mark.e2e


def set_the_scene(database_url: str) -> tuple[UUID, str, str]:
    """A live profile-ad campaign for the brand; the campaign, the first worker's phone
    and their handle."""

    async def build(_db: Database) -> tuple[UUID, str, str]:
        world = await build_world(database_url, make_settings(hold_hours=24))
        try:
            campaign = await live_campaign(
                world, title="主页广告位", task_type="profile_ad", target="@" + BRAND_HANDLE,
                brief="在你的主页展示品牌广告卡片，按每千次展示结算。",
                unit_price=3_000, pacing_per_hour=None,
                starts_at=utcnow() - timedelta(hours=1),
            )  # fmt: skip
            worker = world.workers[0]
            async with world.db.sessionmaker() as s:
                [bound] = await identity.platform_accounts(s, person=worker)
            return campaign.id, worker.phone, bound.handle
        finally:
            await world.db.dispose()

    return run_async(database_url, build)


def the_ad(database_url: str) -> SandboxProfileAd:
    async def read(db: Database) -> SandboxProfileAd:
        async with db.sessionmaker() as s:
            [ad] = (await s.execute(select(SandboxProfileAd))).scalars().all()
            return ad

    return run_async(database_url, read)


def audience(database_url: str, ad_id: UUID, views: int) -> None:
    async def add(db: Database) -> None:
        async with db.session_scope() as s:
            await ads.show_to_audience(s, ad_id=ad_id, views=views)

    run_async(database_url, add)


def the_claim(database_url: str, campaign_id: UUID) -> Assignment:
    async def read(db: Database) -> Assignment:
        async with db.sessionmaker() as s:
            claim = await s.scalar(select(Assignment).where(Assignment.campaign_id == campaign_id))
            assert claim is not None
            return claim

    return run_async(database_url, read)


def test_a_creator_shows_a_brands_ad_until_a_thousand_saw_it_on_a_phone(
    phone: Page,  # noqa: F811
    database_url: str,
) -> None:
    campaign_id, worker_phone, handle = set_the_scene(database_url)
    sign_in(phone, worker_phone)
    phone.goto(f"/tasks/{campaign_id}")
    expect(phone.locator("[data-reward-fen]")).to_contain_text("广告每被看到 1,000 次")
    expect(phone.locator("[data-claim-minutes]")).to_have_attribute("data-claim-minutes", "4320")
    phone.locator("[data-claim-button]").click()
    claimed = time.monotonic()
    expect(phone.locator('[data-assignment-status="claimed"]')).to_be_visible()
    task_url = phone.url
    expect(phone.locator("[data-impressions]")).to_have_attribute("data-impressions", "0")
    expect(phone.locator("[data-step-target]")).to_have_attribute(
        "href", re.compile(rf"^/sandbox/@{BRAND_HANDLE}\?ref=xd-[0-9a-f]{{32}}$")
    )

    # The link opens the brand's page with an offer to show its ad; it asks first.
    phone.locator("[data-step-target]").click()
    expect(phone.locator("[data-ad-offer]")).to_be_visible()
    assert fits_the_screen(phone)
    phone.once("dialog", lambda dialog: dialog.dismiss())
    phone.locator("[data-put-up-ad]").click()
    expect(phone.locator("[data-ad-offer]")).to_be_visible()
    phone.once("dialog", lambda dialog: dialog.accept())
    phone.locator("[data-put-up-ad]").click()
    expect(phone).to_have_url(f"/sandbox/@{handle}")
    expect(phone.locator("[data-profile-ad]")).to_contain_text("广告")
    expect(phone.locator("[data-ad-impressions]")).to_have_attribute("data-ad-impressions", "0")
    assert fits_the_screen(phone)
    phone.screenshot(path=str(ARTIFACTS / "sandbox-profile-ad-phone.png"), full_page=True)

    # The audience sees it; the task page follows the count.
    ad = the_ad(database_url)
    claim = the_claim(database_url, campaign_id)
    assert ad.ref == work.tracking_code(claim.id)
    audience(database_url, ad.id, IMPRESSIONS_PER_UNIT - 1)
    phone.goto(task_url)
    expect(phone.locator("[data-impressions]")).to_have_attribute("data-impressions", "999")
    expect(phone.locator("[data-impressions-reached]")).to_have_count(0)
    audience(database_url, ad.id, 1)
    phone.reload()
    expect(phone.locator("[data-impressions-reached]")).to_be_visible()
    assert fits_the_screen(phone)

    phone.fill("#evidence-link", f"https://sandbox.example/@{handle}")
    time.sleep(max(0.0, FAST_SUBMIT_SECONDS + 1 - (time.monotonic() - claimed)))
    phone.locator("[data-submit-evidence]").click()
    expect(phone.locator('[data-assignment-status="approved"]')).to_be_visible()
    expect(phone.locator('[data-verification="verified"]')).to_contain_text("广告已被看到一千次")
    done = the_claim(database_url, campaign_id)
    assert done.verification["impressions"] == IMPRESSIONS_PER_UNIT
    assert done.hold_until is not None
