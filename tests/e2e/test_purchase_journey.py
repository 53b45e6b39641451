"""A worker on a phone takes a purchase task: the task's link opens the product in the
sandbox shop with the claim's tracking code, the purchase asks first, the screenshot of
the order is handed in and the platform's check approves it, with the reward held until
the return period is over."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path
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
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.evidence.screenshots import render_action_screenshot
from xingdong.platforms.sandbox import service as sandbox
from xingdong.platforms.sandbox.models import SandboxOrder
from xingdong.work import service as work
from xingdong.work.models import Assignment

pytestmark = pytest.mark.e2e


def set_the_scene(database_url: str) -> tuple[UUID, UUID, str]:
    """A live purchase campaign on a ¥129.00 product; the product, the campaign and the
    first worker's phone."""

    async def build(_db: Database) -> tuple[UUID, UUID, str]:
        world = await build_world(database_url, make_settings(hold_hours=24))
        try:
            async with world.db.session_scope() as s:
                shop = await sandbox.get_account(s, handle=BRAND_HANDLE)
                product = await sandbox.create_product(
                    s, account=shop, title="保湿精华 30ml", price_fen=12_900
                )
            campaign = await live_campaign(
                world, title="新品精华体验", task_type="purchase",
                target=f"/sandbox/products/{product.id}",
                brief="通过任务链接购买新品精华，收货后正常使用。无需评价。",
                unit_price=2_000, pacing_per_hour=None,
                starts_at=utcnow() - timedelta(hours=1),
            )  # fmt: skip
            return product.id, campaign.id, world.workers[0].phone
        finally:
            await world.db.dispose()

    return run_async(database_url, build)


def orders_and_claim(database_url: str, campaign_id: UUID) -> tuple[list[SandboxOrder], Assignment]:
    async def read(db: Database) -> tuple[list[SandboxOrder], Assignment]:
        async with db.sessionmaker() as s:
            orders = list((await s.execute(select(SandboxOrder))).scalars())
            claim = await s.scalar(select(Assignment).where(Assignment.campaign_id == campaign_id))
            assert claim is not None
            return orders, claim

    return run_async(database_url, read)


def test_a_worker_buys_through_the_task_link_and_is_approved_on_a_phone(
    phone: Page,  # noqa: F811
    database_url: str,
    tmp_path: Path,
) -> None:
    product_id, campaign_id, worker_phone = set_the_scene(database_url)
    sign_in(phone, worker_phone)
    phone.goto(f"/tasks/{campaign_id}")
    expect(phone.locator("[data-brief]")).to_contain_text("无需评价")
    expect(phone.locator("[data-hold-hours]")).to_have_attribute("data-hold-hours", "192")
    expect(phone.locator("[data-hold-hours]")).to_contain_text("退货期")
    # What the worker pays is said before the claim, next to what they earn.
    expect(phone.locator("[data-product-price-fen]")).to_contain_text("¥129.00")
    phone.locator("[data-claim-button]").click()
    claimed = time.monotonic()
    expect(phone.locator('[data-assignment-status="claimed"]')).to_be_visible()
    task_url = phone.url
    expect(phone.locator("[data-step-target]")).to_have_attribute(
        "href", re.compile(rf"^/sandbox/products/{product_id}\?ref=xd-[0-9a-f]{{32}}$")
    )

    # The link opens the product with the claim's code; buying asks first.
    phone.locator("[data-step-target]").click()
    expect(phone.locator(f'[data-product="{product_id}"]')).to_be_visible()
    expect(phone.locator("[data-price-fen]")).to_have_text("¥129.00")
    assert fits_the_screen(phone)
    phone.once("dialog", lambda dialog: dialog.dismiss())
    phone.locator("[data-buy-button]").click()
    expect(phone.locator("[data-my-orders]")).to_have_count(0)
    phone.once("dialog", lambda dialog: dialog.accept())
    phone.locator("[data-buy-button]").click()
    expect(phone.locator('[data-order-state="paid"]')).to_have_count(1)
    phone.screenshot(path=str(ARTIFACTS / "sandbox-product-phone.png"), full_page=True)

    # Back on the task, by the platform page's way back to it (after the purchase too):
    # a screenshot of the order, then submit.
    back = phone.locator("[data-back-to-task-link]")
    expect(back).to_have_text("← 返回任务")
    back.click()
    expect(phone).to_have_url(task_url)
    shot = tmp_path / "order.png"
    shot.write_bytes(
        render_action_screenshot(
            handle=BRAND_HANDLE, target_title="保湿精华 30ml", done_word="已付款",
            clock=utcnow(), seed=11,
        )
    )  # fmt: skip
    phone.set_input_files("#evidence-file", str(shot))
    time.sleep(max(0.0, FAST_SUBMIT_SECONDS + 1 - (time.monotonic() - claimed)))
    phone.locator("[data-submit-evidence]").click()
    expect(phone.locator('[data-assignment-status="approved"]')).to_be_visible()
    expect(phone.locator('[data-verification="verified"]')).to_contain_text("已找到订单")
    assert fits_the_screen(phone)

    orders, claim = orders_and_claim(database_url, campaign_id)
    assert [order.ref for order in orders] == [work.tracking_code(claim.id)]
    assert claim.reviewed_at is not None and claim.hold_until is not None
    assert claim.hold_until - claim.reviewed_at == timedelta(hours=192)
