"""On a phone, in Chinese: a brand's owner opens a campaign with three completions (two
final, one still in hold), follows its link to the statement (对账单), reads the summary
and the ledger's check, prints it without the menu, and downloads its CSV, whose first
line is the Chinese header; and reads the month's account statement (月度账户对账单) of the
organisation from its page, every movement with the balance after it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import update

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_foundation_journey import fits_the_screen
from tests.e2e.test_sandbox_journey import run_async
from tests.e2e.test_work_journey import context_page, sign_in
from tests.integration.conftest import make_settings
from tests.lifecycle_world import build_world, follow_on_sandbox, live_campaign, window_nearly_over
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.identity import service as identity
from xingdong.identity.models import Organisation
from xingdong.work import service as work
from xingdong.work.models import Assignment

pytestmark = pytest.mark.e2e

CHINESE_HEADER = (
    "完成编号,用户（代号）,状态,领取时间（北京时间）,提交时间（北京时间）,通过时间（北京时间）,"
    "保留期结束（北京时间）,结算时间（北京时间）,计费金额（分）,计费,状态代码"
)


@dataclass(frozen=True)
class Scene:
    owner: str
    campaign_id: UUID
    title: str
    org_id: UUID


@pytest.fixture
def phone(browser: Browser, site: str) -> Iterator[Page]:
    yield from context_page(browser, site, "phone")


@pytest.fixture
def scene(site: str, database_url: str) -> Scene:
    """A live follow campaign at ¥1.00 a completion: three workers did it (the sandbox
    confirmed it, so it was approved at once); the first two are past their hold."""

    async def build(_db: Database) -> Scene:
        world = await build_world(database_url, make_settings(hold_hours=24), workers=3)
        try:
            campaign = await live_campaign(
                world, quantity=5, unit_price=100, **window_nearly_over()
            )
            done = []
            for worker in world.workers:
                async with world.db.session_scope() as s:
                    # In the past, as the server's risk engine reads these events too and
                    # its clock never goes back: a hand-in dated ahead would hold it there.
                    taken = await work.claim(
                        s, person=worker, campaign_id=campaign.id, settings=world.settings,
                        now=utcnow() - timedelta(minutes=2),
                    )  # fmt: skip
                async with world.db.sessionmaker() as s:
                    handle = (await identity.platform_accounts(s, person=worker))[0].handle
                await follow_on_sandbox(handle, world.db)
                async with world.db.session_scope() as s:
                    await work.submit(
                        s, person=worker, assignment_id=taken.id,
                        evidence=work.Evidence(link="https://sandbox.example/proof"),
                        settings=world.settings, now=taken.claimed_at + timedelta(seconds=60),
                    )  # fmt: skip
                done.append(taken.id)
            async with world.db.session_scope() as s:
                await s.execute(
                    update(Assignment)
                    .where(Assignment.id.in_(done[:2]))
                    .values(hold_until=utcnow() - timedelta(seconds=1))
                )
            async with world.db.session_scope() as s:
                await work.settle_holds(s)
                # A brand of some weeks, so that its statement has a month before this one.
                await s.execute(
                    update(Organisation)
                    .where(Organisation.id == world.org_id)
                    .values(created_at=utcnow() - timedelta(days=40))
                )
            return Scene(world.owner.phone, campaign.id, campaign.title, world.org_id)
        finally:
            await world.db.dispose()

    return run_async(database_url, build)


def test_a_brand_owner_reads_prints_and_downloads_a_statement_on_a_phone(
    phone: Page, scene: Scene
) -> None:
    page = phone
    sign_in(page, scene.owner)
    page.goto(f"/campaigns/{scene.campaign_id}")
    link = page.locator("[data-open-statement]")
    expect(link).to_have_text("对账单")
    link.click()
    expect(page).to_have_url(f"/campaigns/{scene.campaign_id}/statement")
    expect(page.locator("h1")).to_have_text(f"对账单：{scene.title}")

    summary = page.locator("[data-statement-summary]")
    expect(summary.locator("[data-charged-units]")).to_have_text("3")
    expect(summary).to_contain_text("已结算：2 · 保留期内：1")
    expect(summary.locator("[data-final-fen]")).to_have_text("¥ 2.00")
    expect(summary.locator("[data-in-hold-fen]")).to_have_text("¥ 1.00")
    expect(summary.locator("[data-escrow-fen]")).to_have_text("¥ 2.00")
    expect(page.locator('[data-reconciles="true"]')).to_have_text(
        "✓ 账本扣款与计费完成数相符：3 × ¥ 1.00 = ¥ 3.00。"
    )
    # The tables fold into labelled lines on a phone.
    reward = page.locator('[data-movement="task_reward"] td').first
    expect(reward).to_have_text("支付给用户的奖励")
    expect(page.locator("[data-statement-movements] thead")).to_be_hidden()
    assert fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "statement-phone.png"), full_page=True)

    # Print: the button calls the browser's print, and on paper the menu and buttons go.
    printing = page.locator("[data-print]")
    expect(printing).to_be_visible()
    page.evaluate("() => { window.print = () => { window.printed = (window.printed || 0) + 1; }; }")
    printing.click()
    assert page.evaluate("window.printed") == 1
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.locator(".statement-actions")).to_be_hidden()
    expect(page.locator("[data-statement-movements] thead")).to_be_visible()
    page.emulate_media(media="screen")

    with page.expect_download() as download_info:
        page.locator("[data-statement-csv]").click()
    download = download_info.value
    # Saved under the campaign's title and the day (the plain name is the fallback).
    assert download.suggested_filename.startswith(f"{scene.title} ")
    assert download.suggested_filename.endswith(".csv")
    saved = Path(download.path())
    content = saved.read_bytes()
    assert content.startswith("\ufeff".encode())
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0] == CHINESE_HEADER
    assert len(lines) == 4
    billing = sorted(line.split(",")[9] for line in lines[1:])
    assert billing == ["保留期内", "已结算", "已结算"]
    assert sorted(line.rsplit(",", 1)[1] for line in lines[1:]) == [
        "approved", "released", "released",
    ]  # fmt: skip


def test_a_brand_owner_reads_the_month_of_its_account_on_a_phone(phone: Page, scene: Scene) -> None:
    page = phone
    sign_in(page, scene.owner)
    page.goto(f"/orgs/{scene.org_id}")
    page.locator("[data-account-statement]").click()
    expect(page).to_have_url(f"/orgs/{scene.org_id}/account-statement")
    expect(page.locator("h1")).to_contain_text("账户对账单：测试品牌")
    summary = page.locator("[data-statement-summary]")
    # The world's ¥10,000 came in this month; the campaign's ¥5.00 budget went out.
    expect(summary.locator("[data-opening-fen]")).to_have_text("¥ 0.00")
    expect(summary.locator("[data-in-fen]")).to_have_text("¥ 10,000.00")
    expect(summary.locator("[data-out-fen]")).to_have_text("¥ 5.00")
    expect(summary.locator("[data-closing-fen]")).to_have_text("¥ 9,995.00")
    expect(page.locator("[data-month-running]")).to_contain_text("本月尚未结束")
    entries = page.locator("[data-entry]")
    expect(entries).to_have_count(2)
    expect(entries.nth(1)).to_contain_text("活动预算划入托管")
    expect(entries.nth(1).locator("a")).to_have_text(scene.title)
    assert entries.nth(1).get_attribute("data-balance-after-fen") == "999500"
    assert fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "account-statement-phone.png"), full_page=True)

    page.locator("[data-month-previous]").click()
    expect(page.locator("[data-no-entries]")).to_have_text("本月没有资金变动。")
    with page.expect_download() as download_info:
        page.goto(f"/orgs/{scene.org_id}/account-statement")
        page.locator("[data-statement-csv]").click()
    lines = Path(download_info.value.path()).read_bytes().decode("utf-8-sig").splitlines()
    assert lines[0].startswith("时间（UTC+8）,类型")
    assert lines[-1].split(",")[1] == "期末余额" and lines[-1].endswith(",9995.00,")
