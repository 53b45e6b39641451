"""On a phone, in Chinese: a worker with a task still in hold opens "erase my account"
from the profile and is told why it must wait, with no form; a worker with nothing to
settle reads what will happen, is told when the password is wrong or the box is not
ticked (and nothing changes), confirms the dialog, lands on the sign-in page told the
account is erased, is signed out everywhere, cannot sign in with the old number and
password, and the number can be registered again."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect
from sqlalchemy import func, select

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_accessibility import check_page, contrast
from tests.e2e.test_foundation_journey import fits_the_screen, register_by_api
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
from xingdong.identity.models import Person, WebSession
from xingdong.identity.validation import is_erased_phone
from xingdong.web.deps import SESSION_COOKIE
from xingdong.work import service as work

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Scene:
    waiting: str
    """The number of a worker whose completed task is still in its hold."""
    free: str
    """The number of a worker with nothing to settle."""
    free_id: UUID
    admin: str
    """The number of a platform admin."""


@dataclass(frozen=True)
class Row:
    """What the database holds about one person."""

    phone: str
    is_active: bool
    is_erased: bool
    failed_logins: int
    sessions: int


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
                    settings=world.settings,
                )  # fmt: skip
            async with world.db.session_scope() as s:
                await identity.grant_staff_role(
                    s, phone=world.operator2.phone, role="admin", granted_by=None
                )
            return Scene(
                waiting=waiting.phone, free=free.phone, free_id=free.id,
                admin=world.operator2.phone,
            )  # fmt: skip
        finally:
            await world.db.dispose()

    return run_async(database_url, build)


def person_row(database_url: str, person_id: UUID) -> Row:
    async def read(db: Database) -> Row:
        async with db.sessionmaker() as s:
            person = await s.get_one(Person, person_id)
            sessions = await s.scalar(
                select(func.count())
                .select_from(WebSession)
                .where(WebSession.person_id == person_id)
            )
            return Row(
                phone=person.phone,
                is_active=person.is_active,
                is_erased=person.erased_at is not None,
                failed_logins=person.failed_login_count,
                sessions=sessions or 0,
            )

    return run_async(database_url, read)


def session_cookie(page: Page) -> str | None:
    return next((c["value"] for c in page.context.cookies() if c["name"] == SESSION_COOKIE), None)


def test_a_worker_erases_their_account_on_a_phone(
    phone: Page, scene: Scene, site: str, database_url: str
) -> None:
    page = phone

    # Something is unsettled: the page says what, and offers no form.
    sign_in(page, scene.waiting)
    # (On the way: the chosen one of a row of filters wider than the phone is in view.)
    page.goto("/me/tasks?status=disputed")
    chosen = page.locator('.wk-filter[aria-current="page"]')
    expect(chosen).to_have_attribute("data-filter", "disputed")
    page.wait_for_function(
        "() => { const r = document.querySelector('.wk-filter.active').getBoundingClientRect();"
        " return r.left >= 0 && r.right <= window.innerWidth; }"
    )
    page.goto("/profile")
    page.locator("#erase [data-erase-link]").click()
    expect(page).to_have_url("/me/erase")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("注销账号")
    expect(page.locator("[data-erasure]")).to_have_attribute("data-erasure", "blocked")
    expect(page.locator("[data-blocker]")).to_have_count(2)
    expect(page.locator('[data-blocker="open_work"]')).to_contain_text("1 个任务尚未结清")
    expect(page.locator('[data-blocker="money_in_hold"]')).to_contain_text("仍在保留期内")
    expect(page.locator('form[action="/me/erase"]')).to_have_count(0)
    expect(page.locator("#password")).to_have_count(0)
    expect(page.locator("[data-erase-account]")).to_have_count(0)
    assert fits_the_screen(page)

    # Nothing is unsettled: what happens, and the form.
    page.context.clear_cookies()
    sign_in(page, scene.free)
    page.goto("/me/erase")
    expect(page.locator("[data-erasure]")).to_have_attribute("data-erasure", "allowed")
    expect(page.locator("[data-blocker]")).to_have_count(0)
    expect(page.locator("[data-erasure-effects]")).to_contain_text("该手机号可重新注册")
    assert fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "erase-phone.png"), full_page=True)
    before = person_row(database_url, scene.free_id)
    assert (before.is_active, before.is_erased, before.failed_logins, before.sessions) == (
        True, False, 0, 1,
    )  # fmt: skip
    old_session = session_cookie(page)
    assert old_session

    check_page(page, "/me/erase", "zh_CN")
    page.goto("/me/erase")
    box = page.get_by_role("checkbox", name="我了解注销后账号无法恢复。")
    expect(box).not_to_be_checked()
    erase = page.get_by_role("button", name="注销账号")
    colours = erase.evaluate(
        "b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]"
    )
    assert contrast(*colours) >= 4.5

    # The confirmation's messages, and what the person answers in turn (then "yes").
    dialogs: list[str] = []
    answers = [False]

    def answer(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        if answers and not answers.pop(0):
            dialog.dismiss()
        else:
            dialog.accept()

    page.on("dialog", answer)

    # Everything right, but "cancel" in the dialog: nothing is sent.
    page.fill("#password", PASSWORD)
    box.check()
    erase.click()
    expect(page).to_have_url("/me/erase")
    expect(page.locator("#password")).to_have_value(PASSWORD)
    expect(page.locator(".notice")).to_have_count(0)
    assert dialogs == ["确定永久注销账号吗？此操作无法撤销。"]
    assert person_row(database_url, scene.free_id) == before

    # A wrong password: told beside the field, counted as a failed sign-in, nothing erased.
    page.fill("#password", "not-my-password")
    box.check()
    erase.click()
    expect(page.locator("#password-error")).to_have_text("密码错误。")
    expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#password")).to_have_accessible_description("密码错误。")
    expect(page.locator(".notice.error[role=alert]")).to_contain_text("密码错误")
    expect(page).to_have_url("/me/erase")
    assert len(dialogs) == 2
    assert person_row(database_url, scene.free_id) == Row(
        phone=before.phone, is_active=True, is_erased=False, failed_logins=1, sessions=1
    )

    # The box not ticked: not asked (the server would refuse), told beside the box,
    # nothing erased.
    page.fill("#password", PASSWORD)
    box.uncheck()
    erase.click()
    expect(page.locator("#confirm-error")).to_have_text("请勾选确认后继续。")
    expect(page.locator("#confirm")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#confirm")).to_have_accessible_description("请勾选确认后继续。")
    expect(page.locator(".notice.error[role=alert]")).to_contain_text("请勾选确认框")
    expect(page).to_have_url("/me/erase")
    assert len(dialogs) == 2
    assert person_row(database_url, scene.free_id) == Row(
        phone=before.phone, is_active=True, is_erased=False, failed_logins=1, sessions=1
    )

    # The right password, the box ticked, the dialog confirmed: erased and signed out.
    page.fill("#password", PASSWORD)
    box.check()
    erase.click()
    # The page drops the one-off "done" from the address once loaded, so look for the
    # address it ends at (waiting for the passing one races with the script).
    expect(page).to_have_url("/login")
    expect(page.locator(".notice.ok[role=status]")).to_have_text(
        "你的账号已注销。感谢你一直以来的陪伴。"
    )
    assert len(dialogs) == 3
    assert session_cookie(page) is None
    after = person_row(database_url, scene.free_id)
    assert after.phone != before.phone
    assert is_erased_phone(after.phone)
    assert before.phone[-11:] not in after.phone
    assert (after.is_active, after.is_erased, after.sessions) == (False, True, 0)
    assert fits_the_screen(page)

    # The session the browser had is refused by the server too, not only forgotten here.
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": old_session, "url": site}])
    page.goto("/profile")
    page.wait_for_url("**/login?next=/profile*")
    page.context.clear_cookies()

    page.goto("/profile")
    page.wait_for_url("**/login?next=/profile*")
    page.fill("#phone", scene.free[-11:])
    page.fill("#password", PASSWORD)
    page.locator('form[action="/login"] button[type=submit]').click()
    expect(page.locator(".notice.error[role=alert]")).to_contain_text("手机号或密码错误")
    # The answer stands at the sign-in page the form was on (with where to go next).
    # (No "expired": the cookies were cleared, so nobody was signed in.)
    expect(page).to_have_url("/login?next=%2Fprofile")
    expect(page.locator('input[name="next"]')).to_have_value("/profile")
    assert session_cookie(page) is None

    # As the page promised, the number is free to register again: a new account.
    register_by_api(site, scene.free[-11:], "新的我")
    assert person_row(database_url, scene.free_id).phone == after.phone


def test_an_admin_erases_an_account_on_request_from_the_persons_page(
    phone: Page, scene: Scene, database_url: str
) -> None:
    """The person asked by letter: the admin finds them, types the request's reference,
    is told beside the box when it is not ticked, confirms, and sees the account erased."""
    page = phone
    sign_in(page, scene.admin)
    page.goto(f"/ops/people/{scene.free_id}")
    section = page.locator("[data-person-erase]")
    expect(section.locator("h2")).to_have_text("注销账号（应本人申请）")
    expect(section.locator("[data-erasure]")).to_have_attribute("data-erasure", "allowed")
    assert fits_the_screen(page)
    dialogs: list[str] = []

    def answer(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    page.fill("#erase-why", "用户来信申请注销，工单 2026-1206-03")
    section.get_by_role("button", name="注销账号").click()
    expect(page.locator("#confirm-error")).to_have_text("请勾选确认后继续。")
    expect(page.locator("#erase-why")).to_have_value("用户来信申请注销，工单 2026-1206-03")
    expect(page.locator("#why-error")).to_have_count(0)  # the freeze form's field is quiet
    # The answer stands at the person's page, not at the form's POST-only address.
    expect(page).to_have_url(f"/ops/people/{scene.free_id}")
    expect(page.locator('[data-lang="en"]')).to_have_attribute(
        "href", f"/ops/people/{scene.free_id}?lang=en"
    )
    assert not person_row(database_url, scene.free_id).is_erased

    page.get_by_role("checkbox", name="当事人已提出申请，我知道该账号注销后无法恢复。").check()
    page.locator("[data-person-erase] button[type=submit]").click()
    expect(page.locator(".notice.ok[role=status]")).to_have_text("账号已注销。")
    expect(page.locator("[data-person-state]")).to_have_attribute("data-person-state", "erased")
    expect(page.locator("[data-person-erase]")).to_have_count(0)
    expect(page.locator('[data-audit-action="identity.account_erased"]')).to_contain_text(
        "工单 2026-1206-03"
    )
    # Asked once: the form without the box ticked went without the question.
    assert len(dialogs) == 1 and dialogs[0].startswith("永久注销")
    after = person_row(database_url, scene.free_id)
    assert (after.is_erased, after.is_active, after.sessions) == (True, False, 0)
    assert is_erased_phone(after.phone)
    assert fits_the_screen(page)

    # Someone with open work: the reasons, no form.
    waiting = page.locator("[data-person-link]")
    page.goto(f"/ops/people?q={scene.waiting[-11:]}")
    waiting.first.click()
    expect(page.locator('[data-person-erase] [data-blocker="open_work"]')).to_be_visible()
    expect(page.locator("[data-erase-form]")).to_have_count(0)
