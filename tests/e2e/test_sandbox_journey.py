"""A worker binds a sandbox account, follows the demo brand, likes one of its videos after
watching it for a few seconds and visits its live room, on a phone; the connector then
verifies the follow and the like."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TypeVar

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ARTIFACTS, VIEWPORTS
from tests.e2e.test_foundation_journey import fits_the_screen, register_by_api, sign_in
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.platforms.connector import Verification
from xingdong.platforms.sandbox.connector import SandboxConnector
from xingdong.platforms.sandbox.demo import BRAND_HANDLE, seed_sandbox

pytestmark = pytest.mark.e2e

_phones = itertools.count(15800000000)
T = TypeVar("T")
WATCH_SECONDS = 3


def run_async(database_url: str, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run database work on its own event loop, in a thread: Playwright's synchronous API
    keeps a loop running in this one."""

    async def with_database() -> T:
        db = Database(database_url, pool_size=1)
        try:
            return await work(db)
        finally:
            await db.dispose()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, with_database()).result()


@pytest.fixture
def phone(browser: Browser, site: str) -> Iterator[Page]:
    context = browser.new_context(
        viewport=VIEWPORTS["phone"],  # type: ignore[arg-type]
        base_url=site,
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_a_worker_follows_and_likes_on_the_sandbox_and_both_are_verified(
    phone: Page, site: str, database_url: str
) -> None:
    async def seed(db: Database) -> None:
        async with db.session_scope() as session:
            await seed_sandbox(session)

    run_async(database_url, seed)
    started = utcnow() - timedelta(seconds=1)
    number = str(next(_phones))
    register_by_api(site, number, "小林")
    sign_in(phone, number)

    # Without a bound account the sandbox says how to get one.
    phone.goto("/sandbox")
    expect(phone.locator("[data-sandbox-banner]")).to_be_visible()
    expect(phone.locator('[data-sandbox-notice="bind"]')).to_be_visible()
    phone.locator('[data-sandbox-notice="bind"] a').click()
    phone.fill("#handle", "xiaolin_e2e")
    phone.fill("#followers", "320")
    phone.locator('form[action="/profile/platform"] button').click()
    expect(phone.locator('[data-bound-handle="xiaolin_e2e"]')).to_be_visible()

    # Discover → the brand's profile → follow.
    phone.goto("/sandbox")
    expect(phone.locator('[data-sandbox-me="xiaolin_e2e"]')).to_be_visible()
    assert fits_the_screen(phone)
    phone.locator(f'[data-account-link="{BRAND_HANDLE}"]').click()
    expect(phone.locator("h1")).to_have_text("星动美妆官方号")
    phone.locator("[data-follow-button]").click()
    expect(phone.locator('form[data-following="true"]')).to_be_visible()
    expect(phone.locator("[data-followers]")).to_have_attribute("data-followers", "12001")
    assert fits_the_screen(phone)
    phone.screenshot(path=str(ARTIFACTS / "sandbox-profile-phone.png"), full_page=True)

    # Open a video, watch it for a few seconds, like it.
    phone.locator("[data-video-link]").first.click()
    expect(phone.locator("[data-watch-timer]")).to_be_visible()
    video_id = phone.locator("[data-video]").get_attribute("data-video")
    assert video_id
    phone.wait_for_function(
        "n => Number(document.querySelector('[data-watch-seconds]').textContent) >= n",
        arg=WATCH_SECONDS,
    )
    assert fits_the_screen(phone)
    phone.locator("[data-like-button]").click()
    expect(phone.locator('form[data-liked="true"]')).to_be_visible()
    phone.screenshot(path=str(ARTIFACTS / "sandbox-video-phone.png"), full_page=True)

    # The brand's live room: enter, then leave.
    phone.goto("/sandbox")
    phone.screenshot(path=str(ARTIFACTS / "sandbox-discover-phone.png"), full_page=True)
    phone.locator("[data-live-link]").first.click()
    phone.locator("[data-enter-button]").click()
    expect(phone.locator("[data-live-visit]")).to_be_visible()
    assert fits_the_screen(phone)
    phone.screenshot(path=str(ARTIFACTS / "sandbox-live-phone.png"), full_page=True)
    phone.locator("[data-leave-button]").click()
    expect(phone.locator("[data-enter-button]")).to_be_visible()

    async def check(db: Database) -> tuple[Verification, Verification]:
        connector = SandboxConnector(db)
        brand = await connector.resolve_target("account", "@" + BRAND_HANDLE)
        video = await connector.resolve_target("video", f"{site}/sandbox/videos/{video_id}")
        followed = await connector.verify_action(
            "follow", actor_handle="xiaolin_e2e", target=brand, since=started
        )
        liked = await connector.verify_action(
            "like",
            actor_handle="xiaolin_e2e",
            target=video,
            since=started,
            min_watch_seconds=WATCH_SECONDS,
        )
        return followed, liked

    followed, liked = run_async(database_url, check)
    assert (followed.status, followed.detail) == ("verified", "follow_found")
    assert (liked.status, liked.detail) == ("verified", "like_found")
    assert liked.watched_seconds is not None
    assert liked.watched_seconds >= WATCH_SECONDS
