"""On a phone, in Chinese: a worker with a task still in hold opens "erase my account"
from the profile and is told why it must wait, with no form; a worker with nothing to
settle reads what will happen, is told when the password is wrong or the box is not
ticked, confirms the dialog, lands on the sign-in page told the account is erased, and
cannot sign in with the old number and password."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect
from sqlalchemy import select

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_foundation_journey import fits_the_screen
from tests.e2e.test_sandbox_journey import run_async
from tests.e2e.test_work_journey import context_page, sign_in
from tests.integration.conftest import make_settings
from tests.lifecycle_world import (
    PASSWORD,
    build_world,
    follow_on_sandbox,
    live_campaign,
    window_nearly_over,
)
from xingdong.core.db import Database
from xingdong.identity import service as identity
from xingdong.identity.models import Person
from xingdong.work import service as work

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Scene:
    waiting: str
    """A worker whose completed task is still in its hold."""
    free: str
    """A worker with nothing to settle."""


@pytest.fixture
def phone(browser: Browser, site: str) -> Iterator[Page]:
    yield from context_page(browser, site, "phone")


@pytest.fixture
def scene(site: str, database_url: str) -> Scene:
    async def build(_db: Database) -> Scene:
        world = await build_world(database_url, make_settings(hold_hours=24), workers=2)
        try:
            waiting, free = world.workers
            campaign = await live_campaign(world, quantity=3, **window_nearly_over())
            async with world.db.session_scope() as s:
                taken = await work.claim(
                    s, person=waiting, campaign_id=campaign.id, settings=world.settings
                )
            async with world.db.sessionmaker() as s:
                handle = (await identity.platform_accounts(s, person=waiting))[0].handle
            await follow_on_sandbox(handle, world.db)
            async with world.db.session_scope() as s:
                await work.submit(
                    s, person=waiting, assignment_id=taken.id,
                    evidence=work.Evidence(link="https://sandbox.example/proof"),
                    settings=world.settings, now=taken.claimed_at + timedelta(seconds=60),
                )  # fmt: skip
            return Scene(waiting=waiting.phone, free=free.phone)
        finally:
            await world.db.dispose()

    return run_async(database_url, build)


def erased_row(database_url: str, phone: str) -> tuple[bool, bool]:
    """(whether an account still has this number, whether one was erased)."""

    async def read(db: Database) -> tuple[bool, bool]:
        async with db.sessionmaker() as s:
            holder = await s.scalar(select(Person).where(Person.phone == phone))
            erased = await s.scalar(select(Person.id).where(Person.erased_at.is_not(None)))
        return holder is not None, erased is not None

    return run_async(database_url, read)


def test_a_worker_erases_their_account_on_a_phone(
    phone: Page, scene: Scene, database_url: str
) -> None:
    page = phone
    sign_in(page, scene.waiting)
    page.goto("/profile")
    page.locator("[data-erase-link]").click()
    expect(page).to_have_url("/me/erase")
    expect(page.locator("h1")).to_have_text("注销账号")
    expect(page.locator("[data-erasure]")).to_have_attribute("data-erasure", "blocked")
    expect(page.locator('[data-blocker="open_work"]')).to_contain_text("个任务尚未结清")
    expect(page.locator('[data-blocker="money_in_hold"]')).to_contain_text("仍在保留期内")
    expect(page.locator("[data-erase-account]")).to_have_count(0)
    assert fits_the_screen(page)

    page.context.clear_cookies()
    sign_in(page, scene.free)
    page.goto("/me/erase")
    expect(page.locator("[data-erasure]")).to_have_attribute("data-erasure", "allowed")
    expect(page.locator("[data-erasure-effects]")).to_contain_text("该手机号可重新注册")
    assert fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "erase-phone.png"), full_page=True)

    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.fill("#password", "not-my-password")
    page.check("#confirm")
    page.locator("[data-erase-account]").click()
    expect(page.locator("#password-error")).to_have_text("密码错误。")
    assert dialogs == ["确定永久注销账号吗？此操作无法撤销。"]
    assert erased_row(database_url, scene.free) == (True, False)

    page.fill("#password", PASSWORD)
    page.uncheck("#confirm")
    page.locator("[data-erase-account]").click()
    expect(page.locator("#confirm-error")).to_have_text("请勾选确认后继续。")

    page.fill("#password", PASSWORD)
    page.check("#confirm")
    page.locator("[data-erase-account]").click()
    page.wait_for_url("**/login?done=*")
    expect(page.locator(".notice.ok[role=status]")).to_contain_text("你的账号已注销")
    assert len(dialogs) == 3
    assert erased_row(database_url, scene.free) == (False, True)

    page.goto("/profile")
    page.wait_for_url("**/login?next=/profile*")
    page.fill("#phone", scene.free[-11:])
    page.fill("#password", PASSWORD)
    page.locator('form[action="/login"] button[type=submit]').click()
    expect(page.locator(".notice.error")).to_contain_text("手机号或密码错误")
