"""A brand owner creates a campaign through the step-by-step form on a phone, submits it
(the budget goes into escrow), and an operator approves it on the approval queue, also
on a phone; the campaign is then live."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from uuid import UUID

import httpx
import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.e2e.conftest import ARTIFACTS, VIEWPORTS
from tests.e2e.test_foundation_journey import PASSWORD, fits_the_screen, register_by_api, sign_in
from tests.e2e.test_sandbox_journey import run_async
from xingdong.core.db import Database
from xingdong.identity import service as identity
from xingdong.ledger import service as ledger
from xingdong.ledger.deposits import DEPOSITS_ACCOUNT, open_org_account, org_account
from xingdong.platforms.sandbox.demo import BRAND_HANDLE, seed_sandbox

pytestmark = pytest.mark.e2e

_phones = itertools.count(15900000000)
FUNDS = 50_000


def phone_page(browser: Browser, site: str) -> Page:
    context = browser.new_context(
        viewport=VIEWPORTS["phone"],  # type: ignore[arg-type]
        base_url=site,
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(10_000)
    return context.new_page()


@pytest.fixture
def two_phones(browser: Browser, site: str) -> Iterator[tuple[Page, Page]]:
    owner, operator = phone_page(browser, site), phone_page(browser, site)
    yield owner, operator
    owner.context.close()
    operator.context.close()


def brand_with_funds(site: str, database_url: str, owner_phone: str, operator_phone: str) -> str:
    """A brand organisation (made over the API) with a balance, an operator, and the
    sandbox platform's demo accounts."""
    with httpx.Client(base_url=site) as http:
        token = http.post(
            "/api/v1/auth/tokens", json={"phone": owner_phone, "password": PASSWORD}
        ).json()["access_token"]
        created = http.post(
            "/api/v1/orgs",
            json={"kind": "brand", "name": "星动美妆"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert created.status_code == 201, created.text
        org_id: str = created.json()["id"]

    async def seed(db: Database) -> None:
        async with db.session_scope() as session:
            await seed_sandbox(session)
            await identity.grant_staff_role(
                session, phone=operator_phone, role="operator", granted_by=None
            )
            await open_org_account(session, UUID(org_id))
            await ledger.transfer(
                session,
                ledger.TransferRequest(
                    f"e2e-fund-{org_id}",
                    DEPOSITS_ACCOUNT,
                    org_account(UUID(org_id)),
                    FUNDS,
                    "deposit",
                ),
            )

    run_async(database_url, seed)
    return org_id


def test_a_brand_creates_submits_and_an_operator_approves_on_phones(
    two_phones: tuple[Page, Page], site: str, database_url: str
) -> None:
    owner, operator = two_phones
    owner_phone, operator_phone = str(next(_phones)), str(next(_phones))
    register_by_api(site, owner_phone, "品牌店长")
    register_by_api(site, operator_phone, "运营小周")
    org_id = brand_with_funds(site, database_url, owner_phone, operator_phone)

    sign_in(owner, owner_phone)
    owner.goto(f"/orgs/{org_id}")
    # The brand links its account first: the platform knows no such handle, then lets
    # the brand claim its official account (nobody has yet).
    expect(owner.locator("[data-no-linked-accounts]")).to_be_visible()
    owner.fill("#link-handle", "@nobody_at_all")
    owner.locator("[data-link-account] button[type=submit]").click()
    expect(owner.locator("#link-handle")).to_have_value("@nobody_at_all")
    expect(owner.locator('[data-error-for="handle"]')).to_have_text("平台上未找到。")
    owner.fill("#link-handle", "@" + BRAND_HANDLE)
    owner.locator("[data-link-account] button[type=submit]").click()
    expect(owner.locator(f'[data-linked-account="{BRAND_HANDLE}"]')).to_be_visible()
    expect(owner.get_by_role("status").filter(has_text="账号已关联。")).to_be_visible()
    assert fits_the_screen(owner)
    owner.click("[data-org-campaigns]")
    owner.click("[data-new-campaign]")
    step = owner.locator
    expect(step('fieldset[data-step="1"]')).to_be_visible()
    expect(step('fieldset[data-step="2"]')).to_be_hidden()

    # Step 1: the task and its target, found on the platform before going on.
    owner.select_option("#task_type", "follow")
    owner.fill("#target", "@nobody_at_all")
    step('fieldset[data-step="1"] [data-go="2"]').click()
    expect(step("[data-target-error]")).to_be_visible()
    expect(step('fieldset[data-step="2"]')).to_be_hidden()
    owner.fill("#target", "@" + BRAND_HANDLE)
    step('fieldset[data-step="1"] [data-go="2"]').click()
    expect(step("[data-target-title]")).to_have_text("星动美妆官方号")

    # Step 2: what the campaign says.
    expect(step('fieldset[data-step="2"]')).to_be_visible()
    expect(step('fieldset[data-step="1"]')).to_be_hidden()
    # Nothing written yet: the next step waits, and says which fields are missing.
    step('fieldset[data-step="2"] [data-go="3"]').click()
    expect(step('fieldset[data-step="2"]')).to_be_visible()
    expect(step("#title-needed")).to_have_text("请先填写这一项，再进入下一步。")
    expect(step("#brief-needed")).to_be_visible()
    expect(step("#title")).to_be_focused()
    owner.fill("#title", "关注星动美妆，看新品上脸实测")
    owner.fill("#brief", "关注我们的账号，每周五晚八点有护肤直播。")
    owner.fill("#disclosure", "广告：本任务由星动美妆赞助")
    step('fieldset[data-step="2"] [data-go="3"]').click()
    expect(step("#title-needed")).to_be_hidden()

    # Step 3: budget, with the worker's reward and the escrow worked out as one types,
    # read as the server reads it: a decimal comma is no price (not ten times one), and
    # the profile ads' thousand-impressions hint stays hidden for a follow.
    expect(step("[data-cpm-hint]")).to_be_hidden()
    owner.fill("#quantity", "１０")
    owner.fill("#unit_price", "1,5")
    expect(step("[data-total]")).to_have_text("—")
    owner.fill("#unit_price", "2")
    owner.fill("#quantity", "2000")
    expect(step("[data-total]")).to_have_text("4,000.00")  # grouped, as the server writes
    owner.fill("#quantity", "１０")
    expect(step("[data-reward]")).to_have_text("1.60")
    expect(step("[data-fee]")).to_have_text("0.40")
    expect(step("[data-total]")).to_have_text("20.00")
    assert fits_the_screen(owner)
    # A quantity the server would refuse is caught before the next step.
    for typed in ("-5", "0", "abc", "2.5"):
        owner.fill("#quantity", typed)
        step('fieldset[data-step="3"] [data-go="4"]').click()
        expect(step("#quantity-needed")).to_contain_text("1 到")
        expect(step('fieldset[data-step="3"]')).to_be_visible()
    owner.fill("#quantity", "１０")
    # An end before the start is caught before the next step.
    starts = owner.input_value("#starts_at")
    ends = owner.input_value("#ends_at")
    owner.fill("#ends_at", starts)
    step('fieldset[data-step="3"] [data-go="4"]').click()
    expect(step("#ends_at-needed")).to_have_text("结束时间必须晚于开始时间。")
    owner.fill("#ends_at", ends)
    step('fieldset[data-step="3"] [data-go="4"]').click()

    # Step 4: who and how fast; then the whole campaign is checked on the server.
    step('input[name=interests][value="美妆"]').check()
    owner.fill("#pacing_per_hour", "30")
    step("[data-review]").click()

    # Step 5: the check found nothing; the cost is shown; create the draft.
    expect(step("[data-review-step]")).to_be_visible()
    expect(step('fieldset[data-step="4"]')).to_be_hidden()
    expect(step("[data-findings-clear]")).to_be_visible()
    expect(step("[data-review-total]")).to_have_attribute("data-review-total", "2000")
    assert fits_the_screen(owner)
    step("[data-create]").click()

    expect(step('h1 [data-campaign-status="draft"]')).to_be_visible()
    # Funding asks first, naming what moves.
    asked: list[str] = []

    def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    owner.once("dialog", accept)
    step("[data-submit-campaign]").click()
    expect(step('h1 [data-campaign-status="pending_approval"]')).to_be_visible()
    assert len(asked) == 1 and "20.00" in asked[0], asked
    expect(step('[data-progress="escrow"]')).to_have_text("20.00")
    assert fits_the_screen(owner)
    campaign_url = owner.url.split("?")[0]

    # The operator finds it in the approval queue and approves it.
    sign_in(operator, operator_phone)
    operator.goto("/ops/campaigns")
    card = operator.locator("[data-ops-campaign]", has_text="关注星动美妆")
    expect(card).to_be_visible()
    expect(card.locator("[data-findings-clear]")).to_be_visible()
    assert fits_the_screen(operator)
    card.locator("textarea[name=note]").fill("文案合规，定向合理")
    operator.once("dialog", lambda dialog: dialog.accept())  # the decision is confirmed
    card.locator("[data-approve]").click()
    expect(operator.locator("[data-queue-empty]")).to_be_visible()
    operator.screenshot(path=str(ARTIFACTS / "campaign-approved-operator-phone.png"))

    owner.goto(campaign_url)
    expect(step('h1 [data-campaign-status="live"]')).to_be_visible()
    expect(step("[data-decision-note]")).to_contain_text("文案合规，定向合理")
    expect(step("[data-pause]")).to_be_visible()
    owner.screenshot(path=str(ARTIFACTS / "campaign-live-owner-phone.png"), full_page=True)

    # The list of campaigns shows its pace against the plan, on the phone too.
    owner.locator('a[href$="/campaigns"]', has_text="←").first.click()
    row = owner.locator("tr[data-campaign]").first
    expect(row.locator("[data-pace]")).to_be_visible()
    assert fits_the_screen(owner)
    owner.screenshot(path=str(ARTIFACTS / "campaigns-list-owner-phone.png"), full_page=True)
