"""An operator on a phone opens the feed console from the menu, finds a campaign the
pacing guard holds back (a worker took a fifth of it in its first minutes), filters by
pace, reads the weights in force, changes one (after a confirmation) and goes back to the
setting's."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_foundation_journey import fits_the_screen
from tests.e2e.test_sandbox_journey import run_async
from tests.e2e.test_work_journey import context_page, sign_in
from tests.integration.conftest import make_settings
from tests.lifecycle_world import build_world, live_campaign
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.dispatch import tuning
from xingdong.dispatch.models import WeightChange
from xingdong.work import service as work

pytestmark = pytest.mark.e2e

_titles = itertools.count(1)


@pytest.fixture
def phone(browser: Browser, site: str) -> Iterator[Page]:
    yield from context_page(browser, site, "phone")


def back_to_the_setting(database_url: str) -> None:
    """Whatever the test left, the weights of the setting again for the tests after it
    (they share the server)."""

    async def reset(db: Database) -> None:
        async with db.session_scope() as s:
            latest = await tuning.latest_change(s)
            if latest is not None and latest.weights:
                s.add(
                    WeightChange(
                        weights={}, note="", changed_by=latest.changed_by, changed_at=utcnow()
                    )
                )

    run_async(database_url, reset)


def paused_campaign(database_url: str, title: str) -> tuple[UUID, str]:
    """A live campaign of five units begun five minutes ago, one of them claimed; the id
    and an operator's phone."""

    async def build(_db: Database) -> tuple[UUID, str]:
        world = await build_world(database_url, make_settings())
        try:
            campaign = await live_campaign(
                world, title=title, starts_at=utcnow() - timedelta(minutes=5)
            )
            async with world.db.session_scope() as s:
                await work.claim(
                    s, person=world.workers[0], campaign_id=campaign.id, settings=world.settings
                )
            return campaign.id, world.operator.phone
        finally:
            await world.db.dispose()

    return run_async(database_url, build)


def test_an_operator_finds_a_paused_campaign_in_the_feed_console_on_a_phone(
    phone: Page, database_url: str
) -> None:
    title = f"控制台测试 {next(_titles)} {utcnow():%H%M%S%f}"
    campaign_id, operator_phone = paused_campaign(database_url, title)
    sign_in(phone, operator_phone)
    phone.locator("[data-nav-toggle]").click()
    phone.locator('[data-role-nav="dispatch"]').click()
    expect(phone).to_have_url("/ops/dispatch")
    expect(phone.locator("h1")).to_have_text("任务流控制台")

    phone.fill('input[name="q"]', title)
    phone.locator('[data-console-campaigns] form[role="search"] button[type="submit"]').click()
    row = phone.locator(f'[data-console-campaign="{campaign_id}"]')
    expect(row).to_have_attribute("data-pace", "paused")
    expect(row.locator("[data-held]")).to_have_text("20%")
    expect(row.locator("[data-paused-until]")).to_be_visible()
    expect(phone.locator('[data-pace-count="paused"]')).to_have_text("1")
    assert fits_the_screen(phone)
    phone.screenshot(path=str(ARTIFACTS / "dispatch-console-phone.png"), full_page=True)

    # The pace chips keep the search: the campaign is among the paused, not on plan.
    phone.locator('[data-pace-filter="paused"]').click()
    expect(phone).to_have_url(re.compile(r"pace=paused"))
    expect(row).to_be_visible()
    phone.locator('[data-pace-filter="on_plan"]').click()
    expect(phone.locator("[data-console-empty]")).to_be_visible()

    weights = phone.locator("[data-console-weights]")
    expect(weights.locator("[data-weights-changed]")).to_have_text("所有权重都是默认值。")
    weights.locator("[data-all-weights] summary").click()
    value = weights.locator('[data-weight="max_per_brand"] [data-weight-value]')
    expect(value).to_be_visible()
    expect(value).to_have_value("1")
    expect(weights.locator("[data-weight-changed]")).to_have_count(0)
    assert fits_the_screen(phone)

    try:
        # Look at more candidates in the diversity pass, with a reason, confirmed.
        phone.fill("#weight-candidates", "80")
        phone.fill("#weights-note", "看更多候选")
        phone.once("dialog", lambda dialog: dialog.accept())
        phone.locator("[data-weights-save]").click()
        expect(phone.locator('[role="status"]')).to_have_text("新权重已生效。")
        expect(weights.locator("[data-weights-changed]")).to_contain_text("candidates = 80")
        expect(weights.locator("[data-weight-change]").first).to_contain_text("看更多候选")
        assert fits_the_screen(phone)
        phone.screenshot(path=str(ARTIFACTS / "dispatch-weights-phone.png"), full_page=True)

        # Going back to the setting asks first; dismissed, nothing changes.
        weights.locator("[data-all-weights] summary").click()
        phone.once("dialog", lambda dialog: dialog.dismiss())
        phone.locator("[data-weights-reset] button").click()
        expect(weights.locator("[data-weights-changed]")).to_contain_text("candidates = 80")
        phone.once("dialog", lambda dialog: dialog.accept())
        phone.locator("[data-weights-reset] button").click()
        expect(phone.locator('[role="status"]')).to_have_text("已恢复为设置中的权重。")
        expect(weights.locator("[data-weights-changed]")).to_have_text("所有权重都是默认值。")
    finally:
        back_to_the_setting(database_url)
